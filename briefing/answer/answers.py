"""Answers: which source sentences answer a ``Question``, each of its parts, and nothing else.

A sentence answers a (part of a) question when, read with its article's headline (and, for a feed
item, the rest of the item):
- it mentions every name the question is about ("Belmont" is not answered from Arlen);
- it gives what the question asks for (``Question.asks``): a figure of what is counted, in the
  unit family asked ("how many decades" is answered by "20 years"), a loss figure only when losses
  are asked about; a sum of money; an age; a date; a person or place the question does not name;
  what the owner said, by the owner ("What did Ruiz say" is not answered by Lopez);
- it covers enough of the question's distinctive words (IDF-weighted, ``thresholds.toml [answers]``).

The answer is the best such sentence and those close behind it that add something, at most
``[answers] most_sentences``; for "latest" questions, the newest report first and older ones marked
as earlier. A part no sentence answers is named, so the tool says which part the sources leave open.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import regex

from briefing import lexicon
from briefing.answer.checks import speakers, subjects_of
from briefing.answer.focus import CURRENCY, MEASURES, SPEECH, answers_target, counts_asked
from briefing.answer.generate import ANSWER, MONTH_BEFORE, Candidate, candidate_sentences, disagreements
from briefing.answer.question import Question, question_language, shown_word, table
from briefing.models import DraftSentence, Evidence
from briefing.terms import STOPWORDS, Token, content_terms, matches, name_like, number_mentions, tokens
from briefing.text import split_sentences, text_key

EARLIER = "Earlier reports"
"""The section that holds older reports of what a "latest" question asks for."""


def _setting(name: str) -> float:
    return lexicon.threshold("answers", name)


@dataclass
class Answered:
    """The drafted answer: sentences for ``ANSWER`` (and ``EARLIER``), and the parts no source answers."""

    sentences: list[DraftSentence] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass
class Scored:
    candidate: Candidate
    score: float


# --- what a sentence must hold ----------------------------------------------------------------


@functools.cache
def _loss_terms() -> frozenset[str]:
    return frozenset(t for word in table()["losses"] for t in content_terms(word)) | frozenset(table()["losses"])


@functools.cache
def _unit_family() -> dict[str, str]:
    return {t: family for family, units in table()["unit_families"].items() for unit in units for t in content_terms(unit)}


@functools.cache
def _age_marker() -> re.Pattern[str]:
    markers = "|".join(re.escape(m) for m in table()["age_markers"])
    return re.compile("|".join([rf"\b({markers})\b", *table()["age_patterns"]]), re.I)


@functools.cache
def _date_patterns() -> dict[str, regex.Pattern[str]]:
    """What states a date, by how precise it is: a month ("in May", "March"), a year, a day
    ("on Tuesday", "December 3", "yesterday"). "May" counts only where it reads as the month."""
    dates = lexicon.english()["dates"]
    months = [group[0] for group in dates["months"] if group[0] != "may"]
    short = [n for group in dates["months"] for n in group[1:]]  # "Nov." or "Nov 21", not "Mar-a-Lago"
    month = (rf"\b(?i:{'|'.join(months)})\b|\b(?i:{'|'.join(short)})(?:\.|(?= [0-3]?\d\b))"
             r"|(?<=\b(?i:in|on|of|by|since|until|early|late|mid|last|this|next) )May\b|\bMay(?= \d)")
    days = [n for group in dates["weekdays"] for n in group if len(n) > 3] + list(dates["relative"])
    named_days = "|".join(re.escape(d) for d in sorted(days, key=len, reverse=True))
    day = rf"\b(?i:{named_days})\b|\b\d{{4}}-\d\d-\d\d\b|(?:{month})\.? [0-3]?\d\b|\b[0-3]?\d (?:{month})"
    return {"month": regex.compile(month), "year": regex.compile(r"\b(19|20)\d\d\b"), "day": regex.compile(day)}


def _gives_date(question: Question, text: str) -> bool:
    """A date as precise as asked: "which month" wants a month, "what year" a year, "what day" a
    day; "when" any of them."""
    wanted = _DATE_PRECISION.search(question.text)
    patterns = _date_patterns()
    if wanted:
        return bool(patterns[wanted.group(1).casefold()].search(text))
    return any(p.search(text) for p in patterns.values())


_DATE_PRECISION = re.compile(r"\b(?:what|which) (month|year|day)\b", re.I)


@functools.cache
def _month_names() -> dict[str, int]:
    return {name: number for number, group in enumerate(lexicon.english()["dates"]["months"], start=1) for name in group}


def same_month(question: Question, text: str, published: datetime | None = None) -> bool:
    """False when the question's words name a month (or a day of one) and ``text`` names months,
    none of them that one ("in November" is not answered by "...per day in October"), or when
    ``text`` was published after the month the question names and does not name it: a later
    report is about that month only when it says so (a report of a named day may come the day after
    and say "on Thursday")."""
    asked = set(question.time.months)
    if not asked:
        return True
    named_until, since = question.time.named_until, question.time.since
    whole_month = named_until is not None and since is not None and (named_until - since).days >= 27
    if whole_month and published is not None and named_until is not None and published > named_until:
        return any(_month_names().get(m.group(0).casefold().rstrip(".")) in asked for m in _date_patterns()["month"].finditer(text))
    named = {_month_names()[m.group(0).casefold().rstrip(".")] for m in _date_patterns()["month"].finditer(text)
             if m.group(0).casefold().rstrip(".") in _month_names()}
    return not named or bool(named & asked)


@functools.cache
def _country_terms() -> frozenset[str]:
    return frozenset(country.term for country in lexicon.countries())


def _asks_losses(question: Question) -> bool:
    return bool(content_terms(question.text) & _loss_terms())


def gives_asked(question: Question, text: str, context: str, lower: frozenset[str] = frozenset()) -> bool:
    """Whether ``text`` (read with ``context``, its headline and item) gives what ``question`` asks
    for. ``lower``: words seen in lower case in what was read, which a capital does not make a name
    (headlines capitalize every word)."""
    asks = question.asks
    if asks == "money":
        return bool(CURRENCY.search(text)) and bool(re.search(r"\d", text))
    if asks == "figure":
        return _gives_figure(question, text, context)
    if asks == "age":
        return bool(_age_marker().search(text)) and bool(re.search(r"\b\d{1,3}\b", text))
    if asks == "date":
        return _gives_date(question, text)
    if asks in ("person", "place"):
        return _names_other(question, text, lower)
    if asks == "statement":
        return bool(SPEECH.search(text)) or bool(SPEECH.search(context.partition("\n")[0]))
    target = question.focus.target
    if asks == "thing" and target is not None:
        if target.category and target.words[-1].casefold() not in _MEASURE_WORDS:
            # "Which village..." is answered by a name; "which football club" with "football" stated
            return answers_target(target, f"{context}\n{text}", question.text) and _names_other(question, text, lower)
        if target.words[-1].casefold() in MEASURES:  # "the rouble's exchange rate" is not the key rate
            return answers_target(target, f"{context}\n{text}", question.text)
        return True  # "Which post...": "director of national intelligence" need not say "post" (scored)
    return True


_MEASURE_WORDS = MEASURES | {"percentage", "share", "number", "amount"}


def _gives_figure(question: Question, text: str, context: str) -> bool:
    """A figure of what is counted (named in the sentence or its context), in the unit family asked,
    and no loss figure for a question that does not ask about losses; what is counted named in the
    sentence or its context, or an acronym after the figure (headlines abbreviate: "190 POWs")."""
    found = stated_figures(text) or _vague_figures(text)
    if not found:
        return False
    if not _asks_losses(question):  # "30 Peruvian troops killed" counts losses, however far the verb
        losses = {value for value, following in stated_figures(text, int(_setting("loss_reach"))) if following & _loss_terms()}
        found = [f for f in found if not (f[1] & _loss_terms()) and f[0] not in losses]
        if not found:
            return False
    asked_states = {t.term for t in question.focus.counted} & _country_terms()
    if asked_states:  # "How many Chilean troops" is not answered by "11,000 Peruvian troops"
        found = [f for f in found if not (f[1] & _country_terms()) or f[1] & asked_states]
        if not found:
            return False
    asked_units = {_unit_family()[t.term] for t in question.focus.counted if t.term in _unit_family()}
    if asked_units:
        return any({_unit_family().get(t) for t in subject} & asked_units for _, subject in found)
    return not question.focus.counted or counts_asked(question.focus, f"{text}\n{context}") or bool(_ACRONYM_COUNT.search(text))


_ACRONYM_COUNT = re.compile(r"\d[\d,.]*\s+[A-Z]{2,}s?\b")  # "190 POWs": an acronym may be what is counted


def stated_figures(text: str, reach: int = 2) -> list[tuple[float, frozenset[str]]]:
    """The figures ``text`` states, in digits or words ("one year", "3,000 troops"), each with the
    first ``reach`` content terms after it (what it counts); years and days of a month left out."""
    out = []
    for mention in number_mentions(text):
        written = text[mention.start : mention.end]
        if (1900 <= mention.value <= 2100 and written.isdigit()) or MONTH_BEFORE.search(text[max(0, mention.start - 6) : mention.start]):
            continue
        following = re.sub(r"^[\s\d,.–-]*(to|and|or)?[\s\d,.–-]*", "", text[mention.end : mention.end + 60])
        subject = [t.term for t in tokens(following) if t.term not in STOPWORDS and len(t.term) > 1][:reach]
        out.append((mention.value, frozenset(subject)))
    return out


@functools.cache
def _vague_pattern() -> re.Pattern[str]:
    phrases = sorted(table()["vague_quantities"], key=len, reverse=True)
    return re.compile(rf"\b({'|'.join(map(re.escape, phrases))})\b", re.I)


def _vague_figures(text: str) -> list[tuple[float, frozenset[str]]]:
    """Quantities without a number ("several hundred soldiers"), each with what it counts; value 0."""
    out = []
    for match in _vague_pattern().finditer(text):
        following = [t.term for t in tokens(text[match.end() : match.end() + 60]) if t.term not in STOPWORDS and len(t.term) > 1]
        out.append((0.0, frozenset(following[:2])))
    return out


def _names_target(question: Question, text: str, context: str) -> bool:
    """A what/which question whose sentence (or context) states the thing asked for."""
    target = question.focus.target
    return question.asks == "thing" and target is not None and answers_target(target, f"{context}\n{text}", question.text)


def _names_counted(question: Question, text: str, context: str) -> bool:
    """A figure question whose sentence (or context) names what is counted."""
    return question.asks == "figure" and bool(question.focus.counted) and counts_asked(question.focus, f"{text}\n{context}")


def _names_other(question: Question, text: str, lower: frozenset[str]) -> bool:
    """Whether ``text`` names someone or something the question does not: a capitalized word that
    is not a stopword, a month or a word seen in lower case in what was read, nor one of the
    question's. A sentence's first word, and any word of a headline that capitalizes most words,
    counts when it is seen capitalized mid-sentence in what was read (``lower`` holds those as
    "^Word") or does not look like an inflected word ("Replaces", "Occupied", "Partly"); a first
    word that is a common English word (``common_words``: "Queue") does not."""
    asked = {t.term for group in question.names for t in group} | question.terms | question.context  # the whole question's
    found = tokens(text)
    title_case = is_title_case(text)

    def is_name(t: Token) -> bool:
        if not t.entity or t.word.casefold() in lower or t.term in STOPWORDS or len(t.term) < 2:
            return False
        if _date_patterns()["month"].fullmatch(t.word) or matches(t.term, asked):
            return False
        if "^" + t.word in lower or not (t.initial or title_case):
            return True
        if t.initial and t.word.casefold() in common_words():
            return False  # "Queue at the port grows": a common word opens the sentence
        return name_like(replace(t, initial=True))  # headline capitals: "Replaces", "Partly" are no names

    return any(is_name(t) for t in found)


@functools.cache
def common_words() -> frozenset[str]:
    """Common English words: the whole-word entries of the packaged MiniLM's WordPiece vocabulary
    (30,522 entries; rare names such as "Brandvold" are split into pieces and are not in it)."""
    from briefing.embedding.minilm import packaged_minilm_path

    vocabulary = (packaged_minilm_path() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in vocabulary if w.isalpha() and not w.startswith("##"))


def is_title_case(text: str) -> bool:
    """Whether ``text`` capitalizes most of its longer words, as many headlines do: its capitals
    then say nothing about names or subjects."""
    long_words = [t for t in tokens(text) if len(t.word) > 3]
    return bool(long_words) and sum(t.word[:1].isupper() for t in long_words) >= _setting("title_case_share") * len(long_words)


def _lower_words(evidence: Sequence[Evidence]) -> frozenset[str]:
    """The words written in lower case somewhere in ``evidence`` (common words, not names), and,
    marked "^Word", those capitalized mid-sentence (names)."""
    bodies = [_body(e) for e in evidence]
    lower = {w for body in bodies for w in _LOWER_WORD.findall(body)}
    capitalized = {"^" + w for body in bodies for w in _MID_CAPITAL.findall(body)}
    return frozenset(lower | capitalized)


def _body(evidence: Evidence) -> str:
    """A chunk's text without the headline a first chunk begins with (headlines capitalize words)."""
    first, _, rest = evidence.text.partition("\n")
    return rest if evidence.start == 0 and text_key(first) == text_key(evidence.title) else evidence.text


