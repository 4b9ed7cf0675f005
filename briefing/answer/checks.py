"""Checks of meaning: does a claim say what its cited sentences say, part by part?

The claim is cut into clauses; each clause is aligned with the cited sentence (or two adjacent
sentences) that holds most of its content terms. Then the aligned parts are compared, kind by kind:

- ``number``: each figure of the claim is in the cited text, with the same thing counted after it
  ("1,000 wounded" is not "1,000 killed"), and dates are not figures ("Sept. 12" is no 12);
- ``date``: each month, day, year and weekday of the claim is in the cited text;
- ``name``: each name of the claim is in the cited text, as written or as a variant
  (abbreviations, "Aug." for "August", another name of the same state from ``countries.tsv``);
- ``negation``: a clause and its aligned source have the same polarity (negations and negating
  words counted, so "did not rule out" is positive), and no opposite replaces the source's word;
- ``hedge``: the claim keeps a hedge or a speaker when its aligned source has one;
- ``tense``: planned or expected in the source stays planned in the claim, and the reverse;
- ``quantifier``: bounds on figures agree ("at least" is not "exactly"), scope is not widened
  ("some" -> "all", "one of" -> "the only"), vague magnitudes agree, no "first" or "record" added;
- ``cause``: the claim states no cause or purpose where the cited text states none;
- ``roles``: who did what to whom is not reversed, and the one who said it is one who said it in
  the source.

Every word list and cut is in ``briefing/lexicon``. A check that cannot align a clause stays
silent: what it cannot compare it leaves to the judge's model.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import NamedTuple

from briefing import lexicon
from briefing.answer.focus import ROLES
from briefing.lexicon import PhraseList, phrase_list, phrase_words, phrases
from briefing.terms import (
    SENTENCE_OPENERS,
    STOPWORDS,
    Token,
    content_terms,
    matches,
    name_like,
    number_mentions,
    tokens,
)
from briefing.text import split_sentences

CHECKS = ("number", "date", "name", "negation", "hedge", "tense", "quantifier", "cause", "roles")


class Problem(NamedTuple):
    check: str  # one of CHECKS
    message: str


# --- text analysis ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    value: float
    unit: str  # "%", "points" or ""
    bound: str  # "lower", "upper", "approximate", "exact" or ""
    counted: frozenset[str]  # content terms naming what it counts
    text: str
    measure: str = ""  # the unit right after it ("day", "kilometre", "dollar"), from the lexicon's units
    paired: bool = False  # one end of a score or range ("3-1", "11,000 to 12,000"): it counts nothing alone


@dataclass(frozen=True)
class Reading:
    """What the checks need of one piece of text, computed once (cached by text)."""

    text: str
    words: tuple[str, ...]
    terms: frozenset[str]
    figures: tuple[Figure, ...]
    dates: frozenset[str]


_CLAUSE_BREAK = re.compile(r"\s*(?:[;:—–]|,(?!\d{3})|\s-\s)\s*|\s+(?=(?:but|while|whereas|although|though)\b)", re.I)
_YEAR = re.compile(r"(?<![\d,.$€£])(19\d\d|20\d\d)(?!\d|,\d)"
                   r"(?!\s+(?!(?:and|or|to|when|after|before|as|in|on|at|that|with|but|while|until|from|for|by)\b)[a-z])")
"""A year: four digits from 1900 to 2099 not followed by a word they count ("2000 troops")."""
_DAY_AFTER_MONTH = r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b"
_DAY_BEFORE_MONTH = r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"


@functools.cache
def _month_patterns() -> list[tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], int]]:
    """(month alone, month then day, day then month, month number). Month names are capitalised
    ("march" is a verb, "mar" another); "May" alone is a modal as often as a month, so it counts
    only with a day or a year."""
    out = []
    for number, names in enumerate(lexicon.english()["dates"]["months"], start=1):
        alternatives = "|".join(f"{n[0].upper()}{n[1:]}" for n in sorted(names, key=len, reverse=True))
        name = rf"\b(?:{alternatives})\b"
        alone = r"\bMay(?=\s+(?:19|20)\d\d\b)" if names == ["may"] else name
        out.append((re.compile(alone), re.compile(name + _DAY_AFTER_MONTH), re.compile(_DAY_BEFORE_MONTH + name), number))
    return out


@functools.cache
def _weekday_pattern() -> tuple[re.Pattern[str], dict[str, int]]:
    names = {n: i for i, group in enumerate(lexicon.english()["dates"]["weekdays"]) for n in group}
    return re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b\.?", re.I), names


@functools.lru_cache(maxsize=20_000)
def dates_in(text: str) -> tuple[frozenset[str], tuple[tuple[int, int], ...]]:
    """The dates ``text`` states as keys ("m11", "m11d4", "y2024", "w0") and the character spans
    they cover (so their digits are not read as figures). Cached: a cited text is read by several
    checks."""
    keys: set[str] = set()
    spans: list[tuple[int, int]] = []
    for plain, day_after, day_before, month in _month_patterns():
        for match in itertools.chain(day_after.finditer(text), day_before.finditer(text)):
            keys.add(f"m{month}d{int(match.group(1))}")
            spans.append(match.span())
            second = _SECOND_DAY.match(text, match.end())  # "Dec. 14 and 15", "Oct. 8-13"
            if second and match.re is day_after:
                keys.add(f"m{month}d{int(second.group(1))}")
                spans.append(second.span())
        for match in plain.finditer(text):
            keys.add(f"m{month}")
            spans.append(match.span())
    for match in _YEAR.finditer(text):
        keys.add(f"y{match.group(1)}")
        spans.append(match.span())
    pattern, names = _weekday_pattern()
    for match in pattern.finditer(text):
        word = match.group(1).casefold()
        if word in names and (len(word) > 3 or match.group(1)[0].isupper()):
            keys.add(f"w{names[word]}")
            spans.append(match.span())
    for phrase in phrases("dates", "relative").find(phrase_words(text)):
        keys.add("r:" + phrase[2])
    return frozenset(keys), tuple(spans)


_SECOND_DAY = re.compile(r"\s*(?:and|to|or|through|-|–)\s*(\d{1,2})(?:st|nd|rd|th)?\b"
                         r"(?=\s*(?:[.,;:)]|$)|\s+(?:in|on|at|and|when|that|as|after|before)\b)", re.I)
_PAIRED_AFTER = re.compile(r"\s*(?:[-–]|to)\s*\d")
_PAIRED_BEFORE = re.compile(r"\d\s*(?:[-–]|to)\s*$")
_UNIT_AFTER = re.compile(r"\s*(%|per\s?cent|percent|percentage points?|points?|pp)\b", re.I)


def _fraction_figures(text: str) -> list[tuple[float, int, int]]:
    """Fractions in words that take a share of something ("a fifth of", "half the"), as percentages."""
    out = []
    for phrase, value in lexicon.english()["fractions"].items():
        for match in re.finditer(rf"(?<!first )(?<!second )(?<!last )(?<!other )\b{re.escape(phrase)}\b(?=\s+(?:of|the)\b)", text, re.I):
            out.append((float(value), match.start(), match.end()))
    return out


def _pronoun_like(text: str, value: float, start: int, end: int) -> bool:
    """"one" and "two" written as words ("one of the heaviest", "the two countries") mostly count
    nothing a source states as a figure."""
    return value in (1.0, 2.0) and not text[start:end][:1].isdigit()


def _bound_before(text: str, start: int, end: int) -> str:
    before = phrase_words(text[max(0, start - 40) : start])
    after = phrase_words(text[end : end + 20])[:3]
    for kind, name in (("lower", "lower_bounds"), ("upper", "upper_bounds"), ("approximate", "approximate"), ("exact", "exact")):
        entries = phrases("quantity", name)
        for _hit_start, hit_end, _ in entries.find(before):
            if hit_end == len(before) or (hit_end == len(before) - 1 and before[-1] in {"a", "an", "the"}):
                return kind
        if any(s == 0 for s, _, _ in entries.find(after)):
            return kind
    return ""


COUNTED_REACH = 200
"""Characters on either side of a figure searched for what it counts (its clause is shorter)."""


def _counted(text: str, start: int, end: int, size: int) -> frozenset[str]:
    """Content terms just after a figure, within its clause (else those of its clause before it)."""
    after = _CLAUSE_BREAK.split(text[end : end + COUNTED_REACH], maxsplit=1)[0]
    after = re.split(r"\d", after, maxsplit=1)[0]
    terms = [t.term for t in tokens(after) if _is_content(t)][:size]
    if terms:
        return frozenset(terms)
    before = _CLAUSE_BREAK.split(text[max(0, start - COUNTED_REACH) : start])[-1]
    before = re.split(r"\d", before)[-1]
    return frozenset(t.term for t in tokens(before) if _is_content(t))


@functools.cache
def _units() -> dict[str, str]:
    return {word: group[0] for group in lexicon.english()["quantity"]["units"] for word in group}


def _measure(text: str, start: int, end: int) -> str:
    """The unit a figure is in: the word after it (past "square", "cubic"), or a currency sign before it."""
    units = _units()
    before = text[max(0, start - 2) : start].strip()
    if before and before[-1] in units:
        return units[before[-1]]
    after = phrase_words(text[end : end + 40])
    modifiers = set(lexicon.english()["quantity"]["unit_modifiers"])
    words = [w for w in after[:3] if w not in modifiers]
    prefix = "square " if after[:1] and after[0] in modifiers else ""
    return prefix + units[words[0]] if words and words[0] in units else ""


def _is_content(token: Token) -> bool:
    return token.term not in STOPWORDS and token.word.casefold() not in STOPWORDS and not token.negation and len(token.term) > 1


@functools.lru_cache(maxsize=20_000)
def read(text: str) -> Reading:
    """Words, terms, figures (with unit, bound and thing counted) and dates of ``text``."""
    dates, spans = dates_in(text)
    size = int(lexicon.threshold("alignment", "counted_terms"))
    figures = []
    fractions = _fraction_figures(text)
    fraction_spans = {(s, e) for _, s, e in fractions}
    mentions = [(m.value, m.start, m.end) for m in number_mentions(text)] + fractions
    for value, start, end in mentions:
        if any(s <= start < e for s, e in spans) or _pronoun_like(text, value, start, end):
            continue
        unit_match = _UNIT_AFTER.match(text, end)
        unit = ""
        if unit_match:
            unit = "points" if "point" in unit_match.group(1).lower() or unit_match.group(1).lower() == "pp" else "%"
        elif (start, end) in fraction_spans:
            unit = "%"
        paired = bool(_PAIRED_AFTER.match(text, end) or _PAIRED_BEFORE.search(text[max(0, start - 6) : start]))
        figures.append(Figure(value, unit, _bound_before(text, start, end), _counted(text, start, end, size), text[start:end],
                              _measure(text, start, end), paired))
    return Reading(text, phrase_words(text), content_terms(text), tuple(figures), dates)


def clauses(text: str) -> list[str]:
    """``text`` cut at clause breaks (commas, semicolons, dashes, "but", "while"), with pieces of
    fewer than two content terms joined to the piece before."""
    out: list[str] = []
    for piece in _CLAUSE_BREAK.split(text):
        if not piece or not piece.strip():
            continue
        if (out and len(content_terms(piece)) < 2) or (out and len(content_terms(out[-1])) < 2):
            out[-1] = f"{out[-1]}, {piece}"
        else:
            out.append(piece)
    return out or [text]


# --- alignment -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=5_000)
def windows(source_text: str) -> tuple[str, ...]:
    """Each sentence of the cited text and each pair of adjacent sentences."""
    sentences = split_sentences(source_text) or [source_text]
    return tuple(sentences + [f"{a} {b}" for a, b in itertools.pairwise(sentences)])


def cover(terms: frozenset[str], pool: frozenset[str]) -> float:
    return sum(matches(t, pool) for t in terms) / len(terms) if terms else 0.0


def best_cover(piece: str, source_text: str) -> float:
    """The largest share of ``piece``'s content terms that one window of ``source_text`` holds."""
    terms = content_terms(piece)
    return max((cover(terms, content_terms(w)) for w in windows(source_text)), default=0.0) if terms else 0.0


