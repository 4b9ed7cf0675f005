"""Language knowledge as data: the English word lists and the table of the world's states that
verification and retrieval read, and the thresholds verification decides with.

- ``english.toml``: stopwords, sentence openers, synonym groups, negations and opposites, hedges,
  attributions, prospective (planned or expected) markers, bounds and scope words, causal
  connectives, speech verbs, month and weekday names, fractions.
- ``countries.tsv``: every sovereign state with its other names, demonyms, capital and the seats
  of government news reports use for it ("Washington", "Downing Street", "the Élysée").
- ``questions.toml``: how a question is read: what each opener asks for, the words that ask for
  the latest report, loss and age words, unit families, function words per language.
- ``thresholds.toml``: every cut the support judges, briefs and answers decide with.
- ``zones.toml``: time zone abbreviations as dates write them, with one meaning or several.
- ``pages.toml``: what pages and items carry besides the story: boilerplate lines (credits,
  notices, prompts) and the phrases of bot-check, paywall and consent pages, as patterns.

Entries are general English, never words picked from the sample corpus; ``tests/test_lexicon.py``
lists them for review. Loading parses the files once per process.
"""

from __future__ import annotations

import csv
import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any


def _read(name: str) -> str:
    return resources.files("briefing.lexicon").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def english() -> dict[str, Any]:
    """``english.toml`` as parsed TOML (sections as in the file)."""
    return tomllib.loads(_read("english.toml"))


@functools.cache
def questions() -> dict[str, Any]:
    """``questions.toml``: how questions are read (what each opener asks for, time, parts, languages)."""
    return tomllib.loads(_read("questions.toml"))


@functools.cache
def zones() -> dict[str, Any]:
    """``zones.toml``: ``one_meaning`` (name → seconds east of UTC) and ``several_meanings`` (name → readings)."""
    return tomllib.loads(_read("zones.toml"))


@functools.cache
def pages() -> dict[str, Any]:
    """``pages.toml``: boilerplate line patterns and placeholder-page phrases (regular expressions)."""
    return tomllib.loads(_read("pages.toml"))


@functools.cache
def thresholds() -> dict[str, Any]:
    """``thresholds.toml``: section → name → value."""
    return tomllib.loads(_read("thresholds.toml"))


def threshold(section: str, name: str) -> float:
    return float(thresholds()[section][name])


@dataclass(frozen=True)
class Country:
    name: str
    aliases: tuple[str, ...]
    demonyms: tuple[str, ...]
    capitals: tuple[str, ...]
    seats: tuple[str, ...]

    @property
    def term(self) -> str:
        """The one term every name of the state becomes: "north_korea", "united_states"."""
        return re.sub(r"\W+", "_", self.name.casefold()).strip("_")

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases, *self.demonyms, *self.capitals, *self.seats)


@functools.cache
def countries() -> tuple[Country, ...]:
    """Rows of ``countries.tsv`` (header: country, aliases, demonyms, capital, seats; "|" separates)."""
    rows = csv.DictReader(_read("countries.tsv").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)

    def split(value: str | None) -> tuple[str, ...]:
        return tuple(v.strip() for v in (value or "").split("|") if v.strip())

    return tuple(Country(r["country"].strip(), split(r["aliases"]), split(r["demonyms"]), split(r["capital"]), split(r["seats"]))
                 for r in rows)


@functools.cache
def ambiguous_names() -> frozenset[str]:
    """Names (lower-cased) that ``countries.tsv`` gives to more than one state ("Congolese"): they
    name none of them."""
    owners: dict[str, set[str]] = {}
    for country in countries():
        for name in country.names():
            owners.setdefault(name.casefold(), set()).add(country.name)
    return frozenset(name for name, states in owners.items() if len(states) > 1)


# --- phrase lists ----------------------------------------------------------------------------

_PHRASE_WORD = re.compile(r"n't|\w+(?:[-']\w+)*")