_LOWER_WORD = re.compile(r"\b[a-z][a-z'’-]+\b")
_MID_CAPITAL = regex.compile(r"(?<=[\p{Ll},;] )\p{Lu}[\p{L}\p{M}-]+")


def names_met(question: Question, context_terms: frozenset[str], common: frozenset[str] = frozenset(),
              lower: frozenset[str] = frozenset(), text: str = "") -> bool:
    """Every name group of the question is mentioned, but those ``common`` in the store ("Chile"
    over reports from Chile): they are the background, not what the answer must be about. A
    person's last name stands for the name ("Brandvold", "Belmont" of "Chile's Belmont
    region"); a name that ends in a common word (one seen in lower case, ``lower``: "International
    Criminal Court") needs all its words, or its initials as an acronym in ``text`` ("ICC")."""
    return all(_mentioned(group, context_terms, lower, text) for group in question.names if _head(group) not in common)


def _mentioned(group: Sequence[Token], context_terms: frozenset[str], lower: frozenset[str], text: str) -> bool:
    words = [t for t in group if len(t.term) > 1]
    if len(words) < 2 or words[-1].word.casefold() not in lower:
        return matches(_head(group), context_terms)
    if all(matches(t.term, context_terms) for t in words):
        return True
    acronym = "".join(t.word[0] for t in group if t.word[:1].isupper())
    return len(acronym) >= 2 and re.search(rf"\b{acronym}\b", text) is not None


