"""Terms: the words, names and numbers of a text, as the judge, the extractive picker and `ask`
compare them.

Words are runs of Unicode letters, so "Straße", "İzmir" and "Жуков" are words like "Kursk".
Scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) are cut into
overlapping character pairs, the usual index unit for them when no segmenter is at hand (Lucene's
CJK bigrams): "北码头" gives "北码" and "码头". Stemming and synonyms are English only; other
languages are matched on exact word forms.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import ClassVar

import regex

from briefing import lexicon

STOPWORDS = lexicon.word_set("words", "stopwords")
SENTENCE_OPENERS = lexicon.word_set("words", "sentence_openers")
NEGATIONS = frozenset(lexicon.english()["polarity"]["negators"]) | {"deni", "deny", "refus", "reject"}
"""Words (or stems) that flag a token as negating; the judges' polarity check reads the fuller
lists of ``lexicon/english.toml``."""
DIRECTIONAL = lexicon.word_set("roles", "directional")
NOT_DIRECTIONAL_AFTER = lexicon.word_set("roles", "not_directional_after")


@functools.cache
def _synonym_table() -> dict[str, str]:
    """Each word of a synonym group or spelling pair (and its stem) → the group's first word's stem."""
    table: dict[str, str] = {}
    english = lexicon.english()
    for group in english["spelling"]["variants"] + english["synonyms"]["groups"]:
        head = _stem(group[0].casefold())
        for word in group:
            table.setdefault(word.casefold(), head)
            table.setdefault(_stem(word.casefold()), head)
    return table


@functools.cache
def _country_tables() -> tuple[dict[str, str], re.Pattern[str], dict[str, str]]:
    """Single capitalised words naming a state ("Moscow", "Ukrainian") → its term, and patterns
    for the names written in several words, with dots or in capitals ("North Korea", "U.S.", "UK",
    "White House") → its term. From ``lexicon/countries.tsv``."""
    single: dict[str, str] = {}
    multi: list[tuple[str, str, bool]] = []
    for country in lexicon.countries():
        for name in country.names():
            if name.casefold() in lexicon.ambiguous_names() or any(c.isdigit() for c in name):
                continue  # "Congolese" names two states; "No 10" would read as a figure
            if re.fullmatch(r"[^\W\d_]+", name) and not name.isupper():
                single.setdefault(name.casefold(), country.term)
            else:
                multi.append((name, country.term, name.isupper() or "." in name))
    multi.sort(key=lambda m: -len(m[0]))
    # Names in capitals or with dots ("US", "U.K.") match in that case only: "us" is a pronoun.
    alternatives = "|".join(re.escape(name) if exact else f"(?i:{re.escape(name)})" for name, _, exact in multi)
    pattern = re.compile(rf"(?<![\w.])(?:{alternatives})(?![\w]|(?<=\w)\.\w)")
    lookup = {name.casefold(): term for name, term, _ in multi}
    return single, pattern, lookup


UNSPACED = "\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
"""Scripts written without spaces between words: kana, CJK ideographs, Thai, Lao, Burmese, Khmer."""
UNSPACED_RUN = re.compile(f"[{UNSPACED}]+")
# A word is letters with their combining marks (Devanagari vowel signs, Thai tone marks), an inner
# apostrophe or dot ("don't", "U.S"); "_" joins multiword names ("north_korea").
_WORD = regex.compile(r"n't|[\p{L}_][\p{L}\p{M}_]*(?:['.][\p{L}_][\p{L}\p{M}_]*)*")
_CJK_PARTICLES = "的了"  # particles too frequent to count as content in a character pair


@functools.cache
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word) if word.isascii() else word


@dataclass(frozen=True)
class Token:
    word: str
    term: str
    negation: bool
    entity: bool  # capitalized and not a stopword
    initial: bool  # first word of the text, where capitals say nothing about names
    directional: bool


def _normalize_multiword(text: str) -> str:
    """Names of states written in several words, with dots or in capitals become one term."""
    _, pattern, lookup = _country_tables()
    return pattern.sub(lambda m: lookup[m.group().casefold()], text)


def words(text: str) -> list[str]:
    """The words of ``text`` in order: runs of letters (apostrophes and inner dots kept), with runs
    of unspaced scripts cut into overlapping character pairs (see ``split_unspaced``)."""
    return [piece for word in _WORD.findall(text) for piece in split_unspaced(word)]


def split_unspaced(word: str) -> list[str]:
    """``word`` with each run of an unspaced script cut into overlapping character pairs (a single
    character stays whole): "北码头" -> ["北码", "码头"]; other words come back as they are."""
    if not UNSPACED_RUN.search(word):
        return [word]
    out: list[str] = []
    position = 0
    for run in UNSPACED_RUN.finditer(word):
        out.extend(w for w in [word[position : run.start()]] if w)
        chars = run.group()
        out.extend([chars] if len(chars) == 1 else [chars[i : i + 2] for i in range(len(chars) - 1)])
        position = run.end()
    out.extend(w for w in [word[position:]] if w)
    return out


_UNSPLIT = regex.compile(r"[\p{L}\p{M}]{50,}")


def unsplit_words(text: str) -> str | None:
    """A run of 50 or more letters outside the scripts handled above: text of a script written
    without spaces that is not split into words here (Tibetan, for example), so matching it sees
    whole runs and may miss facts. None when there is none."""
    for match in _UNSPLIT.finditer(text):
        if not UNSPACED_RUN.fullmatch(match.group()):
            return match.group()[:12]
    return None


@functools.lru_cache(maxsize=50_000)
def tokens(text: str) -> tuple[Token, ...]:
    """Every word of ``text`` as a canonical term, with flags for negation, entity and direction.

    Cached: a judge sees the same cited text for many sentences."""
    text = _normalize_multiword(text.replace("’", "'"))
    out = []
    found = words(text)
    for index, word in enumerate(found):
        lower = word.casefold().strip("'.")
        lower = lower[:-2] if lower.endswith("'s") else lower
        stem = _stem(lower) if "_" not in lower else lower
        synonyms = _synonym_table()
        country = _country_tables()[0].get(lower) if word[:1].isupper() else None
        term = country or synonyms.get(lower) or synonyms.get(stem) or stem
        entity = (word[0].isupper() or "_" in lower) and lower not in STOPWORDS
        after = found[index - 1].casefold() if index else ""
        directional = lower in DIRECTIONAL and after not in NOT_DIRECTIONAL_AFTER
        out.append(Token(word, term, stem in NEGATIONS or lower in NEGATIONS, entity, index == 0, directional))
    return tuple(out)


@functools.lru_cache(maxsize=50_000)
def content_terms(text: str) -> frozenset[str]:
    """The terms of ``text`` that carry content: no stopwords, negations or single letters (a
    single ideograph counts)."""
    return frozenset(
        t.term for t in tokens(text)
        if t.term not in STOPWORDS and t.word.casefold() not in STOPWORDS and not t.negation
        and (len(t.term) > 1 or UNSPACED_RUN.match(t.term))
        and not (len(t.term) == 2 and any(c in _CJK_PARTICLES for c in t.term))
    )


def matches(term: str, pool: set[str] | frozenset[str]) -> bool:
    """Exact, or one a prefix of the other for longer words (Korea/Korean, Ukraine/Ukrainian)."""
    if term in pool:
        return True
    return len(term) >= 4 and any(len(p) >= 4 and (p.startswith(term) or term.startswith(p)) for p in pool)


# --- numbers ---------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SHORT_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}
_NUMBER_WORD = re.compile(r"[a-z]+", re.I)
# Digits with separators or a decimal part, then an optional scale word; a currency sign allows
# the short scales ("$5m", "€1.2bn"), which would otherwise be metres or bytes.
_DIGITS = re.compile(
    r"(?<![\w.,])(?P<currency>[$€£¥]\s?)?(?P<value>\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?)"
    r"(?:\s*(?P<scale>thousand|million|billion|trillion)\b|(?P<short>k|mn|mln|bn|m|b|tn)\b)?",
    re.I,
)


@dataclass(frozen=True)
class NumberMention:
    value: float
    start: int  # character offsets in the text
    end: int


def numbers(text: str) -> set[float]:
    """The numbers ``text`` states, as values: "10,000", "3.5 million", "$5m", and numbers in
    English words with their scale: "ten thousand" is 10000 (not 10 and 1000), "two dozen" 24,
    "a dozen" 12, "half a million" 500000, "twenty-five" 25.

    Vague plurals ("thousands of", "dozens") are not numbers. Number words of other languages are
    not read."""
    return {m.value for m in number_mentions(text)}


@functools.lru_cache(maxsize=20_000)
def number_mentions(text: str) -> tuple[NumberMention, ...]:
    """Every number ``text`` states (see ``numbers``) with where it is, in text order."""
    found = []
    for match in _DIGITS.finditer(text):
        value = float(match.group("value").replace(",", ""))
        if match.group("scale"):
            value *= _SCALES[match.group("scale").lower()]
        elif match.group("short") and (match.group("currency") or match.group("short").lower() in {"bn", "mn", "mln", "tn"}):
            value *= _SHORT_SCALES[match.group("short").lower()]
        found.append(NumberMention(value, match.start(), match.end()))
    found.extend(_word_numbers(text))
    return tuple(sorted(found, key=lambda m: m.start))


def _word_numbers(text: str) -> list[NumberMention]:
    """The runs of English number words in ``text`` with their values (see ``numbers``)."""
    out: list[NumberMention] = []
    run, start, end = _WordNumber(), 0, 0
    for match in _NUMBER_WORD.finditer(text.replace("-", " ")):
        word = match.group().lower()
        if not run.take(word):
            out.extend(NumberMention(v, start, end) for v in run.close())
            run, start = _WordNumber(), match.start()
            if not run.take(word):
                continue
        elif run.last is not None and start >= end:
            start = match.start()
        end = match.end()
    out.extend(NumberMention(v, start, end) for v in run.close())
    return out


class _WordNumber:
    """One run of number words, read left to right: "two hundred and fifty thousand"."""

    # Which kind of word may follow which: "twenty five", "two hundred and five", "ten thousand".
    _FOLLOWS: ClassVar[dict[str, set[str | None]]] = {
        "unit": {None, "tens", "hundred", "scale", "and"},
        "teen": {None, "hundred", "scale", "and"},
        "tens": {None, "hundred", "scale", "and"},
        "hundred": {"a", "unit", "teen"},
        "dozen": {"a", "unit", "teen", "tens"},
        "scale": {"a", "half a", "unit", "teen", "tens", "hundred", "dozen"},
        "and": {"hundred", "scale"},
    }

    def __init__(self):
        self.total = 0.0
        self.current = 0.0
        self.last: str | None = None  # kind of the previous word taken
        self.counted = False  # a number word was taken, not only "a" or "half"

    def take(self, word: str) -> bool:
        """Add ``word`` to the run; False when it cannot continue it."""
        kind = self._kind(word)
        if kind is None:
            return False
        if kind in {"a", "half"}:
            allowed = self.last is None if kind == "half" or word == "half" else self.last in {None, "half"}
            if not allowed:
                return False
            self.last = "half a" if self.last == "half" else kind
            return True
        if self.last not in self._FOLLOWS[kind]:
            return False
        if kind in {"unit", "teen", "tens"}:
            self.current += _UNITS[word]
        elif kind in {"hundred", "dozen"}:
            self.current = (self.current or 1.0) * (100 if kind == "hundred" else 12)
        elif kind == "scale":
            base = 0.5 if self.last == "half a" else (self.current or 1.0)
            self.total += base * _SCALES[word]
            self.current = 0.0
        self.last = kind
        self.counted = self.counted or kind != "and"
        return True

    @staticmethod
    def _kind(word: str) -> str | None:
        if word in _UNITS:
            value = _UNITS[word]
            return "unit" if value < 10 else "teen" if value < 20 else "tens"
        if word in {"hundred", "dozen", "and", "half"}:
            return word
        if word in {"a", "an"}:
            return "a"
        return "scale" if word in _SCALES else None

    def close(self) -> list[float]:
        return [self.total + self.current] if self.counted else []


# --- names and roles -------------------------------------------------------------------------

_COMMON_SHAPE = re.compile(r"(s|ing|ly|ed)$", re.I)
_DATE_WORDS = frozenset("""january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday""".split())


def name_like(token: Token) -> bool:
    """A capitalized word that is probably a name. The first word of a sentence is capitalized
    anyway, so there only singular words that don't look like verbs or adverbs count
    ("China said...", not "Officials said..." or "Heavily armed...")."""
    return not token.initial or (len(token.word) >= 3 and not _COMMON_SHAPE.search(token.word))


def question_names(text: str) -> list[list[Token]]:
    """Names in ``text``: runs of adjacent name-like capitalized words ("Emmanuel Macron" is one),
    leaving out months and weekdays, which sources state as publish dates rather than in text."""
    groups: list[list[Token]] = []
    previous = -2
    for index, token in enumerate(tokens(text)):
        if not (token.entity and name_like(token)) or token.term in STOPWORDS or token.word.casefold().strip(".") in _DATE_WORDS:
            continue
        if index == previous + 1 and groups:
            groups[-1].append(token)
        else:
            groups.append([token])
        previous = index
    return groups


_ENGLISH = frozenset("""the a an of in on at to for from with by about and or is are was were be been did does do
has have had what which who whom whose how when where why will would can could""".split())


def english(text: str) -> bool:
    """Whether ``text`` reads as English: a fifth or more of its words are English function words.
    ("Was sagte Jördis Straßner über die Dauer der Überfahrt?" has one in nine.)"""
    found = [w.casefold() for w in words(text)]
    return bool(found) and sum(w in _ENGLISH for w in found) >= 0.2 * len(found)


def asked_names(question: str) -> list[list[Token]]:
    """The names a question asks about (see ``question_names``), for the checks that abstain when no
    source states them. Only in English questions: German capitalizes every noun, and a question's
    first word ("Wie", "Сколько", "Πόσα") is capitalized in any language."""
    if not english(question):
        return []
    return [g for g in question_names(question) if not (len(g) == 1 and g[0].initial)]
