"""Synthetic (claim, article, label) examples in the style of FactCC (Kryściński et al., 2020):
a sentence of an article, changed in one way a summarizer gets wrong, is unsupported; the sentence
itself, one of its clauses, or two adjacent sentences fused, is supported.

Each generator takes a sentence (and its article) and returns the claim, or None when the
sentence offers nothing to change (no number, no second name...). Seeded; no model involved.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty"]
SCALES = {"thousand": "million", "million": "billion", "billion": "million", "hundred": "thousand"}
AUXILIARIES = re.compile(r"\b(is|are|was|were|has|have|had|will|would|can|could|should|did|does|do)\b")
NEGATED = re.compile(r"\b(not|never|no longer)\s+|n't\b")
HEDGES = re.compile(r"\b(may|might|could|reportedly|allegedly|possibly|likely|probably|about|around|"
                    r"nearly|almost|some|an estimated|up to|at least)\s+", re.I)
SAID = re.compile(r",\s+(he|she|they|officials|police|the company|the report|[A-Z][a-z]+(?: [A-Z][a-z]+)?) "
                  r"(said|says|added|claimed|told [A-Z]\w+)\.[\"”]?$")
DIGITS = re.compile(r"\b\d[\d,]*(\.\d+)?\b")
YEAR = re.compile(r"\b(19[5-9]\d|20[0-3]\d)\b")
NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)*)\b")
CAUSES = ["because of the crisis", "in response to the protests", "after pressure from investors",
          "to avoid further losses", "as a result of the new rules", "following a government request"]

POSITIVE_KINDS = ("verbatim", "clause", "fused")
NEGATIVE_KINDS = ("number", "scale", "date", "entity", "swap", "negation", "hedge", "cause", "other-article")


@dataclass(frozen=True)
class SyntheticClaim:
    claim: str
    label: int
    kind: str


def change_number(sentence: str, rng: random.Random, article: str) -> str | None:
    found = [m for m in DIGITS.finditer(sentence) if not YEAR.fullmatch(m.group())]
    if found:
        m = rng.choice(found)
        digits = m.group().replace(",", "")
        value = float(digits)
        new = value + rng.choice([1, 2, 3, 5]) * (10 ** max(len(digits.split(".")[0]) - 2, 0))
        text = f"{new:,.0f}" if "." not in digits else f"{new:.1f}"
        return sentence[: m.start()] + text + sentence[m.end() :]
    words = [w for w in NUMBER_WORDS if re.search(rf"\b{w}\b", sentence, re.I)]
    if words:
        old = rng.choice(words)
        new = rng.choice([w for w in NUMBER_WORDS if w != old])
        return re.sub(rf"\b{old}\b", new, sentence, count=1, flags=re.I)
    return None


def change_scale(sentence: str, rng: random.Random, article: str) -> str | None:
    for old, new in SCALES.items():
        if re.search(rf"\b{old}\b", sentence):
            return re.sub(rf"\b{old}\b", new, sentence, count=1)
    found = [m for m in DIGITS.finditer(sentence) if not YEAR.fullmatch(m.group()) and "." not in m.group()]
    if found:
        m = rng.choice(found)
        value = int(m.group().replace(",", ""))
        new = value * 10 if value < 100 or rng.random() < 0.5 else value // 10
        return sentence[: m.start()] + f"{new:,}" + sentence[m.end() :] if new != value else None
    return None


def change_date(sentence: str, rng: random.Random, article: str) -> str | None:
    for names in (MONTHS, WEEKDAYS):
        present = [n for n in names if re.search(rf"\b{n}\b", sentence)]
        if present:
            old = rng.choice(present)
            new = rng.choice([n for n in names if n != old])
            return re.sub(rf"\b{old}\b", new, sentence, count=1)
    year = YEAR.search(sentence)
    if year:
        return sentence[: year.start()] + str(int(year.group()) + rng.choice([-2, -1, 1, 2])) + sentence[year.end() :]
    return None


def _names(text: str) -> list[str]:
    skip = set(MONTHS) | set(WEEKDAYS)
    return [m.group(1) for m in NAME.finditer(text) if m.group(1) not in skip and len(m.group(1)) > 2]


def change_entity(sentence: str, rng: random.Random, article: str) -> str | None:
    mine = _names(sentence)
    others = sorted(set(_names(article)) - set(mine) - {w for n in mine for w in n.split()})
    if not mine or not others:
        return None
    old = rng.choice(mine)
    return sentence.replace(old, rng.choice(others), 1)


def swap_entities(sentence: str, rng: random.Random, article: str) -> str | None:
    names = list(dict.fromkeys(_names(sentence)))
    if len(names) < 2:
        return None
    a, b = rng.sample(names, 2)
    if a in b or b in a:
        return None
    return sentence.replace(a, "\0").replace(b, a).replace("\0", b)


def negate(sentence: str, rng: random.Random, article: str) -> str | None:
    if NEGATED.search(sentence):
        return NEGATED.sub("", sentence, count=1)
    m = AUXILIARIES.search(sentence)
    if m:
        return sentence[: m.end()] + " not" + sentence[m.end() :]
    return None


def drop_hedge(sentence: str, rng: random.Random, article: str) -> str | None:
    if SAID.search(sentence):
        return SAID.sub(".", sentence, count=1)
    if HEDGES.search(sentence):
        return HEDGES.sub("", sentence, count=1)
    return None


def add_cause(sentence: str, rng: random.Random, article: str) -> str | None:
    body = sentence.rstrip().rstrip(".")
    return f"{body} {rng.choice(CAUSES)}." if body else None


def first_clause(sentence: str, rng: random.Random, article: str) -> str | None:
    for cut in (", which ", ", who ", "; ", ", but ", ", as ", ", while "):
        head = sentence.split(cut, 1)[0]
        if head != sentence and len(head.split()) >= 6:
            return head.rstrip(",;") + "."
    return None


NEGATIVES = {"number": change_number, "scale": change_scale, "date": change_date, "entity": change_entity,
             "swap": swap_entities, "negation": negate, "hedge": drop_hedge, "cause": add_cause}


def make_claim(kind: str, sentences: list[str], index: int, article: str, other: str,
               rng: random.Random) -> SyntheticClaim | None:
    """One claim of ``kind`` from sentence ``index``; ``other`` is a sentence of another article."""
    sentence = sentences[index]
    if kind == "verbatim":
        return SyntheticClaim(sentence, 1, kind)
    if kind == "clause":
        claim = first_clause(sentence, rng, article)
        return SyntheticClaim(claim, 1, kind) if claim else None
    if kind == "fused":
        if index + 1 >= len(sentences):
            return None
        second = sentences[index + 1]
        return SyntheticClaim(f"{sentence.rstrip().rstrip('.')}, and {second[:1].lower()}{second[1:]}", 1, kind)
    if kind == "other-article":
        return SyntheticClaim(other, 0, kind)
    claim = NEGATIVES[kind](sentence, rng, article)
    return SyntheticClaim(claim, 0, kind) if claim and claim.strip() != sentence.strip() else None