def _head(group: Sequence[Token]) -> str:
    """The term that stands for a name: its last word of two letters or more ("Vamin" of "Vamin R")."""
    return next((t.term for t in reversed(group) if len(t.term) > 1), group[-1].term)


def common_names(question: Question, idf: dict[str, float]) -> frozenset[str]:
    """The terms of the question's names that at least ``[answers] common_share`` of the store's
    chunks hold, by their IDF (``idf``, BM25's formula over keyword tokens)."""
    from briefing.store.keyword import tokenize

    share = _setting("common_share")
    ceiling = math.log(1 + (1 - share) / share)  # the IDF of a token in that share of N chunks, for large N
    common = set()
    for group in question.names:
        head = next((t for t in reversed(group) if len(t.term) > 1), group[-1])
        found = [idf[w] for w in tokenize(head.word) if w in idf]
        if found and max(found) <= ceiling:
            common.add(head.term)
    return frozenset(common)


def roles_met(question: Question, context_terms: frozenset[str]) -> bool:
    """Every role the question names ("the mayor", "the health minister") is stated with the sentence."""
    return all(all(matches(t, context_terms) for t in role.terms) for role in question.focus.roles)


def owner_met(question: Question, text: str, context_terms: frozenset[str]) -> bool:
    """The owner of the asked statement or figure is named by the sentence, or by its context
    (``context_terms``: the headline and the chunk, "Ruiz says ..." over a one-sentence item); a
    role it names ("the mayor") by the sentence itself."""
    pools = (content_terms(text), context_terms)
    if question.owner_role and not any(matches(t, pools[0]) for t in content_terms(question.owner_role)):
        return False  # "What did the mayor say" is answered by the mayor's words, in the sentence
    if not question.owners:
        return True
    return any(owner and all(matches(t, pool) for t in owner) for owner in map(_head_terms, question.owners) for pool in pools)


