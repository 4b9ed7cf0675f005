"""Support judges: does the cited text support a sentence? All share ``Judge``; each verdict has a
score and a reason.

``LexicalJudge`` is deterministic (no model): the checks of meaning (``checks.py``: figures, dates,
names, polarity, hedges, tense, quantifiers, causes, roles), then the share of content words the
cited text covers. ``LLMJudge`` asks a model for a verdict.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from typing import TYPE_CHECKING, Protocol

import numpy as np
from pydantic import BaseModel

from briefing import lexicon
from briefing.answer.checks import Problem, claim_problems, verbatim, windows
from briefing.errors import BriefingError
from briefing.models import Verdict
from briefing.terms import UNSPACED_RUN, Token, content_terms, matches, name_like, numbers, tokens

if TYPE_CHECKING:
    from briefing.chat import StructuredModel

logger = logging.getLogger(__name__)


class Judge(Protocol):
    name: str

    def judge(self, claim: str, sources: list[str]) -> Verdict: ...


# --- the lexical judge -----------------------------------------------------------------------


class LexicalJudge:
    """Deterministic support check; ``threshold`` is the share of claim terms the source must cover."""

    name = "lexical"

    def __init__(self, threshold: float | None = None):
        self.threshold = lexicon.threshold("lexical", "coverage") if threshold is None else threshold

    def judge(self, claim: str, sources: list[str]) -> Verdict:
        claim_terms = content_terms(claim)
        if not claim_terms:
            return self._verdict(False, 0.0, "the sentence states nothing checkable")
        source_text = "\n".join(sources)
        pool = content_terms(source_text)
        covered = {t for t in claim_terms if matches(t, pool)}
        coverage = len(covered) / len(claim_terms)
        problems = claim_problems(claim, sources)
        if problems:
            return self._verdict(False, round(coverage * 0.5, 3), "; ".join(p.message for p in problems))
        if coverage < self._threshold_for(claim_terms):
            missing = ", ".join(sorted(claim_terms - covered)[:5])
            return self._verdict(False, round(coverage, 3), f"only {coverage:.0%} of its content is in the source (missing: {missing})")
        return self._verdict(True, round(coverage, 3), f"{coverage:.0%} of its content words, all numbers and names are in the source")

    def _threshold_for(self, claim_terms: frozenset[str]) -> float:
        """The coverage a claim needs. Character pairs of Chinese, Japanese or Thai carry no capitals
        to flag a changed name or place ("南码头" for "北码头"), so a claim made mostly of them must be
        covered almost whole (0.9, where one changed character costs two pairs in ten)."""
        unspaced = sum(bool(UNSPACED_RUN.match(t)) for t in claim_terms)
        return max(self.threshold, lexicon.threshold("lexical", "unspaced_coverage")) if unspaced * 2 > len(claim_terms) else self.threshold

    def _verdict(self, supported: bool, score: float, reason: str) -> Verdict:
        return Verdict(supported=supported, score=score, reason=reason, judge=self.name)


def lexical_problems(claim: str, source_text: str) -> list[Problem]:
    """The checks of meaning (``checks.claim_problems``) of ``claim`` against one source text."""
    return claim_problems(claim, [source_text])


def _best_sentence(claim_terms: frozenset[str], source_text: str) -> str | None:
    """The source sentence (or pair of adjacent sentences) covering most of the claim's terms."""
    best, best_cover = None, 0.0
    for window in windows(source_text):
        pool = content_terms(window)
        cover = sum(matches(t, pool) for t in claim_terms) / len(claim_terms)
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
    for (i, a), (j, b) in itertools.pairwise(entities):
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

    def __init__(self, llm: StructuredModel):
        self.llm = llm

    def judge(self, claim: str, sources: list[str]) -> Verdict:
        from briefing.answer.prompting import render_prompt

        messages = [
            ("system", render_prompt("judge_system")),
            ("human", render_prompt("judge_user", claim=claim, source="\n\n".join(sources))),
        ]
        answer = self.llm.generate(messages, JudgeAnswer)
        return Verdict(supported=answer.supported, score=1.0 if answer.supported else 0.0,
                       reason=answer.reason, judge=self.name)


# --- the learned judge -----------------------------------------------------------------------

FEATURES = ("coverage", "window_coverage", "missing_numbers", "missing_names", "negation_differs",
            "swapped", "novel_terms", "bigram_overlap", "best_fuzzy", "claim_terms")


def _bigrams(text: str) -> set[tuple[str, str]]:
    terms = [t.term for t in tokens(text)]
    return set(itertools.pairwise(terms))


def judge_features(claim: str, sources: list[str]) -> np.ndarray:
    """Lexical evidence that ``sources`` support ``claim``, as numbers for a small linear model."""
    from rapidfuzz import fuzz

    source_text = "\n".join(sources)
    claim_terms = content_terms(claim)
    pool = content_terms(source_text)
    covered = sum(matches(t, pool) for t in claim_terms)
    n = max(len(claim_terms), 1)
    best = _best_sentence(claim_terms, source_text) if claim_terms else None
    best_terms = content_terms(best) if best else frozenset()
    claim_tokens, best_tokens = tokens(claim), tokens(best) if best else ()
    names = [t for t in claim_tokens if t.entity and name_like(t)]
    bigrams = _bigrams(claim)
    return np.array([
        covered / n,
        sum(matches(t, best_terms) for t in claim_terms) / n,
        float(bool(numbers(claim) - numbers(source_text))),
        sum(not matches(t.term, pool) for t in names) / max(len(names), 1),
        float(bool(best) and any(t.negation for t in claim_tokens) != any(t.negation for t in best_tokens)),
        float(bool(best) and _swapped_roles(list(claim_tokens), list(best_tokens)) is not None),
        np.log1p(n - covered),
        len(bigrams & _bigrams(source_text)) / max(len(bigrams), 1),
        fuzz.partial_ratio(claim.lower(), best.lower()) / 100 if best else 0.0,
        np.log1p(len(claim_terms)),
    ], dtype=np.float64)


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


