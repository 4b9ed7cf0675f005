"""Verify: every sentence of a draft must cite evidence, quote it exactly, and be supported by it.

1. Structure: the draft is re-split by our own splitter; each sentence needs a citation whose key
   was in the evidence; sentences carry no links.
2. Quote grounding: each quote must be found in the cited chunk (normalized, fuzzy ≥ 0.9); its
   offsets in the article are recorded. Text that reads as an instruction to the model is never
   accepted as support.
3. Support: the judge compares the sentence with the cited source sentences.
4. Repair: a failing sentence is rewritten once from its cited evidence and checked again; if it
   still fails it is replaced by the best supporting source sentence, shown as a quotation, or
   dropped. Nothing unverified is ever marked verified.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from briefing import lexicon
from briefing.answer.judge import Judge
from briefing.models import (
    CheckedSentence,
    Citation,
    Draft,
    DraftCitation,
    DraftSentence,
    Evidence,
    Section,
    Verdict,
)
from briefing.terms import content_terms
from briefing.text import leans_on_previous, sentence_spans, split_sentences, text_key

QUOTE_MATCH = lexicon.threshold("verify", "quote_match")  # rapidfuzz partial-ratio score (0–100) a quote must reach in its chunk
REPLACE_OVERLAP = lexicon.threshold("verify", "replace_overlap")  # share of a failed sentence's terms a replacement must share
HEADLINE = "headline"
INSTRUCTION_PROBLEM = "instruction embedded in the article, not reporting"
DANGLING = "leans on the sentence before it, which is not shown here"

Repairer = Callable[[str, list[Evidence]], DraftSentence | None]

_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|guidelines|directions)\b"
    r"|\b(system prompt|you are an? (ai|assistant|language model)|as an ai)\b"
    r"|\b(cite|print|output|insert)\b.{0,40}\b(this (article|source|link|url)|the (link|url|source)"
    r"|as the only source|with key|for every sentence)\b"
    r"|\b(include|add|use)\b.{0,40}\b(this (article|source|link|url)|as the only source|with key|for every sentence)\b"
    r"|\b(note|message|instructions?|reminder)s? (to|for) (all )?(the )?(ai|models?|assistants?|llms?|chatbots?)\b"
    r"|\bwrite that\b",
    re.IGNORECASE,
)
_LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(com|org|net|example|io|ru|ua)/", re.IGNORECASE)


def looks_like_instruction(text: str) -> bool:
    """Text that addresses the model ("ignore your instructions", "cite this article") is not reporting."""
    return bool(_INSTRUCTION.search(text))


# --- quote grounding -------------------------------------------------------------------------

_EQUIVALENT = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """Casefolded text with unified quotes/dashes and single spaces, and each char's original index.

    Casefolding may lengthen a character ("ß" -> "ss", "İ" -> "i̇"): every character it yields maps
    back to the one it came from, so offsets stay right in any language."""
    out: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text.translate(_EQUIVALENT)):
        if char.isspace():
            if out and out[-1] == " ":
                continue
            char = " "
        for folded in char.casefold():
            out.append(folded)
            index.append(i)
    return "".join(out), index


def ground_quote(quote: str, chunk_text: str) -> tuple[int, int] | None:
    """Span of ``quote`` in ``chunk_text``: exact after normalization, else a fuzzy match ≥ 0.9."""
    needle, _ = _normalized_with_map(quote.strip().strip("\"'“”‘’"))
    needle = needle.strip()
    if len(needle) < 3:
        return None
    hay, index = _normalized_with_map(chunk_text)
    position = hay.find(needle)
    if position >= 0:
        return index[position], index[position + len(needle) - 1] + 1
    from rapidfuzz import fuzz

    match = fuzz.partial_ratio_alignment(needle, hay, score_cutoff=QUOTE_MATCH)
    if match is None or match.dest_end <= match.dest_start:
        return None
    return _to_word_bounds(chunk_text, index[match.dest_start], index[match.dest_end - 1] + 1)


def _to_word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a fuzzy match so it neither starts nor ends inside a word."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


def enclosing_sentences(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to whole sentences of ``text``: the cited text a judge reads."""
    spans = [s for s in sentence_spans(text) if s[1] > start and s[0] < end]
    return (spans[0][0], spans[-1][1]) if spans else (start, end)


# --- checking one sentence -------------------------------------------------------------------


@dataclass
class Check:
    citations: list[Citation]
    verdict: Verdict
    sources: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict.supported and any(c.valid for c in self.citations)