def same_agent(question: Question, text: str, headline: str) -> bool:
    """False when the sentence (or its headline) gives the question's verb another named subject:
    "How many ships did Chile return?" is not answered by "Peru returned 5 ships"."""
    if not question.agent or not question.verb:
        return True
    subjects = subjects_of(text, question.verb, is_title_case(text)) | subjects_of(headline, question.verb, is_title_case(headline))
    return not subjects or bool(subjects & set(question.agent))


def said_by_owner(question: Question, text: str, context: str) -> bool:
    """For "What did X say...": X is the speaker of the sentence or of its headline ("Ruiz said",
    "according to Ruiz", "..., says ministry"), its first name ("Ministry Calls Report 'Fake'"),
    or the sentence reports speech without naming its speaker and X is mentioned. Other questions pass."""
    if question.asks != "statement" or not question.owners:
        return True
    headline = context.partition("\n")[0]
    heads = [_head_terms(owner) for owner in question.owners]
    for piece in (text, headline):
        said = speakers(piece)
        if any(head and all(matches(t, said.named) for t in head) for head in heads):
            return True
        if said.unnamed and any(head and all(matches(t, content_terms(piece)) for t in head) for head in heads):
            return True
        if any(re.search(rf"{_SAYS_BEFORE}\s+(the\s+)?{re.escape(owner.split()[-1])}\b", piece, re.I) for owner in question.owners):
            return True  # "..., says ministry": the speaker after the verb
        if any(head and head <= _leading_names(piece) for head in heads):
            return True  # "Ministry Calls Report 'Fake'", "Secretary General Ana Ruiz decried...": the owner is the subject
    return False