def logistic(model: dict, features: np.ndarray) -> np.ndarray | float:
    """P(supported) of a fitted logistic regression (``mean``, ``scale``, ``weights``, ``bias``) on
    one feature vector or a matrix of them."""
    z = ((features - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["weights"]) + model["bias"]
    return 1 / (1 + np.exp(-z))


class LearnedJudge:
    """A logistic regression over ``judge_features``, fitted on human labels (see judge_eval.py)."""

    name = "learned"

    def __init__(self, model: dict | None = None):
        model = model or load_calibration().get("learned")
        if not model:
            from briefing.errors import ConfigError

            raise ConfigError("the learned judge has no weights: run `briefing eval judge --calibrate DEV.jsonl`")
        self.model = model
        self.threshold = float(model["threshold"])

    def probability(self, claim: str, sources: list[str]) -> float:
        return float(logistic(self.model, judge_features(claim, sources)))

    def judge(self, claim: str, sources: list[str]) -> Verdict:
        p = self.probability(claim, sources)
        supported = p >= self.threshold
        reason = f"learned support probability {p:.2f} {'≥' if supported else '<'} {self.threshold:.2f}"
        return Verdict(supported=supported, score=round(p, 4), reason=reason, judge=self.name)


# --- the model-backed judge ------------------------------------------------------------------


class ClaimVerdict(BaseModel):
    id: int
    supported: bool
    unsupported_part: str
    reason: str


class BatchVerdicts(BaseModel):
    verdicts: list[ClaimVerdict]


class ModelBackedJudge:
    """The checks of meaning first, then the chat model for what they cannot decide.

    A claim the checks reject (a figure, name or date not in the cited text, a flipped polarity, a
    dropped hedge...) is unsupported without a model call; a claim stated word for word is
    supported. The rest go to the model, all of a draft's at once when the verifier calls
    ``prepare`` (one call per draft, plus one per sentence a repair rewrote; the structured LLM
    caches them on disk), one by one otherwise. The prompt (``prompts/judge_batch_*.md``) asks for
    the words of the claim the source does not support, not for a bare yes or no. When the model
    call fails (a provider error, an answer that is not the schema), those sentences are judged by
    the offline judge instead, and the reason says so: a failed judge never stops a brief."""

    name = "model"

    def __init__(self, llm: StructuredModel):
        self.llm = llm
        self._verdicts: dict[tuple[str, tuple[str, ...]], Verdict] = {}
        self._fallback: Judge | None = None

    def prepare(self, pairs: list[tuple[str, list[str]]]) -> None:
        """Judge every (claim, cited sources) pair the checks leave open in one model call."""
        open_pairs = [(c, tuple(s)) for c, s in dict.fromkeys((c, tuple(s)) for c, s in pairs)
                      if (c, tuple(s)) not in self._verdicts and self._settled(c, list(s)) is None]
        if open_pairs:
            self._verdicts.update(zip(open_pairs, self._ask(open_pairs), strict=True))

    def judge(self, claim: str, sources: list[str]) -> Verdict:
        settled = self._settled(claim, sources)
        if settled is not None:
            return settled
        key = (claim, tuple(sources))
        if key not in self._verdicts:
            self.prepare([(claim, sources)])
        return self._verdicts[key]

    def _settled(self, claim: str, sources: list[str]) -> Verdict | None:
        problems = claim_problems(claim, sources)
        if problems:
            return self._verdict(False, 0.0, "; ".join(p.message for p in problems))
        if verbatim(claim, "\n".join(sources)):
            return self._verdict(True, 1.0, "stated word for word in the source")
        return None

    def _ask(self, pairs: list[tuple[str, tuple[str, ...]]]) -> list[Verdict]:
        from briefing.answer.prompting import render_prompt

        listed = "\n\n".join(f"Claim {i}: {claim}\nSource text:\n<source>\n{chr(10).join(sources)}\n</source>"
                             for i, (claim, sources) in enumerate(pairs, start=1))
        messages = [("system", render_prompt("judge_batch_system")), ("human", render_prompt("judge_batch_user", claims=listed))]
        try:
            answer = self.llm.generate(messages, BatchVerdicts)
        except BriefingError as exc:
            logger.warning("the model judge failed (%s); the offline judge decides instead", exc)
            return [self._offline(claim, list(sources), exc) for claim, sources in pairs]
        by_id = {v.id: v for v in answer.verdicts}
        out = []
        for i in range(1, len(pairs) + 1):
            given = by_id.get(i)
            if given is None:
                out.append(self._verdict(False, 0.0, "the model gave no verdict on this sentence"))
            elif given.supported:
                out.append(self._verdict(True, 1.0, f"the model found it supported: {given.reason}"))
            else:
                part = f"'{given.unsupported_part}' is not supported: " if given.unsupported_part.strip() else ""
                out.append(self._verdict(False, 0.0, f"{part}{given.reason}"))
        return out

    def _offline(self, claim: str, sources: list[str], exc: BaseException) -> Verdict:
        from briefing.answer.judges import OFFLINE_JUDGE, make_judge

        if self._fallback is None:
            self._fallback = make_judge(OFFLINE_JUDGE)
        verdict = self._fallback.judge(claim, sources)
        return verdict.model_copy(update={"reason": f"{verdict.reason} (offline judge: the model judge failed: {exc})"})

    def _verdict(self, supported: bool, score: float, reason: str) -> Verdict:
        return Verdict(supported=supported, score=score, reason=reason, judge=self.name)