class Verifier:
    """Checks drafts against the evidence they were written from, repairing what fails."""

    def __init__(self, evidence: list[Evidence], judge: Judge, repairer: Repairer | None = None, max_repairs: int = 8,
                 replace: bool = True):
        self.evidence = {e.key: e for e in evidence}
        self.replace = replace  # answers turn this off: a replacement need not address the question
        self.judge = judge
        self.repairer = repairer
        self.repairs_left = max_repairs  # each repair is a model call: bound the cost of a bad draft
        self._shown: set[str] = set()

    def prepare(self, drafted: list[DraftSentence], headline_first: bool = False) -> None:
        """Let a judge that batches (``prepare(pairs)``, the model-backed judge) see every sentence
        of these drafts with its cited text at once, before they are checked one by one."""
        prepare = getattr(self.judge, "prepare", None)
        if prepare is None:
            return
        pairs = []
        for number, draft in enumerate(drafted):
            # A headline is judged as one text (``_verify_headline``), a sentence piece by piece.
            pieces = [" ".join(split_sentences(draft.text))] if number == 0 and headline_first else split_sentences(draft.text)
            for piece in pieces:
                grounded = self._grounded(piece, draft.citations)
                if grounded.sources:
                    pairs.append((piece, grounded.sources))
        if pairs:
            prepare(pairs)

    def verify(self, draft: Draft) -> tuple[CheckedSentence | None, list[Section]]:
        self.prepare([draft.headline, *draft.sentences], headline_first=True)
        headline = self._verify_headline(draft.headline)
        sections: dict[str, list[CheckedSentence]] = {}
        for drafted in draft.sentences:
            for checked in self.verify_sentence(drafted):
                sections.setdefault(drafted.section.strip() or "Key developments", []).append(checked)
        return headline, [Section(title=title, sentences=items) for title, items in sections.items()]

    def _verify_headline(self, drafted: DraftSentence) -> CheckedSentence | None:
        text = " ".join(split_sentences(drafted.text))
        if not text:
            return None
        checked = self._settle(HEADLINE, text, drafted.citations, allow_replace=False)
        return _with_origin(checked, drafted) if checked.shown else None

    def verify_sentence(self, drafted: DraftSentence) -> list[CheckedSentence]:
        """Re-split the drafted text; each piece keeps the drafted citations and is settled alone.

        A piece that leans on the piece before it ("He spoke...", "At least 10,000 of them...") is
        shown only right after it: when that one is not shown (a repeat of an earlier sentence, or
        unsupported), the dependent piece is dropped too rather than left dangling."""
        settled: list[CheckedSentence] = []
        for piece in split_sentences(drafted.text):
            if settled and not settled[-1].shown and leans_on_previous(piece):
                settled.append(self._dropped(drafted.section, piece, drafted.citations, DANGLING))
                continue
            settled.append(self._settle(drafted.section, piece, drafted.citations))
        return [_with_origin(s, drafted) for s in settled]

    def _settle(self, section: str, text: str, citations: list[DraftCitation], allow_replace: bool = True) -> CheckedSentence:
        if text_key(text) in self._shown:
            return self._dropped(section, text, citations, "repeats an earlier sentence")
        check = self.check(text, citations)
        if check.passed:
            return self._shown_as(section, text, check, "kept")
        if any(c.problem and INSTRUCTION_PROBLEM in c.problem for c in check.citations):
            # It leans on text that addresses the model: the draft followed an injection. No second chance.
            return CheckedSentence(section=section, text=text, citations=check.citations, verdict=check.verdict,
                                   action="dropped", original=text)
        repaired = self._repair(section, text, citations)
        if repaired is not None:
            return repaired
        replacement = self._replacement(text, check) if allow_replace and self.replace else None
        if replacement is not None:
            return replacement.model_copy(update={"section": section, "original": text})
        return CheckedSentence(section=section, text=text, citations=check.citations, verdict=check.verdict,
                               action="dropped", original=text)

    def check(self, text: str, citations: list[DraftCitation]) -> Check:
        """Structure, grounding and support of one sentence; never modifies anything."""
        grounded = self._grounded(text, citations)
        if not grounded.sources:
            return grounded
        if any(text_key(text) == text_key(sentence) for source in grounded.sources for sentence in split_sentences(source)):
            # Word for word a whole sentence of the cited text: it says what its source says (the
            # judges' checks of meaning can misread a headline, "Calling for X's Death" as a plan).
            verdict = Verdict(supported=True, score=1.0, reason="a sentence of the cited text, word for word", judge=self.judge.name)
            return Check(grounded.citations, verdict, grounded.sources)
        return Check(grounded.citations, self.judge.judge(text, grounded.sources), grounded.sources)

    def _grounded(self, text: str, citations: list[DraftCitation]) -> Check:
        """Structure and grounding of one sentence: its citations with the cited text to judge it
        by, or a failed verdict saying why there is none."""
        if _LINK.search(text):
            return Check([], self._fail("the sentence contains a link"))
        if not citations:
            return Check([], self._fail("no citation"))
        checked = [self._ground(c) for c in citations]
        valid = [c for c in checked if c.valid]
        if not valid:
            return Check(checked, self._fail("; ".join(dict.fromkeys(c.problem for c in checked if c.problem))))
        return Check(checked, self._fail("not judged yet"), [self._cited_text(c) for c in valid])

    def _ground(self, citation: DraftCitation) -> Citation:
        evidence = self.evidence.get(citation.key.strip())
        if evidence is None:
            return Citation(key=citation.key, quote=citation.quote, valid=False, problem=f"key {citation.key!r} is not in the evidence")
        span = ground_quote(citation.quote, evidence.text)
        if span is None:
            return Citation(key=evidence.key, quote=citation.quote, url=evidence.url, valid=False,
                            problem=f"quote not found in {evidence.key}")
        start, end = enclosing_sentences(evidence.text, *span)
        if looks_like_instruction(evidence.text[start:end]):
            return Citation(key=evidence.key, quote=citation.quote, url=evidence.url, valid=False,
                            problem=f"cited text in {evidence.key} is an {INSTRUCTION_PROBLEM}")
        return Citation(key=evidence.key, quote=evidence.text[span[0] : span[1]], start=evidence.start + span[0],
                        end=evidence.start + span[1], url=evidence.url)

    def _cited_text(self, citation: Citation) -> str:
        evidence = self.evidence[citation.key]
        assert citation.start is not None and citation.end is not None  # a valid citation was found in its chunk
        start, end = enclosing_sentences(evidence.text, citation.start - evidence.start, citation.end - evidence.start)
        return evidence.text[start:end]

    def _fail(self, reason: str) -> Verdict:
        return Verdict(supported=False, score=0.0, reason=reason, judge=self.judge.name)

    # --- repair and replacement ---------------------------------------------------------------

    def _repair(self, section: str, text: str, citations: list[DraftCitation]) -> CheckedSentence | None:
        """One rewrite by the model from the cited evidence only, checked like any sentence."""
        cited = [self.evidence[k] for k in dict.fromkeys(c.key.strip() for c in citations) if k in self.evidence]
        if self.repairer is None or not cited or self.repairs_left <= 0:
            return None
        self.repairs_left -= 1
        rewritten = self.repairer(text, cited)
        if rewritten is None:
            return None
        allowed = {e.key for e in cited}
        own = [c for c in rewritten.citations if c.key.strip() in allowed]
        pieces = split_sentences(rewritten.text)
        if len(pieces) != 1 or text_key(pieces[0]) in self._shown:
            return None
        check = self.check(pieces[0], own)
        if not check.passed:
            return None
        return self._shown_as(section, pieces[0], check, "repaired", original=text)

    def _replacement(self, text: str, failed: Check) -> CheckedSentence | None:
        """The source sentence sharing most of the failed sentence's terms, quoted verbatim."""
        terms = content_terms(text)
        if not terms:
            return None
        valid_keys = [c.key for c in failed.citations if c.valid]
        pool = valid_keys or [c.key for c in failed.citations if c.key in self.evidence]
        best = None
        for key in pool:
            evidence = self.evidence[key]
            for start, end in sentence_spans(evidence.text):
                sentence = evidence.text[start:end]
                if (looks_like_instruction(sentence) or text_key(sentence) in self._shown or len(sentence.split()) < 5
                        or leans_on_previous(sentence)):
                    continue
                overlap = len(terms & content_terms(sentence)) / len(terms)
                if overlap >= REPLACE_OVERLAP and (best is None or overlap > best[0]):
                    best = (overlap, evidence, start, end)
        if best is None:
            return None
        _, evidence, start, end = best
        sentence = evidence.text[start:end]
        check = self.check(sentence, [DraftCitation(key=evidence.key, quote=sentence)])
        if not check.passed:
            return None
        return self._shown_as("", sentence, check, "replaced", quotation=True).model_copy(update={"origin": "source"})

    def _shown_as(self, section: str, text: str, check: Check, action: str, original: str | None = None,
                  quotation: bool = False) -> CheckedSentence:
        self._shown.add(text_key(text))
        return CheckedSentence(section=section, text=text, citations=check.citations, verdict=check.verdict,
                               action=action, original=original, quotation=quotation)

    def _dropped(self, section: str, text: str, citations: list[DraftCitation], reason: str) -> CheckedSentence:
        cited = [Citation(key=c.key, quote=c.quote, valid=False, problem=reason) for c in citations]
        return CheckedSentence(section=section, text=text, citations=cited, verdict=self._fail(reason),
                               action="dropped", original=text)


def _with_origin(checked: CheckedSentence, drafted: DraftSentence) -> CheckedSentence:
    """Who wrote the shown text: the drafter when it stands as drafted (or was dropped); the model
    when it repaired it; a source when its sentence replaced it."""
    origin = {"repaired": "model", "replaced": "source"}.get(checked.action, drafted.origin)
    return checked.model_copy(update={"origin": origin})