def _leading_names(text: str) -> frozenset[str]:
    """The terms of the run of capitalized words (names and titles) a sentence opens with."""
    run = []
    for token in tokens(text):
        if not token.word[:1].isupper():
            break
        run.append(token.term)
    return frozenset(run)


_SAYS_BEFORE = r"\b(" + "|".join(w for w in lexicon.english()["roles"]["speech"] if " " not in w) + ")"


def _head_terms(name: str) -> frozenset[str]:
    """The terms a mention of ``name`` must hold: its last word ("Ruiz" of "Ana Ruiz")."""
    found = [t.term for t in tokens(name) if t.term not in STOPWORDS]
    return frozenset(found[-1:])


# --- scoring -----------------------------------------------------------------------------------


def term_weights(question: Question, idf: dict[str, float]) -> dict[str, float]:
    """Each content term of the question with its IDF in the store (``idf``, keyword tokens): a term
    no chunk holds weighs as the rarest, a function word of the question's language nothing."""
    from briefing.store.keyword import tokenize

    function_words = set(table()["languages"].get(question.language, ())) if question.language else set()
    rarest = max(idf.values(), default=1.0)
    floor = _setting("idf_floor")  # in a store of one long article every name is in every chunk
    weights: dict[str, float] = {}
    for token in tokens(question.text):
        if token.term not in question.terms or token.word.casefold() in function_words:
            continue
        found = [idf[w] for w in tokenize(token.word) if w in idf]
        weights[token.term] = max(weights.get(token.term, 0.0), floor + (sum(found) / len(found) if found else rarest))
    for group in question.names:  # a name is mentioned by its last word: "Ruiz" for "Ana Ruiz"
        head = _head(group)
        parts = [t.term for t in group if t.term in weights and t.term != head]
        if head in weights and parts:
            weights[head] = max([weights[head], *(weights.pop(t) for t in parts)])
    return weights


