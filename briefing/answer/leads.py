"""A brief drafted story by story: each chosen story gets its most informative sentence, citing
every outlet that reports it (extractive), or one or two sentences a model writes from that story's
chunks only (map); the brief's headline is the most salient story's lead fact (reduce).

The extractive lead of a story is the candidate sentence (``generate.candidate_sentences``: a
sentence, or a sentence with the one it leans on) closest to both the topic and the story's own
centroid; its headline is a candidate when the body does not restate it, and gains a bonus
(``leads.headline_figure``) when it holds a figure the body leaves out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from briefing import lexicon
from briefing.answer.generate import (
    DEVELOPMENTS,
    WATCH,
    Candidate,
    QuestionAnswer,
    candidate_sentences,
    citations_of,
    figures,
    format_evidence,
    looks_forward,
    narrowed_schema,
)
from briefing.answer.prompting import render_prompt
from briefing.answer.stories import Gathered
from briefing.chat import StructuredModel
from briefing.embedding import Embedder
from briefing.llm import LLMError
from briefing.models import Draft, DraftCitation, DraftSentence, Evidence, Story
from briefing.terms import content_terms
from briefing.text import leans_on_previous, split_sentences, text_key

log = logging.getLogger(__name__)

WATCH_SENTENCES = 2
STORY_SENTENCES = 2  # a model writes one or two sentences a story


@dataclass
class Lead:
    """A story's ranked candidate sentences, best first (the first is its lead)."""

    story: Story
    candidates: list[Candidate]


def story_leads(query: str, gathered: Gathered, stories: Sequence[Story], embedder: Embedder) -> list[Lead]:
    """Each story's candidate sentences ranked by informativeness: cosine to the topic plus cosine
    to the story's centroid, plus a bonus for a headline that holds a figure its body lacks."""
    figure_bonus = lexicon.threshold("leads", "headline_figure")
    per_story = [candidate_sentences(query, gathered.chunks_of(story)) for story in stories]
    texts = [c.shown for candidates in per_story for c in candidates]
    if not texts:
        return [Lead(story, []) for story in stories]
    vectors = embedder.embed(texts)
    topic = gathered.query_vector if gathered.query_vector is not None else embedder.embed([query])[0]
    leads, offset = [], 0
    for story, candidates in zip(stories, per_story):
        rows = vectors[offset : offset + len(candidates)]
        offset += len(candidates)
        centroid = np.mean([gathered.vectors[k] for k in story.keys if k in gathered.vectors], axis=0)
        centroid = centroid / (np.linalg.norm(centroid) or 1.0)
        scores = rows @ topic + rows @ centroid if len(candidates) else np.empty(0)
        bonus = [figure_bonus if c.headline and _figures_left_out(c, candidates) else 0.0 for c in candidates]
        order: list[int] = np.argsort(-(scores + np.array(bonus)), kind="stable").tolist() if len(candidates) else []
        leads.append(Lead(story, [candidates[i] for i in order]))
    return leads


def _figures_left_out(headline: Candidate, candidates: list[Candidate]) -> bool:
    """Whether a headline holds a figure that no body sentence of its chunk gives."""
    body = {value for c in candidates if c.evidence.key == headline.evidence.key and not c.headline for value, _ in c.figures}
    return bool({value for value, _ in headline.figures} - body)


def cited_by_every_outlet(candidate: Candidate, story: Story, gathered: Gathered) -> DraftSentence:
    """The candidate as a drafted sentence citing its own chunk and every other outlet of the story
    that states it too: the outlet's sentence holding at least ``leads.cite_share`` of the
    candidate's content terms and all of its figures (the judge reads the cited texts together,
    so an outlet that only mentions the story is not cited)."""
    citations = [DraftCitation(key=candidate.evidence.key, quote=candidate.shown)]
    cited_outlets = {candidate.evidence.publisher or candidate.evidence.article_id}
    for chunk in gathered.chunks_of(story):
        outlet = chunk.publisher or chunk.article_id
        if outlet in cited_outlets:
            continue
        quote = _same_statement(candidate, chunk)
        if quote:
            citations.append(DraftCitation(key=chunk.key, quote=quote))
            cited_outlets.add(outlet)
    return DraftSentence(section=DEVELOPMENTS, text=candidate.shown, citations=citations, origin="source")


def _same_statement(candidate: Candidate, chunk: Evidence) -> str | None:
    """The sentence of ``chunk`` (its headline included) that states what the candidate states, if any."""
    share = lexicon.threshold("leads", "cite_share")
    wanted = {value for value, _ in candidate.figures}
    best, best_shared = None, 0.0
    for sentence in [chunk.title, *split_sentences(chunk.text)]:
        shared = len(content_terms(sentence) & candidate.terms) / max(len(candidate.terms), 1)
        if shared >= share and shared > best_shared and wanted <= {value for value, _ in figures(sentence)}:
            best, best_shared = sentence.strip(), shared
    return best


