"""Support judges: does the cited text support a sentence? All share ``Judge``; each verdict has a
score and a reason.

``LexicalJudge`` is the deterministic default (no LLM): content words covered, numbers and named
entities present, negation and swapped roles caught. ``LLMJudge`` asks a model for a verdict.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from pydantic import BaseModel

from briefing.models import Verdict
from briefing.text import split_sentences


class Judge(Protocol):
    name: str

    def judge(self, claim: str, sources: list[str]) -> Verdict: ...


# --- terms -----------------------------------------------------------------------------------

STOPWORDS = frozenset(
    """a an and are as at be been being but by for from had has have he her hers him his i in is it
    its of on or our she that the their them they this those these to was we were what when where
    which who whom whose will with would you your also than then there into about over after before
    up out so if do does did can could may might must shall should just very more most such only own
    same other another any each both all some its it's said says say told according stated added
    noted while during since until per via one's yet however still already how why many much""".split()
)

# Words that mean the same in news reports, mapped to one term (after stemming).
_SYNONYM_GROUPS = [
    ("troop", "soldier", "forc", "personnel", "servicemen", "fighter"),
    ("kill", "dead", "die", "death", "fatal"),
    ("wound", "injur", "injuri", "hurt"),
    ("send", "sent", "deploy", "dispatch", "ship", "transfer"),
    ("estim", "assess", "assessment", "believ"),
    ("attack", "strike", "struck", "assault", "hit"),
    ("russia", "russian", "moscow", "kremlin"),
    ("ukrain", "ukrainian", "kyiv", "kiev"),
    ("pyongyang", "north_korea"),
    ("seoul", "south_korea"),
    ("us", "u.s", "american", "washington", "united_states"),
    ("nis", "spy", "intellig"),
    ("about", "around", "approxim", "roughly", "some", "nearli"),
]
_CANONICAL = {word: group[0] for group in _SYNONYM_GROUPS for word in group}
_MULTIWORD = [
    (re.compile(r"\bnorth korea(?:n|ns)?\b", re.I), "north_korea"),
    (re.compile(r"\bsouth korea(?:n|ns)?\b", re.I), "south_korea"),
    (re.compile(r"\bunited states\b", re.I), "united_states"),
    (re.compile(r"\bu\.s\.(?=\W|$)", re.I), "us"),
]
NEGATIONS = frozenset({"not", "no", "never", "n't", "none", "neither", "nor", "without", "deni", "deny", "refus", "reject"})
DIRECTIONAL = frozenset({"to", "from", "against", "into", "toward", "towards", "by"})
NOT_DIRECTIONAL_AFTER = frozenset({"according", "due", "up", "close", "next", "prior", "compared", "similar", "owing"})

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "fifty": 50,
    "hundred": 100, "thousand": 1000, "dozen": 12,
}  # fmt: skip
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(thousand|million|billion|trillion)\b)?", re.I)


@functools.cache
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@dataclass(frozen=True)
class Token:
    word: str
    term: str
    negation: bool
    entity: bool  # capitalized and not a stopword
    initial: bool  # first word of the text, where capitals say nothing about names
    directional: bool


def _normalize_multiword(text: str) -> str:
    for pattern, replacement in _MULTIWORD:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@functools.lru_cache(maxsize=50_000)
def tokens(text: str) -> tuple[Token, ...]:
    """Every word of ``text`` as a canonical term, with flags for negation, entity and direction.

    Cached: a judge sees the same cited text for many sentences."""
    text = _normalize_multiword(text.replace("’", "'"))
    out = []
    words = re.findall(r"n't|[A-Za-z_][A-Za-z_'.]*[A-Za-z_]|[A-Za-z]", text)
    for index, word in enumerate(words):
        lower = word.lower().strip("'.")
        lower = lower[:-2] if lower.endswith("'s") else lower
        stem = _stem(lower) if "_" not in lower else lower
        term = _CANONICAL.get(lower) or _CANONICAL.get(stem) or stem
        entity = (word[0].isupper() or "_" in lower) and lower not in STOPWORDS
        after = words[index - 1].lower() if index else ""
        directional = lower in DIRECTIONAL and after not in NOT_DIRECTIONAL_AFTER
        out.append(Token(word, term, stem in NEGATIONS or lower in NEGATIONS, entity, index == 0, directional))
    return tuple(out)


