"""Generate: a cited draft from numbered evidence, by a model or (``extractive``) by selection.

The prompt lists the evidence first ([key] publisher, date: title, then text) inside delimiters and
says that article text is data, never instructions; its wording lives in ``prompts/``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from pydantic import BaseModel, Field

from briefing import lexicon
from briefing.answer.prompting import render_prompt
from briefing.answer.verify import Repairer, looks_like_instruction
from briefing.chat import StructuredModel
from briefing.llm import LLMError, strict_schema
from briefing.models import Draft, DraftCitation, DraftSentence, Evidence
from briefing.terms import content_terms, matches
from briefing.text import leans_on_previous, sentence_spans, split_sentences, text_key

log = logging.getLogger(__name__)

SECTIONS = ("Key developments", "Where sources disagree", "What to watch")
DEVELOPMENTS, DISAGREE, WATCH = SECTIONS
ANSWER = "Answer"


def format_evidence(evidence: list[Evidence]) -> str:
    blocks = []
    for item in evidence:
        date = item.published.strftime("%Y-%m-%d") if item.published else "undated"
        text = item.excerpt if item.excerpt is not None else item.text
        first, _, rest = text.partition("\n")
        if rest and text_key(first) == text_key(item.title):  # the first chunk begins with the headline, shown above
            text = rest.lstrip("\n")
        blocks.append(f"[{item.key}] {item.publisher or 'unknown publisher'}, {date}: {item.title}\n{text}")
    return "\n\n".join(blocks)


# --- with a model ----------------------------------------------------------------------------


class _Citation(BaseModel):
    key: str
    quote: str


class _Sentence(BaseModel):
    section: str = "Key developments"
    text: str
    citations: list[_Citation] = Field(default_factory=list)


class _Headline(BaseModel):
    text: str
    citations: list[_Citation] = Field(default_factory=list)


class DraftAnswer(BaseModel):
    """The JSON a model must produce. Parsing is lenient (an uncited sentence is verification's
    business); the schema sent to the provider is stricter, see ``narrowed_schema``."""

    headline: _Headline
    sentences: list[_Sentence] = Field(default_factory=list)


class QuestionAnswer(BaseModel):
    sentences: list[_Sentence] = Field(default_factory=list)


class RepairAnswer(BaseModel):
    text: str
    citations: list[_Citation] = Field(default_factory=list)


def citations_of(items: list[_Citation]) -> list[DraftCitation]:
    return [DraftCitation(key=c.key, quote=c.quote) for c in items]


def narrowed_schema(schema: type[BaseModel], keys: list[str], sections: tuple[str, ...] | None = None) -> dict:
    """``schema`` as JSON schema with citation keys (and sections) limited to the given values.

    Providers that honour JSON schema (llama.cpp grammars, OpenAI) then cannot emit an unknown key;
    verification still checks every key, for providers that don't. The schema is closed for strict
    servers (``llm.strict_schema``).
    """
    json_schema = schema.model_json_schema()
    defs = json_schema["$defs"]
    defs["_Citation"]["properties"]["key"] = {"enum": keys, "type": "string"}
    defs["_Citation"]["properties"]["quote"].update(maxLength=300)
    for holder in [json_schema, *defs.values()]:
        props = holder.get("properties", {})
        if "citations" in props:
            props["citations"].update(minItems=1, maxItems=3)
            props["text"].update(maxLength=300)
    if "sentences" in json_schema["properties"]:
        json_schema["properties"]["sentences"].update(minItems=1, maxItems=10)
    if sections and "_Sentence" in defs:
        defs["_Sentence"]["properties"]["section"] = {"enum": list(sections), "type": "string"}
    return strict_schema(json_schema)


def brief_messages(query: str, evidence: list[Evidence], length: int = 6) -> list[tuple[str, str]]:
    """The (role, text) messages that ask for a brief on ``query``."""
    sections = f"{', '.join(SECTIONS)} (at most {length} key developments)"
    return [
        ("system", render_prompt("brief_system")),
        ("human", render_prompt("brief_user", evidence=format_evidence(evidence), query=query, sections=sections)),
    ]


def draft_brief(query: str, evidence: list[Evidence], llm: StructuredModel, length: int = 6) -> Draft:
    """Ask the model for a brief on ``query`` written only from ``evidence``."""
    messages = brief_messages(query, evidence, length)
    answer = llm.generate(messages, DraftAnswer, narrowed_schema(DraftAnswer, [e.key for e in evidence], SECTIONS))
    return Draft(
        headline=DraftSentence(section="headline", text=answer.headline.text, citations=citations_of(answer.headline.citations)),
        sentences=[DraftSentence(section=s.section, text=s.text, citations=citations_of(s.citations)) for s in answer.sentences],
    )


def draft_answer(question: str, evidence: list[Evidence], llm: StructuredModel) -> list[DraftSentence]:
    """Ask the model for a short cited answer to ``question`` from ``evidence`` only."""
    messages = [
        ("system", render_prompt("answer_system")),
        ("human", render_prompt("answer_user", evidence=format_evidence(evidence), question=question)),
    ]
    schema = narrowed_schema(QuestionAnswer, [e.key for e in evidence], (ANSWER,))
    schema["properties"]["sentences"].update(minItems=0, maxItems=5)
    answer = llm.generate(messages, QuestionAnswer, schema)
    return [DraftSentence(section=ANSWER, text=s.text, citations=citations_of(s.citations)) for s in answer.sentences[:5]]


def make_repairer(llm: StructuredModel) -> Repairer:
    """A function that rewrites one failing sentence from the given evidence only."""

    def repair(sentence: str, evidence: list[Evidence]) -> DraftSentence | None:
        messages = [
            ("system", render_prompt("repair_system")),
            ("human", render_prompt("repair_user", sentence=sentence, evidence=format_evidence(evidence))),
        ]
        try:
            answer = llm.generate(messages, RepairAnswer, narrowed_schema(RepairAnswer, [e.key for e in evidence]))
        except LLMError as exc:  # a failed repair leaves the sentence to replacement or removal
            log.warning("repair failed: %s", exc)
            return None
        return DraftSentence(text=answer.text, citations=citations_of(answer.citations))

    return repair


# --- without a model -------------------------------------------------------------------------

_FUTURE = re.compile(r"\b(will|plans? to|is set to|are set to|expected to|scheduled|next week|upcoming|called a meeting)\b", re.I)


def looks_forward(sentence: str) -> bool:
    """Whether a sentence says what is planned or expected: "will", "is set to", "next week"."""
    return bool(_FUTURE.search(sentence))


HEADLINE_WEIGHT = 0.7
"""Relevance factor of a headline as a candidate sentence: a body sentence that matches as well
says it in full, so it goes first; a headline still wins where it alone states the fact (feed items)."""


class Candidate:
    """A source sentence that may be picked; ``shown`` is what a pick shows: the sentence, or the
    sentence with the ones before it back to one that stands alone, when it leans on them (then
    ``in_context`` is true; see ``_shown_from``)."""

    def __init__(self, evidence: Evidence, text: str, order: int, relevance: float, shown: str | None = None,
                 headline: bool = False):
        self.evidence = evidence
        self.headline = headline
        self.text = text
        self.shown = shown or text
        self.in_context = self.shown != text
        self.context_key = text_key(self.shown[: len(self.shown) - len(text)]) if self.in_context else ""
        self.order = order
        self.relevance = relevance
        self.terms = content_terms(self.shown)
        self.headline_terms = content_terms(evidence.title)
        self.figures = figures(text)
        self.subjects = {term for _, subject in self.figures for term in subject}
        self.id = f"{evidence.key}:{order}"
        self.date = evidence.published.isoformat() if evidence.published else ""

    def draft(self, section: str) -> DraftSentence:
        citation = DraftCitation(key=self.evidence.key, quote=self.shown)
        return DraftSentence(section=section, text=self.shown, citations=[citation], origin="source")


def disagreement_sentences(query: str, evidence: list[Evidence], pairs: int = 2, section: str = DISAGREE,
                           on_topic: bool = False, shown: Sequence[str] = ()) -> list[DraftSentence]:
    """Source sentences that give different figures for the same thing, as drafted pairs.

    ``on_topic`` keeps only pairs whose sentences each share two or more terms with ``query``; a
    pair whose sentences are all among ``shown`` (texts already in the answer) adds nothing and is
    left out.
    """
    ranked = sorted(candidate_sentences(query, evidence), key=lambda c: (-c.relevance, c.order))
    if on_topic:
        wanted = content_terms(query)
        ranked = [c for c in ranked if len(c.terms & wanted) >= 2]
    known = {text_key(text) for text in shown}
    found = disagreements(ranked, pairs + len(known))
    fresh = [pair for pair in found if not all(text_key(c.text) in known for c in pair)]
    return [c.draft(section) for pair in fresh[:pairs] for c in pair]


def candidate_sentences(query: str, evidence: list[Evidence], answering: bool = False) -> list[Candidate]:
    """Every source sentence of ``evidence`` that may be picked, once, in retrieval order. A last
    sentence the feed cut off mid-word, and a headline its body restates, are left out unless
    ``answering``: an answer may need the cut sentence's words, or the one word the body leaves out
    of the headline ("Ministry Calls Report ... 'Fake'")."""
    query_terms = content_terms(query)
    out: list[Candidate] = []
    seen: set[str] = set()
    for rank, item in enumerate(evidence):
        prior = 1.0 / (1 + rank)  # retrieval order already blends dense, keyword and diversity
        spans = sentence_spans(item.text)
        for i, (start, end) in enumerate(spans):
            text = item.text[start:end]
            key = text_key(text)
            terms = content_terms(text)
            fragment = len(terms) < 3 and not any(ch.isdigit() for ch in text)  # "The results are below."
            if fragment or key in seen or looks_like_instruction(text) or text.endswith((":", "?")):
                continue  # a fragment, a repeat, or not a statement; a short table row with a figure counts
            headline = i == 0 and item.start == 0 and text_key(text) == text_key(item.title)
            if not headline and not answering and i == len(spans) - 1 and _cut_off(text):
                continue  # the feed cut the text mid-sentence ("...from hard bargaining to simply walking aw")
            if headline and not answering and _restated(terms, item.text[end:]):
                continue  # a headline the body restates is left to the body, which says more
            shown_from = _shown_from(item.text, spans, i)
            if shown_from is None:
                continue
            if shown_from != start:
                terms = content_terms(item.text[shown_from:end])
            seen.add(key)
            overlap = len(query_terms & terms) / max(len(query_terms), 1)
            relevance = 0.6 * overlap + 0.4 * prior
            if headline:
                relevance *= HEADLINE_WEIGHT
            out.append(Candidate(item, text, len(out), relevance, item.text[shown_from:end], headline))
    return out


_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")


def _cut_off(sentence: str) -> bool:
    """Whether the last sentence of a text stops without ending: no full stop, question or
    exclamation mark (a quote mark or bracket may follow it). Feed summaries are often cut at a
    length, mid-word."""
    return not _SENTENCE_END.search(sentence.rstrip())


def _shown_from(text: str, spans: list[tuple[int, int]], i: int) -> int | None:
    """Where a pick of sentence ``i`` starts: at the sentence, or at the nearest one before that
    stands alone when it leans on those between ("At least 10,000 of them..."); None when none
    does within ``thresholds.toml [leads] leaning_chain`` sentences."""
    for back in range(int(lexicon.threshold("leads", "leaning_chain")) + 1):
        j = i - back
        if j < 0:
            return None
        if not leans_on_previous(text[spans[j][0] : spans[j][1]]):
            return spans[j][0]
    return None


def _restated(headline_terms: frozenset[str], body: str) -> bool:
    """Whether one sentence of ``body`` states at least 60% of a headline's content terms."""
    for sentence in split_sentences(body):
        pool = content_terms(sentence)
        if headline_terms and sum(matches(t, pool) for t in headline_terms) >= 0.6 * len(headline_terms):
            return True
    return False