def phrase_words(text: str) -> tuple[str, ...]:
    """Lower-case words for phrase matching; "didn't" is "did" + "n't", "won't" is "will" + "n't",
    "’" is "'"."""
    text = text.casefold().replace("’", "'")
    text = re.sub(r"\b(won|can|shan)'t\b", lambda m: {"won": "will", "can": "can", "shan": "shall"}[m.group(1)] + " n't", text)
    return tuple(_PHRASE_WORD.findall(re.sub(r"n't\b", " n't", text)))


class PhraseList:
    """Entries of one list, matched against a text's words in order. An entry word of four or more
    letters matches any word it begins ("deni" matches "denied", "denial"); shorter words match
    whole ("can" is not "canal"). Entries are indexed by their first word, so a text is read once."""

    def __init__(self, entries: list[str] | tuple[str, ...], exact: bool = False):
        self.entries = tuple(entries)
        self.exact = exact  # whole words only: "again" is not "against"
        self._exact: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        self._prefix: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for entry in self.entries:
            parts = phrase_words(entry)
            if not parts:
                continue
            index = self._prefix if len(parts[0]) >= 4 and not exact else self._exact
            index.setdefault(parts[0], []).append((entry, parts))
        self._lengths = sorted({len(p) for p in self._prefix})

    def find(self, found: tuple[str, ...]) -> list[tuple[int, int, str]]:
        """(start, end, entry) for every place an entry occurs in ``found`` (words from ``phrase_words``)."""
        hits = []
        for i, word in enumerate(found):
            candidates = list(self._exact.get(word, ()))
            for length in self._lengths:
                if len(word) < length:
                    break
                candidates.extend(self._prefix.get(word[:length], ()))
            for entry, parts in candidates:
                if not self.exact and not _word_matches(parts[0], word):
                    continue
                end = i + len(parts)
                if end <= len(found) and all((found[i + k] == p if self.exact else _word_matches(p, found[i + k]))
                                             for k, p in enumerate(parts[1:], start=1)):
                    hits.append((i, end, entry))
        return hits

    def any_in(self, found: tuple[str, ...]) -> bool:
        return bool(self.find(found))


ENDINGS = frozenset("""s es ed d ing ings ion ions ation ations tion ption ition ment ments ement ements y ies ied ier
iest er ers or ors ory edly ently ingly ent ence ences ant ance ances e al ally ial ially ive ives ively ative ity ities
ism ist ists ize ized ise ised able ably ible ibly ful ness ure ures ate ated ates ating n man men woman women
person""".split())
"""What may follow a stem of the word lists for a word to match it: English inflections and
derivations, so "caus" matches "caused" and not "causeway", "close" matches "closed" and not
"closely". A doubled last letter before -ed, -ing, -er counts too ("planned", "admitted")."""


def _word_matches(entry_word: str, word: str) -> bool:
    if word == entry_word:
        return True
    if len(entry_word) < 4 or not word.startswith(entry_word):
        return False
    rest = word[len(entry_word) :]
    return rest in ENDINGS or (rest[:1] == entry_word[-1] and rest[1:] in {"ed", "ing", "er", "ers"})


@functools.lru_cache(maxsize=1_000)
def phrase_list(entries: tuple[str, ...], exact: bool = False) -> PhraseList:
    """A ``PhraseList`` of ``entries``, built once per process (the checks ask for the same small
    lists, a scale's tier or a word's equivalents, for every claim)."""
    return PhraseList(entries, exact)


@functools.cache
def phrases(section: str, name: str) -> PhraseList:
    """The list ``name`` of section ``section`` of ``english.toml`` as a ``PhraseList``."""
    return PhraseList(english()[section][name])


@functools.cache
def word_set(section: str, name: str) -> frozenset[str]:
    """A list of single words (or a whitespace-separated string of them) as a set."""
    value = english()[section][name]
    return frozenset(value.split() if isinstance(value, str) else value)