def extractive_story_brief(leads: list[Lead], gathered: Gathered) -> Draft:
    """The headline from the most salient dated story's best stand-alone sentence; one bullet per
    story (the headline's story gives its next sentence, if it has one) in date order; what to watch
    from the latest stories' forward-looking sentences."""
    if not any(lead.candidates for lead in leads):
        return Draft(headline=DraftSentence(section="headline", text=""), sentences=[])
    top = headline_story(leads)
    headline = next((c for c in top.candidates if _stands_alone(c)), top.candidates[0])
    if not _stands_alone(headline):  # the most salient story has only leaning sentences: the next that has one
        top, headline = next(((lead, c) for lead in _dated_first(leads) for c in lead.candidates if _stands_alone(c)),
                             (top, headline))
    used = {headline.id}
    bullets: list[tuple[Story, Candidate]] = []
    budget, count = int(lexicon.threshold("leads", "sentences")), _pieces(headline)
    for lead in leads:
        pick = next((c for c in lead.candidates if c.id not in used and not _overlaps(c, headline)), None)
        if pick is None:
            continue
        if bullets and count + _pieces(pick) > budget:
            continue  # breadth first: every story whose lead fits gets it before any gets a second sentence
        used.add(pick.id)
        count += _pieces(pick)
        bullets.append((lead.story, pick))
    more = _more_sentences(leads, bullets, headline, used)
    bullets.sort(key=lambda sp: in_date_order(sp[0]))
    sentences = [cited_by_every_outlet(c, story, gathered) for story, pick in bullets
                 for c in [pick, *more.get(story.id, [])]]
    sentences += watch_sentences(leads, used)
    head = cited_by_every_outlet(headline, top.story, gathered).model_copy(update={"section": "headline"})
    return Draft(headline=head, sentences=sentences)


def _more_sentences(leads: list[Lead], bullets: list[tuple[Story, Candidate]], headline: Candidate,
                    used: set[str]) -> dict[str, list[Candidate]]:
    """More picks for the most salient stories, in rounds, while the brief stays within its sentence
    budget (``thresholds.toml [leads] sentences``): round 1 gives any story a second pick, round r
    (r >= 2) a story of more than r reports (articles, or chunks of one long article) its
    (r + 1)th. A pick is the story's best-ranked candidate that adds at least ``new_terms`` content
    terms to what it and the brief's headline already show (a headline's fact beside the body's,
    another outlet's detail) and does not restate one of them (``_restates``). A story gets at
    most ``per_story`` picks; a pick may be a sentence with the one it leans on."""
    budget = int(lexicon.threshold("leads", "sentences"))
    wanted = int(lexicon.threshold("leads", "new_terms"))
    most = int(lexicon.threshold("leads", "per_story"))
    count = _pieces(headline) + sum(_pieces(pick) for _, pick in bullets)
    shown = {story.id: [pick] for story, pick in bullets}
    out: dict[str, list[Candidate]] = {}
    for round_ in range(1, most):
        for lead in leads:
            picked = shown.get(lead.story.id)
            reports = max(len(lead.story.article_ids), len(lead.story.keys))  # articles, or chunks of a long one
            if not picked or reports < (1 if round_ == 1 else round_ + 1) or len(picked) > round_:
                continue
            seen = frozenset().union(headline.terms, *(c.terms for c in picked))
            adding = [c for c in lead.candidates if c.id not in used and len(c.terms - seen) >= wanted
                      and not any(_overlaps(c, p) or _overlaps(p, c) or _restates(c, p) for p in [*picked, headline])]
            more = next(iter(adding), None)
            if more is None or count + _pieces(more) > budget:
                continue
            used.add(more.id)
            count += _pieces(more)
            picked.append(more)
            out.setdefault(lead.story.id, []).append(more)
    return out


def _restates(candidate: Candidate, shown: Candidate) -> bool:
    """Whether a candidate says again what a shown pick says, in other words: at least
    ``leads.restated_share`` of its content terms are the pick's ("Cabinet ministers agreed to send
    ferries to the islands" after "Ministers agreed to send 40 ferries to the islands")."""
    share = lexicon.threshold("leads", "restated_share")
    return bool(candidate.terms) and len(candidate.terms & shown.terms) >= share * len(candidate.terms)


def _pieces(candidate: Candidate) -> int:
    return max(len(split_sentences(candidate.shown)), 1)


def in_date_order(story: Story) -> tuple:
    """Sort key of stories in the order a brief tells them: by first report, undated last."""
    return (story.first_published is None, story.first_published or story.last_published, story.id)