def coverage(weights: dict[str, float], pool: frozenset[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if matches(t, pool)) / total if total else 0.0


def _context(candidate: Candidate) -> str:
    """What a sentence is read with: its article's headline, and the whole of a short feed item."""
    item = candidate.evidence
    whole_item = item.start == 0 and len(split_sentences(item.text)) <= int(_setting("item_sentences"))
    return f"{item.title}\n{item.text if whole_item else ''}"


Similarity = Callable[[list[str]], list[float]]
"""The embedding cosine of each text to the question (``compose`` makes it from the embedder)."""


def score_candidates(question: Question, candidates: list[Candidate], weights: dict[str, float],
                     similarity: Similarity, common: frozenset[str] = frozenset(), lower: frozenset[str] = frozenset()) -> list[Scored]:
    """The candidates that answer ``question``, best first (see the module docstring). Only the
    sentences that pass the checks of names, owner, month and what is asked are embedded."""
    passed = []
    read_with: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {}  # per chunk: context, its terms, the article's
    for candidate in candidates:
        item = candidate.evidence
        if item.key not in read_with:
            context = _context(candidate)
            # "His campaign website..." is Brandvold's; "gave the BBC an interview" is the BBC's item
            article = content_terms(context) | content_terms(item.text) | content_terms(item.publisher or "")
            read_with[item.key] = (context, content_terms(context), article)
        context, item_terms, article_terms = read_with[item.key]
        context_terms = candidate.terms | item_terms
        if not names_met(question, candidate.terms | article_terms, common, lower, f"{context}\n{item.text}"):
            continue
        if not same_month(question, f"{candidate.shown}\n{item.title}", item.published):
            continue
        if not owner_met(question, candidate.shown, article_terms) or not roles_met(question, context_terms):
            continue
        if not gives_asked(question, candidate.shown, context, lower) or not said_by_owner(question, candidate.text, context):
            continue
        if not same_agent(question, candidate.text, item.title):
            continue
        passed.append((candidate, context, coverage(weights, candidate.terms), coverage(weights, context_terms)))
    # Only the likeliest are embedded (each embedding costs about 1.5 ms here): by words, then by their chunk's cosine.
    passed.sort(key=lambda p: -(p[2] + p[3] + (p[0].evidence.similarity or 0.0)))
    passed = passed[: int(_setting("embedded_candidates"))]
    cosines = similarity([c.text for c, *_ in passed]) if passed else []  # the sentence itself, not what it leans on
    out = []
    for (candidate, context, own, read), cosine in zip(passed, cosines):
        if cosine < _setting("min_similarity") and (own <= 0 or read < _setting("min_coverage") or cosine < _setting("similarity_floor")):
            continue  # a sentence sharing none of the question's words answers only as a close paraphrase
        score = (_setting("own_weight") * own + _setting("read_weight") * read + _setting("similarity_weight") * cosine
                 + (_setting("headline_penalty") if candidate.headline else 0.0)
                 + (_setting("counted_bonus") if _names_counted(question, candidate.shown, context) else 0.0)
                 + (_setting("target_bonus") if _names_target(question, candidate.shown, context) else 0.0))
        out.append(Scored(candidate, score))
    return sorted(out, key=lambda s: (-s.score, s.candidate.order))


# --- choosing ----------------------------------------------------------------------------------


def answer_sentences(question: Question, evidence: Sequence[Evidence], idf: dict[str, float],
                     similarity: Similarity) -> Answered:
    """The drafted answer to each part of ``question`` from ``evidence`` (see the module docstring)."""
    answered = Answered()
    used: set[str] = set()
    whole = term_weights(question, idf)
    for part in question.asked():
        weights = term_weights(part, idf)
        context = {t: w for t, w in whole.items() if t not in weights} if question.parts else {}
        share = _setting("part_context_weight")  # "...and who shot them down?" is about what the whole question is about
        candidates = candidate_sentences(part.text, list(evidence), answering=True)
        scored = score_candidates(part, candidates, weights | {t: share * w for t, w in context.items()}, similarity,
                                  common_names(part, idf), _lower_words(evidence))
        if context and _REFERS_BACK.search(part.text):  # "them": some of the first part's words must be there
            scored = [s for s in scored if coverage(context, s.candidate.terms | content_terms(s.candidate.evidence.title))
                      >= _setting("part_context_coverage")]
        picks = _choose(part, scored, used)
        if picks and part.asks in ("figure", "money") and not part.time.latest:
            losses = _asks_losses(part)  # the other side of a count of losses is a count of losses too
            floor = scored[0].score * _setting("side_ratio") if scored else 0.0  # the other side answers the question too
            sides = [c for c in scored if (not losses or c.candidate.terms & _loss_terms()) and c.score >= floor]
            picks += [(ANSWER, side) for side in _other_side(sides, [p for _, p in picks])]
        if not picks:
            answered.unanswered.append(part.text)
            answered.reasons.append(_why_not(part))
            continue
        for section, pick in picks:
            used.add(text_key(pick.candidate.shown))
            answered.sentences.append(pick.candidate.draft(section))
    answered.sentences = _without_contained(answered.sentences)
    return answered


_REFERS_BACK = re.compile(r"\b(them|they|it|its|he|him|his|she|her|their|theirs|this|that|these|those)\b", re.I)


def _without_contained(drafts: list[DraftSentence]) -> list[DraftSentence]:
    """The drafts, less any whose text another draft shows in full (a headline picked alone, and
    again as the sentence before a pick that leans on it): the longer one stays, in the earlier place."""
    keys = [text_key(d.text) for d in drafts]
    out: list[DraftSentence] = []
    placed: set[int] = set()
    for i, draft in enumerate(drafts):
        container = next((j for j, key in enumerate(keys) if j != i and len(key) > len(keys[i]) and f" {keys[i]} " in f" {key} "), None)
        if container is None:
            if i not in placed:
                out.append(draft)
                placed.add(i)
        elif container not in placed:
            out.append(drafts[container])
            placed.add(container)
    return out


def _other_side(scored: list[Scored], picked: list[Scored]) -> list[Scored]:
    """When answering sentences of two articles give different figures for the same thing and the
    picks show only one side: the sentences of the widest such disagreement that are not picked."""
    by_candidate = {id(s.candidate): s for s in scored}
    pairs = disagreements([s.candidate for s in scored], 1)
    shown = {id(p.candidate) for p in picked}
    if not pairs or all(id(c) in shown for c in pairs[0]):
        return []
    return [by_candidate[id(c)] for c in pairs[0] if id(c) not in shown]


def _choose(question: Question, scored: list[Scored], used: set[str]) -> list[tuple[str, Scored]]:
    fresh = [s for s in scored if text_key(s.candidate.shown) not in used]
    if not fresh:
        return [(ANSWER, s) for s in scored[:1]] if scored else []
    best = fresh[0].score
    close = [s for s in fresh if s.score >= best * _setting("close_ratio")]
    limit = int(_setting("most_sentences")) if question.asks in ("event", "reason", "thing", "statement") else 2
    if question.time.latest:  # a newer report may say less about the rest of the question
        recent = [s for s in fresh if s.score >= best * _setting("latest_ratio")]
        if question.asks == "figure" and any(stated_figures(s.candidate.shown) for s in recent):
            recent = [s for s in recent if stated_figures(s.candidate.shown)]  # "thousands" is no latest figure beside "11,000"
        return _latest_first(recent)
    chosen: list[Scored] = []
    for item in close:
        if len(chosen) == limit:
            break
        if any(_repeats(item, c) for c in chosen):
            continue
        chosen.append(item)
    return [(ANSWER, c) for c in chosen]


def _latest_first(close: list[Scored]) -> list[tuple[str, Scored]]:
    """The newest close answer, then up to ``[answers] earlier_reports`` older ones, marked earlier."""
    dated = sorted(close, key=lambda s: (s.candidate.date, s.score), reverse=True)
    newest = dated[0]
    earlier: list[Scored] = []
    for item in dated[1:]:
        if len(earlier) == int(_setting("earlier_reports")):
            break
        if item.candidate.date < newest.candidate.date and not any(_repeats(item, c) for c in [newest, *earlier]):
            earlier.append(item)
    return [(ANSWER, newest)] + [(EARLIER, e) for e in earlier]


def _repeats(a: Scored, b: Scored) -> bool:
    """The same report twice: most terms shared, and no figure of its own."""
    terms_a, terms_b = a.candidate.terms, b.candidate.terms
    jaccard = len(terms_a & terms_b) / len(terms_a | terms_b) if terms_a | terms_b else 1.0
    new_figures = {v for v, _ in a.candidate.figures} - {v for v, _ in b.candidate.figures}
    return jaccard >= _setting("repeat_jaccard") and not new_figures


_WHAT = {
    "figure": "a figure", "money": "a sum of money", "age": "an age", "date": "a date", "person": "a name",
    "place": "a place", "reason": "a reason", "statement": "what was said", "event": "what happened",
    "yes-no": "an answer", "thing": "what was asked",
}


def _why_not(question: Question) -> str:
    """What no source states, in words: "a figure for troops from the ministry about Belmont",
    "what the mayor said about the storm"."""
    owner = question.owner
    what = f"what {owner} said" if question.asks == "statement" and owner else _WHAT[question.asks]
    counted = _COUNTED.search(question.text)
    if question.asks in ("figure", "money") and counted:
        what += f" for {counted.group(1)}"
    if owner and question.asks != "statement":
        what += f" from {question.owner}"
    said = content_terms(question.owner) | {t.term for t in question.focus.counted}
    about = [" ".join(map(shown_word, g)) for g in question.names if not any(t.term in said for t in g)]
    return what + (" about " + ", ".join(dict.fromkeys(about)) if about else "")


_COUNTED = re.compile(r"\bhow (?:many|much) (.+?) (?:did|does|do|is|are|was|were|has|have|had|will|would|can|could)\b", re.I)


def answers_some_part(question: Question, text: str, cited: str, pool: Sequence[Evidence]) -> bool:
    """Whether a model's sentence answers a part of ``question``: the part's names (read with the
    ``cited`` text), what it asks for, and enough of its words (weighted by IDF over ``pool``)."""
    terms = content_terms(text)
    read = terms | content_terms(cited)
    idf = _pool_idf(pool)
    return any(names_met(part, read) and gives_asked(part, text, cited)
               and coverage(term_weights(part, idf), read) >= _setting("min_coverage") for part in question.asked())


def _pool_idf(pool: Sequence[Evidence]) -> dict[str, float]:
    """IDF of keyword tokens over ``pool`` (BM25's formula), for checks without the store at hand."""
    from briefing.store.keyword import tokenize

    documents = [set(tokenize(f"{e.title} {e.text}")) for e in pool]
    counts: dict[str, int] = {}
    for document in documents:
        for token in document:
            counts[token] = counts.get(token, 0) + 1
    n = len(documents)
    return {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in counts.items()}


def in_language(question: Question, pool: list[Evidence]) -> tuple[list[Evidence], str | None]:
    """The chunks of ``pool`` in the question's language (or of no clear language), and, when none
    is, why the question cannot be answered: the lexical checks and the embedders read one language."""
    if not question.language:
        return pool, None
    languages = [question_language(f"{e.title}. {e.text}") for e in pool]
    kept = [e for e, code in zip(pool, languages) if code in ("", question.language)]
    if kept or not pool:
        return kept, None
    source = max(set(languages), key=languages.count)
    names = table()["language_names"]
    return [], (f"the question is in {names.get(question.language, question.language)} and the sources are in "
                f"{names.get(source, source)}: questions in another language than the sources are not supported")
