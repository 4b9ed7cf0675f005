"""Text normalization, boilerplate removal, sentence splitting and sentence-aware chunking.

The sentence splitter here is the one every later stage uses (verification re-splits drafts with
it), so chunks and checked sentences agree on what a sentence is.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from briefing.terms import UNSPACED


@functools.cache
def _boilerplate() -> re.Pattern[str]:
    """A whole line that is not the story (``lexicon/pages.toml``, ``[boilerplate]``)."""
    from briefing import lexicon

    lines = lexicon.pages()["boilerplate"]["lines"]
    return re.compile("^(" + "|".join(f"(?:{line})" for line in lines) + ")$", re.IGNORECASE)


_HAS_WORD = re.compile(r"\w")
_SPACE_RUN = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize(text: str) -> str:
    """NFC, one space between words, stripped lines, at most one blank line between paragraphs.

    NFC keeps what the writer wrote (full-width "（EPS）", half-width katakana, "…"); comparisons
    fold compatibility forms themselves (``fold``)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def is_boilerplate(line: str) -> bool:
    return bool(_boilerplate().match(line.strip()))


def clean(text: str) -> str:
    """Normalize text and drop boilerplate lines (photo credits, "Continue reading...") and lines
    with no letter or digit ("…", "* * *"), then boilerplate sentences at the very end (a
    copyright notice run into the last paragraph: "… © 2016 Outlet. All rights reserved.")."""
    kept = [line for line in normalize(text).split("\n") if not is_boilerplate(line) and (not line or _HAS_WORD.search(line))]
    return _without_closing_boilerplate(re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip())


_COPYRIGHT_TAIL = re.compile(r"\s*(©|\(c\)|copyright\b)\s*(\(c\)\s*)?(19|20)\d\d\b[^\n]{0,150}$", re.IGNORECASE)
"""A copyright notice closing the text, run into its last sentence (no capital after the full stop to split at)."""


_CLOSING_CHARS = 600  # how much of a text's end is read for closing notices (they are short)


def _without_closing_boilerplate(text: str) -> str:
    while text:
        text = _COPYRIGHT_TAIL.sub("", text)
        start = max(0, len(text) - _CLOSING_CHARS)
        spans = sentence_spans(text[start:])  # the end only: clean runs on every article ingested
        if len(spans) < 2 or not is_boilerplate(text[start + spans[-1][0] : start + spans[-1][1]]):
            return text
        text = text[: start + spans[-1][0]].rstrip()
    return text


def fold(text: str) -> str:
    """``text`` for comparison: compatibility forms folded (NFKC: full-width letters and digits,
    half-width katakana, ligatures) and case folded. Stored text keeps its forms (``normalize``)."""
    return unicodedata.normalize("NFKC", text).casefold()


def text_key(text: str) -> str:
    """The form two texts must share to count as exact duplicates: case, punctuation, spacing and
    compatibility forms ignored."""
    return " ".join(re.findall(r"\w+", fold(text)))


HEADLINE_BREAK = "\n\n"


def citable_text(title: str, body: str) -> str:
    """An article's stored text: its headline as the first paragraph, then the cleaned body, so a
    fact only the headline states can be quoted and its offsets checked like any sentence.

    A body that already begins with its headline (a page whose text repeats it, a feed item with no
    body) is kept as it is."""
    headline = " ".join(normalize(title).split())
    body_key, headline_key = text_key(body), text_key(headline)
    if not headline_key or body_key == headline_key or body_key.startswith(headline_key + " "):
        return body
    return f"{headline}{HEADLINE_BREAK}{body}"


def indexed_text(title: str, chunk_text: str) -> str:
    """What is embedded and keyword-indexed for a chunk: its article's headline, then its text.

    Feed items are often a headline plus one summary sentence; the headline carries the topic. The
    first chunk already begins with the headline (``citable_text``), which is not repeated.
    """
    headline = " ".join(normalize(title).split())
    if chunk_text.startswith(headline + HEADLINE_BREAK):
        chunk_text = chunk_text[len(headline) + len(HEADLINE_BREAK) :]
    return f"{title}\n{chunk_text}"