@functools.lru_cache(maxsize=50_000)
def content_terms(text: str) -> frozenset[str]:
    return frozenset(t.term for t in tokens(text) if t.term not in STOPWORDS and not t.negation and len(t.term) > 1)


def numbers(text: str) -> set[float]:
    """Numbers in ``text``: digits with separators, scales ("12 million") and small number words."""
    found = set()
    for match in _NUMBER.finditer(text):
        value = float(match.group(1).replace(",", ""))
        found.add(value * _SCALES.get((match.group(2) or "").lower(), 1))
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _NUMBER_WORDS:
            found.add(float(_NUMBER_WORDS[word]))
    return found


def _matches(term: str, pool: set[str]) -> bool:
    """Exact, or one a prefix of the other for longer words (Korea/Korean, Ukraine/Ukrainian)."""
    if term in pool:
        return True
    return len(term) >= 4 and any(len(p) >= 4 and (p.startswith(term) or term.startswith(p)) for p in pool)


# --- the lexical judge -----------------------------------------------------------------------


class LexicalJudge:
    """Deterministic support check; ``threshold`` is the share of claim terms the source must cover."""

    name = "lexical"

    def __init__(self, threshold: float = 0.7):
        self.threshold = threshold

    def judge(self, claim: str, sources: list[str]) -> Verdict:
        claim_terms = content_terms(claim)
        if not claim_terms:
            return self._verdict(False, 0.0, "the sentence states nothing checkable")
        source_text = "\n".join(sources)
        pool = content_terms(source_text)
        covered = {t for t in claim_terms if _matches(t, pool)}
        coverage = len(covered) / len(claim_terms)
        problems = self._problems(claim, source_text, claim_terms)
        if problems:
            return self._verdict(False, round(coverage * 0.5, 3), "; ".join(problems))
        if coverage < self.threshold:
            missing = ", ".join(sorted(claim_terms - covered)[:5])
            return self._verdict(False, round(coverage, 3), f"only {coverage:.0%} of its content is in the source (missing: {missing})")
        return self._verdict(True, round(coverage, 3), f"{coverage:.0%} of its content words, all numbers and names are in the source")

    def _problems(self, claim: str, source_text: str, claim_terms: set[str]) -> list[str]:
        problems = []
        missing_numbers = numbers(claim) - numbers(source_text)
        if missing_numbers:
            problems.append("number not in the source: " + ", ".join(f"{n:g}" for n in sorted(missing_numbers)))
        pool = content_terms(source_text)
        claim_tokens = tokens(claim)
        missing_entities = sorted(
            {t.word for t in claim_tokens if t.entity and _name_like(t) and not _matches(t.term, pool)}
        )
        if missing_entities:
            problems.append("name not in the source: " + ", ".join(missing_entities))
        best = _best_sentence(claim_terms, source_text)
        if best is not None:
            best_tokens = tokens(best)
            if any(t.negation for t in claim_tokens) != any(t.negation for t in best_tokens):
                problems.append("negation differs from the source")
            swapped = _swapped_roles(claim_tokens, best_tokens)
            if swapped:
                problems.append(f"{swapped[0]} and {swapped[1]} are in opposite roles in the source")
        return problems

    def _verdict(self, supported: bool, score: float, reason: str) -> Verdict:
        return Verdict(supported=supported, score=score, reason=reason, judge=self.name)


_COMMON_SHAPE = re.compile(r"(s|ing|ly|ed)$", re.I)


def _name_like(token: Token) -> bool:
    """A capitalized word that is probably a name. The first word of a sentence is capitalized
    anyway, so there only singular words that don't look like verbs or adverbs count
    ("China said...", not "Officials said..." or "Heavily armed...")."""
    return not token.initial or (len(token.word) >= 3 and not _COMMON_SHAPE.search(token.word))