def align(piece: str, source_text: str) -> str | None:
    """The window of ``source_text`` holding most of ``piece``'s content terms (the shorter on a
    tie), or None when none holds ``alignment.min_cover`` of them."""
    terms = content_terms(piece)
    if not terms:
        return None
    best, best_cover = None, 0.0
    for window in windows(source_text):
        share = cover(terms, content_terms(window))
        if share > best_cover + 1e-9 or (abs(share - best_cover) < 1e-9 and best is not None and len(window) < len(best)):
            best, best_cover = window, share
    return best if best_cover >= lexicon.threshold("alignment", "min_cover") else None


# --- the checks ------------------------------------------------------------------------------


def claim_problems(claim: str, sources: list[str]) -> list[Problem]:
    """Every way ``claim`` departs from the cited ``sources`` that the checks above can see, one
    ``Problem`` per kind (the first instance found)."""
    source_text = "\n".join(sources)
    pieces = [(piece, align(piece, source_text)) for piece in clauses(claim)]
    whole = align(claim, source_text)
    aligned = [w for w in dict.fromkeys([whole, *(w for _, w in pieces)]) if w]
    found: dict[str, Problem] = {}
    for check in (_figures, _dates, _names, _polarity, _modality, _quantifiers, _cause, _roles):
        for problem in check(claim, source_text, pieces, aligned):
            found.setdefault(problem.check, problem)
    return list(found.values())