def embedded_text(title: str, chunk_text: str, overlap: int = 0) -> str:
    """What is embedded for a chunk: ``indexed_text`` without its first ``overlap`` characters, the
    sentences it repeats from the previous chunk (that chunk's vector already carries them)."""
    return indexed_text(title, chunk_text[overlap:].lstrip() if overlap > 0 else chunk_text)


_UNSPACED_SCRIPT = re.compile(f"[{UNSPACED}]")


def word_count(text: str) -> int:
    """Words in ``text``: runs between spaces, and each character of scripts written without
    spaces (Chinese, Japanese, Thai), where a run between spaces is a whole sentence."""
    unspaced = len(_UNSPACED_SCRIPT.findall(text))
    if not unspaced:
        return len(text.split())
    return len(_UNSPACED_SCRIPT.sub(" ", text).split()) + unspaced


def words(text: str) -> list[str]:
    return re.findall(r"\w+(?:[-'’.]\w+)*", text.casefold())


# --- sentences -------------------------------------------------------------------------------

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "sgt", "maj", "capt", "cmdr", "adm", "sen",
    "rep", "gov", "pres", "st", "jr", "sr", "no", "nos", "vs", "etc", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "inc", "corp", "ltd", "co", "dept",
    "est", "approx", "fig", "vol", "mt", "ft", "u.s", "u.k", "u.n", "e.u", "e.g", "i.e", "a.m",
    "p.m", "d.c", "al",
}

# A candidate end: terminal punctuation, optional closing quotes/brackets, then whitespace; or the
# full-width stops of Chinese and Japanese, which need no space after them.
_CANDIDATE_END = re.compile(r"[.!?…؟।]+[\"'”’)\]]*(?=\s)|(?P<wide>[。！？]+[」』”’)）]*)")
_NEXT_START = re.compile(r"\s+[\"'“‘«(\[]?(\w)")


def _starts_sentence(line: str, position: int) -> bool:
    """Whether a sentence may start after ``position``: a digit, a capital, or a letter of a script
    without case (Arabic, Hebrew, Devanagari...)."""
    match = _NEXT_START.match(line, position)
    if match is None:
        return False
    first = match.group(1)
    return first.isdigit() or (first.isalpha() and not first.islower())


