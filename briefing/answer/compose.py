"""Compose: the generate and verify stages of a brief and of an answer, from retrieved evidence.

A brief is drafted story by story (``leads``: the model writes each chosen story from its own
chunks, or the tool picks each story's most informative sentence), verified, and given both sides
of a disagreement on a figure the draft missed. An answer is drafted sentence by sentence, verified, and
abstains ("The sources don't say.") when the evidence cannot answer the question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from briefing.answer.answers import EARLIER, Answered, answer_sentences, answers_some_part, in_language
from briefing.answer.generate import ANSWER, DEVELOPMENTS, DISAGREE, SECTIONS, disagreement_sentences, draft_answer
from briefing.answer.leads import extractive_story_brief, model_story_brief, story_leads
from briefing.answer.question import Question
from briefing.answer.retrieve import add_excerpts
from briefing.answer.stories import Gathered
from briefing.answer.verify import Verifier
from briefing.chat import StructuredModel
from briefing.embedding import Embedder
from briefing.models import CheckedSentence, Evidence, Request, Section, Story
from briefing.settings import Settings
from briefing.text import leans_on_previous

ASK_K = 6


@dataclass
class Composition:
    """The verified content of a briefing: headline, sections, and why it abstained (answers); for
    answers also the evidence to keep with it and the parts of the question no source answers."""

    headline: CheckedSentence | None = None
    sections: list[Section] = field(default_factory=list)
    abstain_reason: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)


# --- briefs ----------------------------------------------------------------------------------


def compose_brief(request: Request, gathered: Gathered, llm: StructuredModel | None, verifier: Verifier,
                  embedder: Embedder) -> Composition:
    """A brief of the stories of ``gathered`` (the pipeline keeps the ``request.length`` most salient): drafted story by
    story (extractively, or by the model from each story's chunks), verified, with both sides of a
    disagreement on a figure when the draft does not already give them. Nothing is filled in from
    outside the chosen stories: a window with three relevant stories gives three."""
    stories = gathered.stories
    if not stories:
        return Composition()
    leads = story_leads(request.query, gathered, stories, embedder)
    draft = (extractive_story_brief(leads, gathered) if llm is None
             else model_story_brief(request.query, leads, gathered, llm))
    headline, sections = verifier.verify(draft)
    if headline is None or not headline.shown:
        headline, sections = _promoted(headline, sections, stories)
    evidence = [e for story in stories for e in gathered.chunks_of(story)]
    return Composition(headline=headline, sections=_ordered(_with_disagreement(request.query, evidence, sections, verifier)))


def _promoted(headline: CheckedSentence | None, sections: list[Section],
              stories: list[Story]) -> tuple[CheckedSentence | None, list[Section]]:
    """When verification dropped the headline, the shown key development of the most salient story
    (a stand-alone sentence) takes its place, so a brief is never headed by a placeholder."""
    rank = {key: i for i, story in enumerate(stories) for key in story.keys}
    developments = next((s for s in sections if s.title == DEVELOPMENTS), None)
    candidates = [c for c in (developments.sentences if developments else []) if c.shown and not leans_on_previous(c.text)]
    if developments is None or not candidates:
        return headline, sections
    best = min(candidates, key=lambda c: min((rank.get(x.key, len(rank)) for x in c.citations if x.valid), default=len(rank)))
    rest = Section(title=DEVELOPMENTS, sentences=[c for c in developments.sentences if c is not best])
    return best.model_copy(update={"section": "headline"}), [rest, *(s for s in sections if s.title != DEVELOPMENTS)]


def _with_disagreement(query: str, evidence: list[Evidence], sections: list[Section], verifier: Verifier) -> list[Section]:
    """The verified sections, with the sentences on each side added when the evidence disagrees on
    a figure and no shown sentence says so."""
    if any(s.title == DISAGREE and any(c.shown for c in s.sentences) for s in sections):
        return sections
    sides = disagreement_sentences(query, evidence)
    verifier.prepare(sides)
    disagreeing = [c for drafted in sides for c in verifier.verify_sentence(drafted)]
    if not any(c.shown for c in disagreeing):
        return sections
    earlier = [c for s in sections if s.title == DISAGREE for c in s.sentences]
    return [s for s in sections if s.title != DISAGREE] + [Section(title=DISAGREE, sentences=earlier + disagreeing)]


def _ordered(sections: list[Section]) -> list[Section]:
    """The default sections first, in their order, then any others the model named."""
    rank = {title.casefold(): i for i, title in enumerate(SECTIONS)}
    return sorted(sections, key=lambda s: rank.get(s.title.casefold(), len(rank)))


# --- answers ---------------------------------------------------------------------------------


def compose_answer(question: Question, pool: list[Evidence], llm: StructuredModel | None, verifier: Verifier,
                   settings: Settings, idf: dict[str, float], k: int, embedder: Embedder) -> Composition:
    """Verified sentences that answer each part of ``question`` and nothing else (``answers``),
    from the chunks ``pool`` read; or an abstention saying what no source states. ``evidence`` of
    the result: the cited chunks, then the best others, ``k`` in all; only chunks close to the
    question, so an abstention never lists off-topic sources."""
    if not pool:
        return Composition(abstain_reason="no articles match")
    pool, foreign = in_language(question, pool)
    if foreign:
        return Composition(abstain_reason=foreign)
    similarity = QuestionSimilarity(question.text, embedder)
    answered = answer_sentences(question, pool, idf, similarity)

    def excerpted(chunks: list[Evidence]) -> list[Evidence]:  # a model reads each chunk's sentences closest to the question
        return add_excerpts(chunks, similarity.vector(), embedder, settings.excerpt_sentences)

    checked = _verified(question, answered, pool, llm, verifier, k, excerpted)
    shown = [c for c in checked if c.shown]
    evidence = _shown_evidence(shown, pool, k, settings.abstain_similarity)
    if not shown:
        reasons = answered.reasons or [_WHAT_IS_ASKED]
        return Composition(abstain_reason=f"no source states {'; '.join(reasons)}", evidence=evidence)
    ordered = [Section(title=title, sentences=[c for c in checked if c.section == title]) for title in (ANSWER, EARLIER)]
    return Composition(sections=[s for s in ordered if s.sentences], evidence=evidence, unanswered=answered.unanswered)


_WHAT_IS_ASKED = "what the question asks"


class QuestionSimilarity:
    """Cosines of texts to ``text`` by ``embedder`` (normalized vectors): ``text`` is embedded once
    (``vector()`` gives it to the excerpts too), and each other text once however often asked."""

    def __init__(self, text: str, embedder: Embedder):
        self.text, self.embedder = text, embedder
        self._vector: np.ndarray | None = None
        self._known: dict[str, float] = {}  # a sentence read for two parts of a question

    def vector(self) -> np.ndarray:
        if self._vector is None:
            self._vector = self.embedder.embed([self.text])[0]
        return self._vector

    def __call__(self, texts: list[str]) -> list[float]:
        fresh = list(dict.fromkeys(t for t in texts if t not in self._known))
        if fresh:
            self._known.update(zip(fresh, (float(v @ self.vector()) for v in self.embedder.embed(fresh))))
        return [self._known[t] for t in texts]


def _verified(question: Question, answered: Answered, pool: list[Evidence], llm: StructuredModel | None,
              verifier: Verifier, k: int, excerpted: Callable[[list[Evidence]], list[Evidence]]) -> list[CheckedSentence]:
    """The model's answer from the ``k`` chunks holding the best answering sentences (then the best
    others; each shown as its sentences closest to the question, ``excerpted``), each sentence
    verified and kept only when it answers a part of the question; the tool's own picks when the
    model answers nothing, or when there is no model."""
    if llm is not None:
        shown_to_model = excerpted(_shown_evidence([], _answering_first(answered, pool), k))
        drafted = draft_answer(question.text, shown_to_model, llm)
        verifier.prepare(drafted)
        checked = [c for d in drafted for c in verifier.verify_sentence(d)]
        by_key = {e.key: e for e in pool}

        def answers(c: CheckedSentence) -> bool:
            cited = " ".join(f"{by_key[x.key].title} {by_key[x.key].text}" for x in c.citations if x.valid and x.key in by_key)
            return answers_some_part(question, c.text, cited, pool)

        kept = [c for c in checked if not c.shown or answers(c)]  # what the check dropped stays on record
        if any(c.shown for c in kept):
            return kept
    verifier.prepare(answered.sentences)
    return [c for d in answered.sentences for c in verifier.verify_sentence(d) if c.shown]


def _answering_first(answered: Answered, pool: list[Evidence]) -> list[Evidence]:
    keys = [c.key for d in answered.sentences for c in d.citations]
    by_key = {e.key: e for e in pool}
    return [by_key[key] for key in dict.fromkeys(keys) if key in by_key] + [e for e in pool if e.key not in keys]


def _shown_evidence(shown: list[CheckedSentence], pool: list[Evidence], k: int, close: float = -1.0) -> list[Evidence]:
    """The cited chunks first, then the best others of ``pool`` whose similarity reaches ``close``,
    ``k`` in all (more when more are cited)."""
    cited = {c.key for s in shown for c in s.citations if c.valid}
    first = [e for e in pool if e.key in cited]
    others = [e for e in pool if e.key not in cited and (e.similarity or 0.0) >= close]
    return first + others[: max(0, k - len(first))]