Pieces = list[tuple[str, str | None]]


def _same_value(a: Figure, b: Figure) -> bool:
    if a.value == b.value:
        return True
    tolerance = lexicon.threshold("alignment", "fraction_tolerance")
    loose = a.unit == "%" and b.unit == "%" and (a.bound or b.bound or not a.text[:1].isdigit() or not b.text[:1].isdigit())
    return loose and abs(a.value - b.value) <= max(tolerance * max(a.value, b.value), 0.5)


_SCORE = re.compile(r"\b\d+\s*[-–]\s*\d+\b")  # a score or a range ("3-1"): its figures count nothing apart
_BOUND_CONFLICTS = {("lower", "upper"), ("lower", "exact"), ("upper", "exact"), ("exact", "approximate"), ("lower", "approximate")}


def _figures(claim: str, source_text: str, pieces: Pieces, aligned: list[str]) -> list[Problem]:
    problems = []
    source_figures = [f for sentence in (split_sentences(source_text) or [source_text]) for f in read(sentence).figures]
    years = {float(key[1:]) for key in dates_in(source_text)[0] if key.startswith("y")}
    for piece, window in pieces:
        local = read(window).figures if window else ()
        for figure in read(piece).figures:
            same = [f for f in local if _same_value(figure, f)] or [f for f in source_figures if _same_value(figure, f)]
            if not same and figure.value in years:
                continue  # "since 1962 put..." reads 1962 as a count; the source has it as a year
            if not same:
                problems.append(Problem("number", f"{figure.text} is not in the cited text"))
                continue
            if figure.unit and all(f.unit and f.unit != figure.unit for f in same):
                problems.append(Problem("number", f"{figure.text} {figure.unit}: the cited text gives {same[0].text} {same[0].unit}"))
            counted = [f for f in same if not f.counted or not figure.counted or _overlaps(figure.counted, f.counted)
                       or _SCORE.search(piece)]
            if _counts_something_else(figure, same, source_figures):
                problems.append(Problem("number", f"{figure.text} counts {' '.join(sorted(figure.counted))} in the claim but "
                                                  f"{' '.join(sorted(same[0].counted))} in the cited text"))
                continue
            counted = counted or same
            pair = {(figure.bound, f.bound) for f in counted}
            if all((a, b) in _BOUND_CONFLICTS or (b, a) in _BOUND_CONFLICTS for a, b in pair):
                stated = f"{counted[0].bound} {counted[0].text}"
                problems.append(Problem("quantifier", f"'{figure.bound} {figure.text}' where the cited text has '{stated}'"))
    return problems


def _counts_something_else(figure: Figure, same: list[Figure], source_figures: list[Figure]) -> bool:
    """The figure is in another unit than the source's same figure ("30 weeks" for "30 days"), or
    counts what another figure of the source counts and not what this one counts ("1,000 killed"
    where the source has "100 killed and 1,000 wounded")."""
    measured = [f.measure for f in same if f.measure]
    if figure.measure and measured and figure.measure not in measured:
        return True
    if figure.paired or not figure.counted or any(f.paired or not f.counted or _overlaps(figure.counted, f.counted) for f in same):
        return False
    return any(not _same_value(figure, g) and g.counted and _overlaps(figure.counted, g.counted) for g in source_figures)