_DATE_WORDS = frozenset("""january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday""".split())


def question_names(text: str) -> list[list[Token]]:
    """Names in ``text``: runs of adjacent name-like capitalized words ("Emmanuel Macron" is one),
    leaving out months and weekdays, which sources state as publish dates rather than in text."""
    groups: list[list[Token]] = []
    previous = -2
    for index, token in enumerate(tokens(text)):
        if not (token.entity and _name_like(token)) or token.term in STOPWORDS or token.word.lower().strip(".") in _DATE_WORDS:
            continue
        if index == previous + 1 and groups:
            groups[-1].append(token)
        else:
            groups.append([token])
        previous = index
    return groups


def missing_names(text: str, sources: list[str]) -> list[str]:
    """Names in ``text`` (see ``question_names``) that no source mentions (any word of a name counts)."""
    pool = content_terms("\n".join(sources))
    missing = [g for g in question_names(text) if not any(_matches(t.term, pool) for t in g)]
    return list(dict.fromkeys(" ".join(t.word for t in g).replace("_", " ") for g in missing))


@functools.lru_cache(maxsize=5_000)
def _windows(source_text: str) -> tuple[str, ...]:
    sentences = split_sentences(source_text)
    return tuple(sentences + [f"{a} {b}" for a, b in zip(sentences, sentences[1:])])


def _best_sentence(claim_terms: frozenset[str], source_text: str) -> str | None:
    """The source sentence (or pair of adjacent sentences) covering most of the claim's terms."""
    best, best_cover = None, 0.0
    for window in _windows(source_text):
        pool = content_terms(window)
        cover = sum(_matches(t, pool) for t in claim_terms) / len(claim_terms)
        if cover > best_cover + 1e-9 or (abs(cover - best_cover) < 1e-9 and best and len(window) < len(best)):
            best, best_cover = window, cover
    return best if best_cover >= 0.5 else None


_PASSIVE = re.compile(r"\b(is|are|was|were|be|been|being)\s+(\w+ly\s+)?\w+(ed|en|wn|nt|ne)\b", re.I)


def _swapped_roles(claim: list[Token], source: list[Token]) -> tuple[str, str] | None:
    """Two entities joined by a directional word ("X sent troops to Y") in reverse order in the source.

    A passive agent ("sent to Y by X") expects the reverse order, so "by" between them flips the test.
    """
    first_seen: dict[str, int] = {}
    for position, token in enumerate(source):
        first_seen.setdefault(token.term, position)
    entities = [(i, t) for i, t in enumerate(claim) if t.entity]
    for (i, a), (j, b) in zip(entities, entities[1:]):
        between = claim[i + 1 : j]
        if a.term == b.term or not any(t.directional for t in between):
            continue
        if a.term not in first_seen or b.term not in first_seen:
            continue
        passive = any(t.word.lower() == "by" for t in between) and _PASSIVE.search(" ".join(t.word for t in claim))
        if (first_seen[a.term] > first_seen[b.term]) != bool(passive):
            return a.word.replace("_", " "), b.word.replace("_", " ")
    return None


# --- the LLM judge ---------------------------------------------------------------------------


class JudgeAnswer(BaseModel):
    supported: bool
    reason: str


class LLMJudge:
    """Asks a model (through ``StructuredLLM``) for a supported/unsupported verdict with a reason."""

    name = "llm"

    def __init__(self, llm):
        self.llm = llm

    def judge(self, claim: str, sources: list[str]) -> Verdict:
        from briefing.prompting import render_prompt

        messages = [
            ("system", render_prompt("judge_system")),
            ("human", render_prompt("judge_user", claim=claim, source="\n\n".join(sources))),
        ]
        answer = self.llm.generate(messages, JudgeAnswer)
        return Verdict(supported=answer.supported, score=1.0 if answer.supported else 0.0,
                       reason=answer.reason, judge=self.name)  # fmt: skip