MONTH_BEFORE = re.compile(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*$", re.I)
_FIGURE = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?")


def figures(text: str) -> list[tuple[float, frozenset[str]]]:
    """Quantities in ``text`` with what they count: the first content terms after each number.

    Years and days of the month are dates, not figures, and are left out.
    """
    out = []
    for match in _FIGURE.finditer(text):
        value = float(match.group().replace(",", ""))
        if 1900 <= value <= 2100 or MONTH_BEFORE.search(text[max(0, match.start() - 6) : match.start()]):
            continue
        following = re.sub(r"^[\s\d,.–-]*(to|and|or)?[\s\d,.–-]*", "", text[match.end() : match.end() + 60])
        subject = frozenset(list(_ordered_terms(following))[:2])
        if subject:
            out.append((value, subject))
    return out


def _ordered_terms(text: str) -> dict[str, None]:
    from briefing.terms import STOPWORDS, tokens

    return dict.fromkeys(t.term for t in tokens(text) if t.term not in STOPWORDS and len(t.term) > 1)


_LOSS_TERMS = frozenset({"kill", "wound", "casualti", "captur", "miss", "loss", "lost"})


def disagreements(ranked: list[Candidate], pairs: int = 2) -> list[tuple[Candidate, Candidate]]:
    """Pairs from different articles giving different figures for the same thing, widest gap first.

    "The same thing" means the words right after the figures agree (e.g. "North Korean troops") and
    both or neither count losses; sentences that lean on a pronoun are left out.
    """
    usable = [c for c in ranked if c.figures and not c.in_context and not leans_on_previous(c.text)]
    scored = []
    for i, a in enumerate(usable):
        for b in usable[i + 1 :]:
            gap = _figure_gap(a, b)
            if gap and a.evidence.article_id != b.evidence.article_id:
                scored.append((-gap, i, a, b))
    found: list[tuple[Candidate, Candidate]] = []
    taken: set[str] = set()
    for _, _, a, b in sorted(scored, key=lambda item: item[:2]):
        if a.id not in taken and b.id not in taken and len(found) < pairs:
            first, second = sorted((a, b), key=lambda c: (c.date, c.order))
            found.append((first, second))
            taken.update((a.id, b.id))
    return found


def _figure_gap(a: Candidate, b: Candidate) -> float:
    """Ratio between the two sentences' figures for a shared subject; 0 when they are not comparable."""
    if (a.terms & _LOSS_TERMS) != (b.terms & _LOSS_TERMS):
        return 0.0
    best = 0.0
    for value_a, subject_a in a.figures:
        for value_b, subject_b in b.figures:
            if len(subject_a & subject_b) >= 2 and value_a != value_b and min(value_a, value_b) > 0:
                best = max(best, max(value_a, value_b) / min(value_a, value_b))
    if any(va == vb for va, _ in a.figures for vb, _ in b.figures):
        return 0.0  # a shared figure means the sources agree on something; not a clean disagreement
    return best


def _diverse(ranked: list[Candidate], used: set[str], limit: int, per_article: int = 2) -> list[Candidate]:
    """Greedy pick by relevance, skipping near-repeats (term Jaccard ≥ 0.5) and crowded articles."""
    picked: list[Candidate] = []
    per: dict[str, int] = {}
    for candidate in ranked:
        if len(picked) == limit:
            break
        if candidate.id in used:
            continue
        shown_alone = next((i for i, p in enumerate(picked) if candidate.context_key and text_key(p.text) == candidate.context_key), None)
        if shown_alone is not None:  # the sentence it leans on is picked: show the two together there
            picked[shown_alone] = candidate
            continue
        if any(p.context_key == text_key(candidate.text) for p in picked):
            continue  # already shown as the context of a picked sentence
        if per.get(candidate.evidence.article_id, 0) >= per_article or any(_jaccard(candidate.terms, p.terms) >= 0.5 for p in picked):
            continue
        picked.append(candidate)
        per[candidate.evidence.article_id] = per.get(candidate.evidence.article_id, 0) + 1
    return picked


def _jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0