def _overlaps(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(matches(t, b) for t in a)


def _dates(claim: str, source_text: str, pieces: Pieces, aligned: list[str]) -> list[Problem]:
    claim_dates = read(claim).dates
    source_dates = dates_in(source_text)[0]
    missing = sorted(d for d in claim_dates if d not in source_dates and not d.startswith("r:"))
    # A month with a day counts when the source states the same day of that month.
    missing = [d for d in missing if not (re.fullmatch(r"m\d+", d) and any(s.startswith(d + "d") for s in source_dates))]
    relative = sorted(d[2:] for d in claim_dates if d.startswith("r:") and d not in source_dates)
    source_relative = [d for d in source_dates if d.startswith("r:")]
    problems = []
    if missing:
        problems.append(Problem("date", "a date not in the cited text: " + ", ".join(_date_label(d) for d in missing)))
    elif relative and source_relative:
        problems.append(Problem("date", f"'{relative[0]}' where the cited text says '{source_relative[0][2:]}'"))
    return problems


def _date_label(key: str) -> str:
    """"m11d4" -> "November 4", "y2023" -> "2023", "w0" -> "Monday"."""
    dates = lexicon.english()["dates"]
    match = re.fullmatch(r"m(\d+)(?:d(\d+))?", key)
    if match:
        month = dates["months"][int(match.group(1)) - 1][0].capitalize()
        return f"{month} {match.group(2)}" if match.group(2) else month
    if key.startswith("w"):
        return dates["weekdays"][int(key[1:])][0].capitalize()
    return key[1:]


@functools.cache
def _openers() -> frozenset[str]:
    """Words that open sentences without naming anyone: function words and bounds on figures."""
    return SENTENCE_OPENERS | STOPWORDS | _quantity_words()


_CONNECTORS = frozenset({"of", "the", "and", "for", "on", "de", "&"})


def _acronym_of(word: str, source_text: str) -> bool:
    """Whether ``word`` (in capitals, 2-6 letters) is the initials of a run of adjacent capitalised
    words of the source ("NSC" for "National Security Council"; "of", "the", "and" may join them)."""
    if not (2 <= len(word) <= 6 and word.isupper()):
        return False
    matches_ = list(re.finditer(r"[\w'&-]+", source_text))
    found = [m.group() for m in matches_]
    for start, first in enumerate(found):
        if not first[:1].isupper():
            continue
        initials = ""
        for index in range(start, len(found)):
            token = found[index]
            if index > start and source_text[matches_[index - 1].end() : matches_[index].start()].strip():
                break  # punctuation between: "France, Britain and Italy" is a list, not one name
            if token[:1].isupper():
                initials += token[0]
            elif token.casefold() not in _CONNECTORS:
                break
            if initials == word:
                return True
            if not word.startswith(initials):
                break
    return False


def _expanded_in(names: list[str], source_text: str) -> bool:
    """The claim's capitalised words are spelled out by an acronym of the source."""
    initials = "".join(n[0] for n in names if n[:1].isupper())
    return len(initials) >= 2 and re.search(rf"\b{re.escape(initials)}\b", source_text) is not None


def _names(claim: str, source_text: str, pieces: Pieces, aligned: list[str]) -> list[Problem]:
    pool = content_terms(source_text)
    lowered = {w.casefold() for w in re.findall(r"\w+", source_text)}
    claim_tokens = tokens(claim)
    runs: list[list[Token]] = []
    previous = -2
    for index, token in enumerate(claim_tokens):
        if not (token.entity and name_like(token)) or token.term in STOPWORDS:
            continue
        if token.initial and token.word.casefold() in _openers():
            continue
        if _month_of(token.word) or token.word.casefold().strip(".") in _weekday_pattern()[1]:
            continue  # the date check compares dates
        following = claim_tokens[index + 1] if index + 1 < len(claim_tokens) else None
        adjective = token.word.casefold() in _proper_adjectives() and not (following and following.entity)  # not "European Union"
        if len(token.word) < 2 or adjective or number_mentions(token.word):
            continue  # "F" (a unit), "Western allies", "Thirty drones": no one named
        if index == previous + 1 and runs:
            runs[-1].append(token)
        else:
            runs.append([token])
        previous = index
    missing: list[str] = []
    words = [t.word.casefold() for t in claim_tokens]
    locatives = lexicon.word_set("dates", "locative")
    for run in runs:
        word = run[0].word[:-1] if run[0].word.endswith("s") and run[0].word[:-1].isupper() else run[0].word  # "MPs"
        if len(run) == 1 and len(word) == 2 and word.isupper() and "_" not in run[0].term:
            continue  # "ID", "TV": two capitals are as often a common word as a name
        index = claim_tokens.index(run[0])
        place = index > 0 and (words[index - 1] in locatives or (index > 1 and words[index - 1] == "the" and words[index - 2] in locatives))
        absent = [t for t in run if not _name_found(t, pool, lowered, source_text, locative=place)]
        if absent and _expanded_in([t.word for t in run], source_text):
            continue
        missing.extend(t.word.replace("_", " ") for t in absent)
    return [Problem("name", "name not in the cited text: " + ", ".join(dict.fromkeys(missing)))] if missing else []


@functools.cache
def _places() -> frozenset[str]:
    """Capitals and seats of government, lower-cased: the names that may stand for a state."""
    return frozenset(n.casefold() for c in lexicon.countries() for n in (*c.capitals, *c.seats))


def _name_found(token: Token, pool: frozenset[str], lowered: set[str], source_text: str, locative: bool = False) -> bool:
    if token.word.casefold().strip(".") in lowered:
        return True
    if locative and token.word.casefold() in _places() and lowered & _places():
        return False  # "met in Madrid" where the source names another city: only the city itself supports it
    if matches(token.term, pool):
        return True
    if token.initial and token.word.casefold() in lowered:
        return True
    if _spelled_alike(token.word, lowered):
        return True
    month = _month_of(token.word)
    if month and any(_month_of(w) == month for w in re.findall(r"[A-Za-z]+", source_text)):
        return True
    return _acronym_of(token.word, source_text)


@functools.cache
def _proper_adjectives() -> frozenset[str]:
    return lexicon.word_set("words", "proper_adjectives")


NAME_SPELLING = 2
"""Edits by which a name of six letters or more may differ from the source's and still be it
(transliteration: "Tchaikovsky" and "Chaikovsky", "Gorbachev" and "Gorbachov")."""


def _spelled_alike(word: str, lowered: set[str]) -> bool:
    from rapidfuzz.distance import Levenshtein

    word = word.casefold().removesuffix("'s")
    return len(word) >= 6 and any(w[:1] == word[:1] and abs(len(w) - len(word)) <= NAME_SPELLING
                                  and Levenshtein.distance(w, word, score_cutoff=NAME_SPELLING) <= NAME_SPELLING for w in lowered)


def _month_of(word: str) -> int | None:
    lowered = word.casefold().strip(".")
    for number, names in enumerate(lexicon.english()["dates"]["months"], start=1):
        if lowered in names:
            return number
    return None


def polarity(text: str) -> int:
    """Parity of the negations in ``text`` (1 negative, 0 positive): negators, negating words
    ("denied", "unclear") and "non-" words; "neither ... nor" is one negation."""
    found = _without_bounds(phrase_words(text))
    hits = _longest(phrases("polarity", "negators").find(found))
    count = len(hits) - ("neither" in found and "nor" in found)
    count += sum(w.startswith("non-") for w in found)
    count += sum(1 for a, b in itertools.pairwise(found) if a == "without" and b.endswith("ing"))  # "without identifying"
    # "declined to comment" negates; "declined to 4%" is a fall.
    negating = [h for h in phrases("polarity", "negating_words").find(found)
                if not (h[2].endswith(" to") and h[1] < len(found) and (found[h[1]][:1].isdigit() or number_mentions(found[h[1]])))]
    # "ruled out" is one negating phrase, not "ruled" and "out": keep the longest hits that do not overlap.
    taken: set[int] = set()
    for start, end, _ in sorted(negating, key=lambda h: h[0] - h[1]):
        if not taken & set(range(start, end)):
            taken |= set(range(start, end))
            count += 1
    return count % 2


def _longest(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The longest hits that do not overlap ("stopped short of" once, not also as "stop short of")."""
    taken: set[int] = set()
    kept = []
    for start, end, entry in sorted(hits, key=lambda h: h[0] - h[1]):
        if not taken & set(range(start, end)):
            taken |= set(range(start, end))
            kept.append((start, end, entry))
    return kept


def _without_bounds(found: tuple[str, ...]) -> tuple[str, ...]:
    """Words with the bounds on figures blanked out: "no fewer than" negates nothing."""
    out = list(found)
    for name in ("lower_bounds", "upper_bounds"):
        for start, end, _ in phrases("quantity", name).find(found):
            if end < len(found) and (found[end][:1].isdigit() or number_mentions(found[end])):
                out[start:end] = ["_"] * (end - start)
    return tuple(out)


_COORDINATED = re.compile(r"\s+(?:and|but)\s+(?=(?:the|a|an|its|his|her|their|it|he|she|they|we|this|that|[A-Z])\b)")
"""Where "and" joins two clauses with subjects of their own ("cranes were damaged and the
terminal will stay closed")."""


def _source_clause(piece: str, window: str) -> str:
    """The clauses of ``window`` sharing most content terms with ``piece`` (those with at least half
    as many as the best): polarity and plans are compared there."""
    terms = content_terms(piece)
    parts = [p for c in clauses(window) for p in _COORDINATED.split(c) if p.strip()]
    shared = [(sum(matches(t, terms) for t in content_terms(c)), c) for c in parts]
    best = max((n for n, _ in shared), default=0)
    return " ".join(c for n, c in shared if n * 2 >= best and n) if best else window


@functools.cache
def _opposites() -> list[tuple[PhraseList, PhraseList]]:
    return [(PhraseList([a]), PhraseList([b])) for a, b in lexicon.english()["polarity"]["opposites"]]


def _polarity(claim: str, source_text: str, pieces: Pieces, aligned: list[str]) -> list[Problem]:
    for piece, window in pieces:
        if window is None:
            continue
        source = _source_clause(piece, window)
        if polarity(piece) != polarity(source):
            state = "negative" if polarity(piece) else "positive"
            return [Problem("negation", f"'{piece.strip()}' is {state} where the cited text is not")]
        claim_words, source_words = phrase_words(piece), phrase_words(source)
        for a, b in _opposites():
            for one, other in ((a, b), (b, a)):
                swapped = one.any_in(claim_words) and other.any_in(source_words)
                if swapped and not one.any_in(source_words) and not other.any_in(claim_words):
                    return [Problem("negation", f"'{one.entries[0]}…' where the cited text has '{other.entries[0]}…'")]
    return []


def without_dates(text: str) -> str:
    """``text`` with its dates (and any "May" capitalised mid-sentence) blanked out: the month
    "May" is no hedge."""
    for start, end in dates_in(text)[1]:
        text = text[:start] + " " * (end - start) + text[end:]
    return _MONTH_MAY.sub("   ", text)


_MONTH_MAY = re.compile(r"(?<=[a-z,] )May\b")
"""A capitalised "May" inside a sentence is the month, never the modal."""


def _modality(claim: str, source_text: str, pieces: Pieces, aligned: list[str]) -> list[Problem]:
    if not aligned:
        return []
    claim = without_dates(claim)
    pieces = [(without_dates(p), without_dates(w) if w else None) for p, w in pieces]
    aligned = [without_dates(w) for w in aligned]
    source_words = phrase_words(" ".join(aligned))
    claim_words = phrase_words(claim)
    problems = []
    hedges = phrases("modality", "hedges")
    one_window = len({w for _, w in pieces if w}) <= 1
    epistemic = phrases("modality", "epistemic")
    for piece, window in pieces:
        source_words_here = phrase_words(window) if window else ()
        source_hedges = _longest(hedges.find(source_words_here))
        claim_here = phrase_words(claim if one_window else piece)
        # Kept: an epistemic hedge for an epistemic one ("probably" for "likely"), any hedge for the others.
        kept = epistemic.any_in(claim_here) if epistemic.any_in(source_words_here) else hedges.any_in(claim_here)
        if source_hedges and not kept and not _hedged_before(piece, claim):
            problems.append(Problem("hedge", f"states as certain what the cited text hedges ('{source_hedges[0][2]}')"))
            break
    weak = phrases("modality", "weak_attributions").find(source_words)
    attributed = (phrases("modality", "attributions").any_in(claim_words) or hedges.any_in(claim_words)
                  or phrases("modality", "weak_attributions").any_in(claim_words) or _names_the_reporter(claim, " ".join(aligned)))
    if weak and not attributed:
        problems.append(Problem("hedge", f"states as fact what the cited text only reports ('{weak[0][2]}')"))
    prospective = phrases("modality", "prospective")
    # What the claim's clauses say against their own clauses of the source ("damaged" against
    # "damaged and the terminal will stay closed": the plan is another clause's).
    source_plans = prospective.find(phrase_words(" ".join(_source_clause(p, w) for p, w in pieces if w)))
    claim_plans = prospective.find(claim_words)
    claim_plans = claim_plans if source_plans else phrases("modality", "strong_future").find(claim_words)
    if claim_plans and not source_plans:
        source_plans = prospective.find(source_words)  # a plan the claim states may sit in another clause
    directives = phrases("modality", "directives")
    only_directives = source_plans and all(directives.any_in(phrase_words(e)) for _, _, e in source_plans)
    if only_directives and (directives.any_in(claim_words) or _speech().any_in(claim_words)):
        source_plans = []  # "called for", "urged": any act of asking or saying in the claim keeps it one
    if source_plans and not claim_plans:
        problems.append(Problem("tense", f"states as done what the cited text has as planned or expected ('{source_plans[0][2]}')"))
    elif claim_plans and not source_plans:
        problems.append(Problem("tense", f"states as planned or expected ('{claim_plans[0][2]}') what the cited text has as done"))
    return problems


def _without_idioms(found: tuple[str, ...]) -> tuple[str, ...]:
    """Words with idioms that hold a scope word ("in all", "at all") blanked out."""
    out = list(found)
    for start, end, _ in phrases("quantity", "scope_idioms").find(found):
        out[start:end] = ["_"] * (end - start)
    return tuple(out)


def _names_the_reporter(claim: str, source: str) -> bool:
    """The claim names whoever the source says reported it ("according to the club" -> "by the
    club's count"): the content terms of the six words after "according to" or "citing", or of the
    six words before the other weak attributions ("the Journal reported")."""
    found = phrase_words(source)
    claim_terms = content_terms(claim)
    for start, end, entry in phrases("modality", "weak_attributions").find(found):
        after = entry in ("according to", "citing", "cited")
        reporter = content_terms(" ".join(found[end : end + 6] if after else found[max(0, start - 6) : start]))
        if any(matches(t, claim_terms) for t in reporter):
            return True
    return False


def _hedged_before(piece: str, claim: str) -> bool:
    """A hedge earlier in the claim that governs this clause too ("X may send troops, and
    ...")."""
    head = claim[: claim.find(piece)] if piece in claim else ""
    joined = piece.lstrip().lower().startswith(("and ", "but "))
    return bool(head) and phrases("modality", "hedges").any_in(phrase_words(head)) and not joined


def _rank(scale: list[list[str]], found: tuple[str, ...]) -> tuple[int, str] | None:
    """The strongest tier of ``scale`` that ``found`` holds a word of, with that word."""
    found = _without_idioms(found)
    best = None
    for tier, words in enumerate(scale):
        hits = phrase_list(tuple(words), exact=True).find(found)
        if hits:
            best = (tier, hits[0][2])
    return best


def _quantifiers(claim: str, source_text: str, pieces: Pieces, aligned: list[str]) -> list[Problem]:
    source_words = phrase_words(" ".join(aligned) if aligned else source_text)
    claim_words = phrase_words(claim)
    quantity = lexicon.english()["quantity"]
    for scale in quantity["scope_scales"]:
        claimed, stated = _rank(scale, claim_words), _rank(scale, source_words)
        if claimed is None:
            continue
        if stated is not None and claimed[0] > stated[0]:
            return [Problem("quantifier", f"'{claimed[1]}' where the cited text has '{stated[1]}'")]
        if stated is None and claimed[0] == len(scale) - 1:
            return [Problem("quantifier", f"'{claimed[1]}': the cited text does not say so")]
    magnitudes = quantity["magnitudes"]
    claim_words = _scaled_vague(claim_words)
    source_words = _scaled_vague(source_words)
    claim_sizes = {i for i, group in enumerate(magnitudes) if phrase_list(tuple(group)).any_in(claim_words)}
    source_sizes = {i for i, group in enumerate(magnitudes) if phrase_list(tuple(group)).any_in(source_words)}
    if claim_sizes and source_sizes and not claim_sizes & source_sizes:
        return [Problem("quantifier", "a vague figure of another size than the cited text's")]
    all_words = phrase_words(source_text)
    if re.match(r"\W*first(ly)?\s*,", claim, re.I):
        claim_words = claim_words[1:]  # "First, ..." orders the telling, not the facts
    narrowed = _one_of_dropped(claim_words, all_words)
    if narrowed:
        return [Problem("quantifier", f"'{narrowed}' where the cited text has 'one of' or 'among' the {narrowed}")]
    added = [e for _, _, e in phrase_list(tuple(lexicon.english()["quantity"]["order_words"]), exact=True).find(claim_words)
             if not phrase_list(tuple(_order_equivalents(e))).any_in(all_words)]
    if added:
        return [Problem("quantifier", f"'{added[0]}' is not in the cited text")]
    return []


def _scaled_vague(found: tuple[str, ...]) -> tuple[str, ...]:
    """"several thousand" and "a few hundred" are the magnitudes "thousands" and "hundreds"."""
    out = list(found)
    for i, word in enumerate(found[1:], start=1):
        if word in {"hundred", "thousand", "million", "billion"} and found[i - 1] in {"several", "few", "couple"}:
            out[i - 1], out[i] = "_", word + "s"
    return tuple(out)


_AMONG = ("one of", "among")


def _one_of_dropped(claim_words: tuple[str, ...], source_words: tuple[str, ...]) -> str | None:
    """A superlative or "first" that the source puts among others ("one of the longest", "among the
    first") and the claim states alone ("the longest")."""
    for _start, end, _ in phrase_list(_AMONG).find(source_words):
        for word in source_words[end : end + 3]:
            superlative = word.endswith("est") or word in {"first", "last"}
            if superlative and word in claim_words and not phrase_list(_AMONG).any_in(claim_words):
                return word
    return None


def _order_equivalents(word: str) -> list[str]:
    return next((group for group in lexicon.english()["quantity"]["order_equivalents"] if word in group), [word])


def _cause(claim: str, source_text: str, pieces: Pieces, aligned: list[str]) -> list[Problem]:
    connectives = phrases("cause", "connectives")
    claimed = connectives.find(phrase_words(claim))
    if claimed and not connectives.any_in(phrase_words(source_text)):
        return [Problem("cause", f"'{claimed[0][2]}': the cited text states no such link")]
    return []


# --- roles -----------------------------------------------------------------------------------


def _possessive(token: Token) -> bool:
    """"Chile's navy", "the ministry's spokesman": the name modifies who acts or speaks."""
    return token.word.endswith(("'s", "’s"))


def _is_name(token: Token) -> bool:
    word = token.word.casefold().strip(".")
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    return token.entity and name_like(token) and word not in _openers() and _month_of(word) is None and word not in _weekday_pattern()[1]


def _readable(terms: frozenset[str]) -> str:
    return ", ".join(sorted(t.replace("_", " ") for t in terms))


@functools.cache
def _speech() -> PhraseList:
    return phrases("roles", "speech")


SPEAKER_REACH = 10
"""Words before a speech verb searched for the speaker ("Ana Ruiz, the head of the
national statistics office, said")."""


@dataclass(frozen=True)
class Speakers:
    named: frozenset[str]  # terms of the names that say something
    unnamed: bool  # a speech verb whose speaker is a pronoun or a description


def speakers(text: str) -> Speakers:
    """Who says something in ``text`` (one sentence): the names in the ``SPEAKER_REACH`` words
    before a speech verb that no preposition governs ("officials in Lima said" names no speaker),
    or the first names in the six words after "according to". A speaker named after the verb
    ("..., said Ruiz") counts as unnamed: the check then stays silent."""
    found = tokens(text)
    words = tuple(t.word.casefold().replace("’", "'") for t in found)
    names = [(i, t.term) for i, t in enumerate(found) if _is_name(t) and not _possessive(t) and t.word.casefold() not in _demonyms()]
    governed = {i for i, _ in names if i and found[i - 1].word.casefold() in _PREPOSITIONS}
    named: set[str] = set()
    unnamed = False
    for start, end, entry in _speech().find(words):
        window = (_first_run([(i, term) for i, term in names if end <= i < end + 6]) if entry == "according to"
                  else [term for i, term in names if start - SPEAKER_REACH <= i < start and i not in governed])
        named.update(window)
        unnamed = unnamed or not window
    return Speakers(frozenset(named), unnamed)


def _first_run(names: list[tuple[int, str]]) -> list[str]:
    """The first run of adjacent names: "according to Ruiz, Lopez and ..." names Ruiz."""
    run: list[str] = []
    for position, (i, term) in enumerate(names):
        if position and i != names[position - 1][0] + 1:
            break
        run.append(term)
    return run


def _roles(claim: str, source_text: str, pieces: Pieces, aligned: list[str]) -> list[Problem]:
    claimed = speakers(claim).named
    said = [speakers(sentence) for sentence in split_sentences(source_text)]
    source_named = frozenset().union(*(s.named for s in said)) if said else frozenset()
    in_source = content_terms(source_text)
    moved = claimed and all(matches(c, in_source) for c in claimed)  # the claim's speaker is in the source, not speaking
    if moved and source_named and not any(s.unnamed for s in said) and not any(matches(c, source_named) for c in claimed):
        return [Problem("roles", f"{_readable(claimed)} said it in the claim; in the cited text it was {_readable(source_named)}")]
    sentences = list(dict.fromkeys(s for w in aligned for s in split_sentences(w)))
    for piece, sentence in itertools.product(clauses(claim), sentences):
        swapped = _swapped(piece, sentence)
        if swapped:
            return [Problem("roles", f"{swapped[0]} and {swapped[1]} are in opposite roles in the cited text")]
    for piece in clauses(claim):
        other = _other_agent(piece, sentences)
        if other:
            return [Problem("roles", f"{other[0]} {other[1]} in the claim; in the cited text it was {other[2]}")]
    return []


AGENT_REACH = 3
"""Most words between a name and the verb it is the subject of ("Ruiz demanded", "Ruiz then demanded")."""


_PREPOSITIONS = frozenset("at in of from to by with for on into about against over under near".split())


def subjects_of(text: str, verb: str, title_case: bool = False) -> set[str]:
    """The names ``text`` gives as the subject of the verb term ``verb`` ("Peru returned" ->
    {"peru"}); empty when the verb is not there or has no named subject (see ``_agents``). In a
    ``title_case`` headline every word is read as a sentence's first ("Years" is then no name)."""
    found = tokens(text)
    return _agents(tuple(replace(t, initial=True) for t in found) if title_case else found, verb)


def _agents(found: tuple[Token, ...], term: str) -> set[str]:
    """The subject names of each occurrence of the verb ``term``: a name right before it, or with
    only auxiliaries and adverbs between ("Ruiz has demanded"), that is not the object of a
    preposition ("at the UN Security Council blocked" has no named subject)."""
    out = set()
    for i, token in enumerate(found):
        if token.term != term:
            continue
        j = i - 1
        while j >= 0 and i - j <= AGENT_REACH and (found[j].word.casefold() in STOPWORDS or found[j].word.endswith("ly")):
            j -= 1
        if j < 0 or not _actor(found[j]):
            continue
        start = j
        while start > 0 and _is_name(found[start - 1]):
            start -= 1
        if any(t.word.casefold() in _PREPOSITIONS for t in found[max(0, start - 2) : start]):
            continue
        out.add(found[j].term)
    return out


def _actor(token: Token) -> bool:
    return _is_name(token) and not _possessive(token) and token.word.casefold() not in _demonyms()


def _other_agent(piece: str, sentences: list[str]) -> tuple[str, str, str] | None:
    """A verb the claim gives one actor ("Lopez demanded") and the cited sentence another ("Ruiz
    demanded"), where the claim's actor is in that sentence too (so a party of the story, not a
    new name). Passive sentences are left alone: their subject is not the actor."""
    if _PASSIVE.search(piece):
        return None
    claim_tokens = tokens(piece)
    for sentence in sentences:
        if _PASSIVE.search(sentence):
            continue
        source_tokens = tokens(sentence)
        present = {t.term for t in source_tokens}
        for token in claim_tokens:
            verb = token.word.endswith("ed") or _speech().any_in((token.word.casefold(),))
            if not (verb and _is_content(token) and token.word.islower() and token.term in present):
                continue
            mine, theirs = _agents(claim_tokens, token.term), _agents(source_tokens, token.term)
            if mine and theirs and not mine & theirs and all(a in present for a in mine):
                return (_readable(frozenset(mine)), token.word, _readable(frozenset(theirs)))
    return None


@functools.cache
def _quantity_words() -> frozenset[str]:
    quantity = lexicon.english()["quantity"]
    return frozenset(w for name in ("lower_bounds", "upper_bounds", "approximate", "exact") for e in quantity[name] for w in e.split())


SWAP_GAP = 4
"""Most words between two names for the claim to say one acts on the other ("X sent troops to Y")."""


@functools.cache
def _demonyms() -> frozenset[str]:
    """Adjectives of nationality ("Chilean navy"): they modify, they do not act."""
    return frozenset(d.casefold() for c in lexicon.countries() for d in c.demonyms)


_PASSIVE = re.compile(r"\b(is|are|was|were|be|been|being)\s+(\w+ly\s+)?\w+(ed|en|wn|nt|ne)\s+(\w+\s+){0,3}?by\b", re.I)


def _swapped(claim: str, sentence: str) -> tuple[str, str] | None:
    """Two names joined by a verb or a directional word in the claim ("X sent troops to Y", "X
    attacked Y") that stand the other way round around the same word in one source sentence, and
    never the same way round, with the same voice."""
    claim_tokens, source_tokens = tokens(claim), tokens(sentence)
    positions: dict[str, list[int]] = {}
    for position, token in enumerate(source_tokens):
        if _is_name(token):
            positions.setdefault(token.term, []).append(position)
    names = [(i, t) for i, t in enumerate(claim_tokens) if _is_name(t) and t.word.casefold() not in _demonyms() and not _possessive(t)]
    flipped = bool(_PASSIVE.search(claim)) != bool(_PASSIVE.search(sentence))
    for (i, a), (j, b) in itertools.pairwise(names):
        if a.term == b.term or a.term not in positions or b.term not in positions or j - i - 1 > SWAP_GAP:
            continue
        between = claim_tokens[i + 1 : j]
        verb = next((t.term for t in between if _is_content(t) and t.word.islower() and t.word not in _quantity_words()
                     and t.word not in ROLES), None)
        joining = {t.term for t in between if t.directional} | ({verb} if verb else set())
        if not joining:
            continue
        orders = set()
        for pa in positions[a.term]:
            for pb in positions[b.term]:
                low, high = sorted((pa, pb))
                if joining & {t.term for t in source_tokens[low + 1 : high]}:
                    orders.add(pa < pb)
        if orders == {flipped}:
            return a.word.replace("_", " "), b.word.replace("_", " ")
    return None


# --- word for word ----------------------------------------------------------------------------


_SPACE = re.compile(r"\s+")


def _normalized(text: str) -> str:
    """Case-folded words, numbers kept whole ("10,000", "3.5"), other punctuation as spaces."""
    text = re.sub(r"[^\w\s%.,-]", " ", unicodedata.normalize("NFKC", text).casefold())
    return _SPACE.sub(" ", re.sub(r"[.,](?=\s|$)", " ", text)).strip()


def verbatim(claim: str, evidence: str) -> bool:
    """The claim's words appear in the evidence in order, word for word (case and quotes aside)."""
    needle = _normalized(claim)
    return len(needle) >= 20 and f" {needle} " in f" {_normalized(evidence)} "