def _ends_in_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` closes an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    token = text[start:dot].casefold()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``; line breaks always end a sentence."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        spans.extend((offset + s, offset + e) for s, e in _line_sentence_spans(line))
        offset += len(line) + 1
    return spans


def _line_sentence_spans(line: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in _CANDIDATE_END.finditer(line):
        end = match.end()
        if match.group("wide"):
            spans.append((start, end))
            start = end
            continue
        if not _starts_sentence(line, end):
            continue
        if _ends_in_abbreviation(line, match.start()) and match.end() - match.start() == 1:
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(line)))
    return [trimmed for s, e in spans if (trimmed := _trim(line, s, e))]


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def _anaphora() -> dict:
    from briefing import lexicon

    return lexicon.english()["anaphora"]


def _alternatives(words: str) -> str:
    return "|".join(re.escape(w) for w in words.split())


@functools.cache
def _leaning_patterns() -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
    """The patterns of ``leans_on_previous``, built once from ``lexicon/english.toml [anaphora]``:
    those matched at the sentence's start, and those searched anywhere in it."""
    table = _anaphora()
    demonstratives = {"this", "that", "these", "those"}
    openers = "|".join(re.escape(w) for w in table["openers"].split() if w not in demonstratives)
    times = _alternatives(table["time_nouns"])
    referring, specifiers = _alternatives(table["referring_nouns"]), _alternatives(table["specifiers"])
    partitives, groups = _alternatives(table["partitives"]), _alternatives(table["partitive_pronouns"])
    follows = "|".join(re.escape(" ".join(p.split())) for p in table["follows"].split("|") if p.strip())
    quote = "[\"'“‘(]?"
    at_start = (
        re.compile(rf"{quote}(?:(?:{openers})\b|(?:this|that|these|those)\b(?! (?:{times})\b))", re.I),
        re.compile(rf"^(?:\S+\s+){{0,{int(table['referring_within']) - 1}}}?the (?:{referring})\b(?! (?:{specifiers})\b)", re.I),
        re.compile(rf"{quote}the\s+(?!(?:{times})\b)(?-i:[a-z][\w-]*)\b(?! (?:{specifiers})\b)" if table["definite_opening"]
                   else r"(?!)", re.I),
        re.compile(rf"^(?:\S+\s+){{0,{int(table['additions_within']) - 1}}}?(?:{_alternatives(table['additions'])})\b", re.I),
        re.compile(rf"^(?:\S+\s+){{1,{int(table['object_pronoun_within']) - 1}}}(?:{_alternatives(table['object_pronouns'])})\b", re.I),
        re.compile(rf"^(?:\S+\s+){{0,6}}?(?:{partitives}) (?:{groups})\b", re.I),
    )
    return at_start, (re.compile(rf"\b(?:{follows})\b", re.I),)


def leans_on_previous(sentence: str) -> bool:
    """Whether an English sentence's meaning hangs on the one before it: it opens with a pronoun or
    a connective ("They said...", "But...") or with "the" and a lower-case noun ("The program
    allows..."; "The Senate voted..." stands alone), names something said before with "the" and a referring
    noun ("The move...", "... called the deal ..."), continues with "also", has an object pronoun
    before any name ("Wipe him off..."), counts a group named earlier ("At least 10,000 of them"),
    or says it follows something ("The deal comes amid..."). The words are data:
    ``lexicon/english.toml [anaphora]``."""
    at_start, anywhere = _leaning_patterns()
    return any(p.match(sentence) for p in at_start) or any(p.search(sentence) for p in anywhere)


# --- chunks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    words: int
    ends_paragraph: bool


def _sentence_units(text: str, max_words: int) -> list[Span]:
    """Sentences with word counts; a pathological sentence longer than ``max_words`` is cut at spaces."""
    units = []
    for start, end in sentence_spans(text):
        ends_paragraph = text.startswith("\n\n", end) or end == len(text)
        pieces = _split_long(text, start, end, max_words)
        for i, (s, e) in enumerate(pieces):
            last = i == len(pieces) - 1
            units.append(Span(s, e, len(text[s:e].split()), ends_paragraph and last))
    return units


def _split_long(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    bounds = [m.span() for m in re.finditer(r"\S+", text[start:end])]
    if len(bounds) <= max_words:
        return [(start, end)]
    return [
        (start + bounds[i][0], start + bounds[min(i + max_words, len(bounds)) - 1][1])
        for i in range(0, len(bounds), max_words)
    ]


def chunk_spans(text: str, target_words: int = 160, overlap_words: int = 30) -> list[tuple[int, int]]:
    """Spans of chunks made of whole sentences, about ``target_words`` long.

    A chunk may stop early at a paragraph end once it is 70% full, grows past the target rather than
    leave a tail under a third of the target, and never exceeds 1.5x the target (but for a single
    over-long sentence). The next chunk repeats trailing sentences worth up to ``overlap_words``.
    """
    max_words = int(target_words * 1.5)
    units = _sentence_units(text, max_words)
    words_after = _suffix_sums([u.words for u in units])
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = _chunk_end(units, words_after, i, target_words, max_words)
        chunks.append((units[i].start, units[j - 1].end))
        if j >= len(units):
            break
        i = _overlap_start(units, i, j, overlap_words)
    return chunks


def _suffix_sums(values: list[int]) -> list[int]:
    """``out[j]`` is the sum of ``values[j:]``."""
    out = [0] * (len(values) + 1)
    for j in range(len(values) - 1, -1, -1):
        out[j] = out[j + 1] + values[j]
    return out


def _chunk_end(units: list[Span], words_after: list[int], i: int, target: int, max_words: int) -> int:
    total = 0
    j = i
    while j < len(units):
        if total and total + units[j].words > max_words:
            break
        total += units[j].words
        j += 1
        rest = words_after[j]
        if total >= target or (units[j - 1].ends_paragraph and total >= 0.7 * target):
            if rest and rest < target / 3 and total + rest <= max_words:
                continue
            break
    return j


def _overlap_start(units: list[Span], i: int, j: int, overlap_words: int) -> int:
    k, carried = j, 0
    while k - 1 > i and carried + units[k - 1].words <= overlap_words:
        k -= 1
        carried += units[k].words
    return k