def make_judge(name: str, llm=None) -> Judge:
    """``lexical`` (default, no LLM) or ``llm`` (needs a model provider, not extractive)."""
    from briefing.errors import ConfigError

    if name == "lexical":
        return LexicalJudge()
    if name == "llm":
        if llm is None:
            raise ConfigError("the llm judge needs a model: use --provider openai or local, or --judge lexical")
        return LLMJudge(llm)
    raise ConfigError(f"unknown judge '{name}' (choose lexical or llm)")


# --- the learned judge -----------------------------------------------------------------------

FEATURES = ("coverage", "window_coverage", "missing_numbers", "missing_names", "negation_differs",
            "swapped", "novel_terms", "bigram_overlap", "best_fuzzy", "claim_terms")  # fmt: skip


def _bigrams(text: str) -> set[tuple[str, str]]:
    terms = [t.term for t in tokens(text)]
    return set(zip(terms, terms[1:]))


def judge_features(claim: str, sources: list[str]) -> np.ndarray:
    """Lexical evidence that ``sources`` support ``claim``, as numbers for a small linear model."""
    from rapidfuzz import fuzz

    source_text = "\n".join(sources)
    claim_terms = content_terms(claim)
    pool = content_terms(source_text)
    covered = sum(_matches(t, pool) for t in claim_terms)
    n = max(len(claim_terms), 1)
    best = _best_sentence(claim_terms, source_text) if claim_terms else None
    best_terms = content_terms(best) if best else frozenset()
    claim_tokens, best_tokens = tokens(claim), tokens(best) if best else ()
    names = [t for t in claim_tokens if t.entity and _name_like(t)]
    bigrams = _bigrams(claim)
    return np.array([
        covered / n,
        sum(_matches(t, best_terms) for t in claim_terms) / n,
        float(bool(numbers(claim) - numbers(source_text))),
        sum(not _matches(t.term, pool) for t in names) / max(len(names), 1),
        float(bool(best) and any(t.negation for t in claim_tokens) != any(t.negation for t in best_tokens)),
        float(bool(best) and _swapped_roles(list(claim_tokens), list(best_tokens)) is not None),
        np.log1p(n - covered),
        len(bigrams & _bigrams(source_text)) / max(len(bigrams), 1),
        fuzz.partial_ratio(claim.lower(), best.lower()) / 100 if best else 0.0,
        np.log1p(len(claim_terms)),
    ], dtype=np.float64)  # fmt: skip


def calibration_path():
    from importlib import resources

    return resources.files("briefing").joinpath("judge_calibration.json")


@functools.cache
def load_calibration() -> dict:
    """Thresholds and weights fitted by `briefing eval judge --calibrate DEV.jsonl` (shipped in the package)."""
    import json

    try:
        return json.loads(calibration_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


class LearnedJudge:
    """A logistic regression over ``judge_features``, fitted on human labels (see judge_eval.py)."""

    name = "learned"

    def __init__(self, model: dict | None = None):
        model = model or load_calibration().get("learned")
        if not model:
            from briefing.errors import ConfigError

            raise ConfigError("the learned judge has no weights: run `briefing eval judge --calibrate DEV.jsonl`")
        self.mean = np.array(model["mean"])
        self.scale = np.array(model["scale"])
        self.weights = np.array(model["weights"])
        self.bias = float(model["bias"])
        self.threshold = float(model["threshold"])

    def probability(self, claim: str, sources: list[str]) -> float:
        z = ((judge_features(claim, sources) - self.mean) / self.scale) @ self.weights + self.bias
        return float(1 / (1 + np.exp(-z)))

    def judge(self, claim: str, sources: list[str]) -> Verdict:
        p = self.probability(claim, sources)
        supported = p >= self.threshold
        reason = f"learned support probability {p:.2f} {'≥' if supported else '<'} {self.threshold:.2f}"
        return Verdict(supported=supported, score=round(p, 4), reason=reason, judge=self.name)