def headline_story(leads: list[Lead]) -> Lead:
    """The most salient story with a sentence, preferring dated stories when any is dated."""
    return _dated_first(leads)[0]


def _dated_first(leads: list[Lead]) -> list[Lead]:
    """The stories with a sentence, in salience order; only the dated ones when any is dated."""
    usable = [lead for lead in leads if lead.candidates]
    return [lead for lead in usable if lead.story.last_published is not None] or usable


def _stands_alone(candidate: Candidate) -> bool:
    """A headline must read alone: not a sentence leaning on another, not a fragment."""
    return not candidate.in_context and not leans_on_previous(candidate.text) and len(candidate.terms) >= 4


def _overlaps(candidate: Candidate, other: Candidate) -> bool:
    return text_key(candidate.text) == text_key(other.text) or text_key(other.text) in text_key(candidate.shown)


def watch_sentences(leads: list[Lead], used: set[str]) -> list[DraftSentence]:
    """At most ``WATCH_SENTENCES`` forward-looking sentences, from the most recent stories first."""
    recent = sorted((lead for lead in leads if lead.story.last_published is not None),
                    key=lambda lead: lead.story.last_published or datetime.min, reverse=True)
    out = []
    for lead in recent:
        pick = next((c for c in lead.candidates if c.id not in used and looks_forward(c.text)), None)
        if pick is not None:
            used.add(pick.id)
            out.append(DraftSentence(section=WATCH, text=pick.shown, origin="source",
                                     citations=[DraftCitation(key=pick.evidence.key, quote=pick.shown)]))
        if len(out) == WATCH_SENTENCES:
            break
    return out


# --- with a model: map, then reduce ----------------------------------------------------------


def story_messages(query: str, chunks: list[Evidence]) -> list[tuple[str, str]]:
    """The (role, text) messages that ask for one or two sentences on one story."""
    return [("system", render_prompt("story_system")),
            ("human", render_prompt("story_user", evidence=format_evidence(chunks), query=query))]


class StoryAnswer(QuestionAnswer):
    """The JSON a model writes for one story: one or two cited sentences."""


def draft_story(query: str, chunks: list[Evidence], llm: StructuredModel, others: AbstractSet[str] = frozenset()) -> list[DraftSentence]:
    """One or two cited sentences on one story, written from its chunks only (the map step): a
    citation of another story's chunk (``others``) is left out, so a sentence that cites only other
    stories stands uncited and verification drops it; a key of no chunk is left for verification
    to name."""
    keys = [c.key for c in chunks]
    answer = llm.generate(story_messages(query, chunks), StoryAnswer, narrowed_schema(StoryAnswer, keys))
    return [DraftSentence(section=DEVELOPMENTS, text=s.text, citations=[c for c in citations_of(s.citations) if c.key not in others])
            for s in answer.sentences[:STORY_SENTENCES]]


def model_story_brief(query: str, leads: list[Lead], gathered: Gathered, llm: StructuredModel) -> Draft:
    """Each story drafted by the model from its own chunks (map); the headline is the most salient
    dated story's first sentence and the rest follow in date order (reduce). A story's first
    sentence must stand alone ("He added..." opening a bullet is left out). A story the model
    leaves empty falls back to its extractive lead, and so does one whose call fails (``LLMError``)
    once an earlier story's call succeeded; a failure of the first call is raised (a provider that
    cannot answer at all is a configuration to fix, not a brief to write without it)."""
    drafted: dict[str, list[DraftSentence]] = {}
    chosen = {key for lead in leads for key in lead.story.keys}
    answered = False
    for lead in leads:
        try:
            sentences = draft_story(query, gathered.chunks_of(lead.story), llm, chosen - set(lead.story.keys))
            answered = True
        except LLMError as exc:
            if not answered:  # the provider has not answered once: it is broken or misconfigured, say so
                raise
            log.warning("story %s: the model's draft failed (%s); its sources' words stand", lead.story.id, exc)
            sentences = []
        if sentences and leans_on_previous(sentences[0].text):
            sentences = sentences[1:] if len(sentences) > 1 and not leans_on_previous(sentences[1].text) else []
        if not sentences and lead.candidates:
            sentences = [cited_by_every_outlet(lead.candidates[0], lead.story, gathered)]
        drafted[lead.story.id] = sentences
    top = headline_story(leads) if any(lead.candidates for lead in leads) else leads[0]
    first = drafted.get(top.story.id) or [DraftSentence(text="")]
    headline = first[0].model_copy(update={"section": "headline"})
    drafted[top.story.id] = first[1:]
    ordered = sorted(leads, key=lambda lead: in_date_order(lead.story))
    sentences = [s for lead in ordered for s in drafted[lead.story.id]]
    used = {c.id for lead in leads for c in lead.candidates[:1]}
    return Draft(headline=headline, sentences=sentences + watch_sentences(leads, used))
