"""Compose: the generate and verify stages of a brief and of an answer, from retrieved evidence.

A brief is drafted story by story (``leads``: the model writes each chosen story from its own
chunks, or the tool picks each story's most informative sentence), verified, and given both sides
of a disagreement on a figure the draft missed. An answer is drafted sentence by sentence, verified, and
abstains ("The sources don't say.") when the evidence cannot answer the question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from briefing.answer.focus import missing_focus, unaddressed
from briefing.answer.generate import (
    ANSWER,
    DEVELOPMENTS,
    DISAGREE,
    SECTIONS,
    asks_quantity,
    disagreement_sentences,
    draft_answer,
    extractive_answer,
)
from briefing.answer.leads import extractive_story_brief, model_story_brief, story_leads
from briefing.answer.stories import Gathered
from briefing.answer.verify import Verifier
from briefing.chat import StructuredModel
from briefing.embedding import Embedder
from briefing.models import CheckedSentence, Evidence, Request, Section, Story
from briefing.settings import Settings
from briefing.terms import asked_names, content_terms, missing_names
from briefing.text import leans_on_previous, split_sentences

ASK_K = 6


@dataclass
class Composition:
    """The verified content of a briefing: headline, sections, and why it abstained (answers)."""

    headline: CheckedSentence | None = None
    sections: list[Section] = field(default_factory=list)
    abstain_reason: str | None = None


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


def compose_answer(request: Request, evidence: list[Evidence], llm: StructuredModel | None, verifier: Verifier,
                   settings: Settings) -> Composition:
    """One to five verified sentences that answer the question, or an abstention with its reason
    (then no sentences: true sentences that don't answer the question are not an answer)."""
    question = request.query
    reason = abstain_reason(question, evidence, settings.abstain_similarity)
    sentences: list[CheckedSentence] = []
    if reason is None:
        sentences = _verified_answer(question, evidence, llm, verifier)
        reason = _unanswered([s for s in sentences if s.shown], question, evidence)
    if reason is not None:
        return Composition(abstain_reason=reason)
    return Composition(sections=[Section(title=ANSWER, sentences=sentences)] if sentences else [])


def abstain_reason(question: str, evidence: list[Evidence], threshold: float) -> str | None:
    """Why the evidence cannot answer: nothing found, nothing similar enough, or a name in the
    question that no evidence mentions ("What did the Pope say..."). None when it may answer."""
    if not evidence:
        return "no articles match"
    best = max(e.similarity or 0.0 for e in evidence)
    if best < threshold:
        return f"no evidence is close to the question (best similarity {best:.2f} < {threshold:.2f})"
    sources = [f"{e.title}\n{e.text}" for e in evidence]
    missing = missing_names(question, sources) + missing_focus(question, sources)
    if missing:
        return f"no evidence mentions {', '.join(missing)}"
    return None


def _unanswered(sentences: list[CheckedSentence], question: str, evidence: list[Evidence]) -> str | None:
    """Why verified sentences still don't answer: none survived, they leave out what the question
    asks for (``focus.unaddressed``), or the question's distinctive names are left hanging. A name
    is distinctive when fewer than half the evidence chunks mention it ("Macron" among articles on
    North Korean troops); the answer must mention each, and some sentence must tie one to the rest
    of the question, read with the headline of the article it cites ("What did Macron say about
    North Korean troops?" is not answered by "Macron hosted the meeting")."""
    if not sentences:
        return "no answer sentence survived verification"
    answer = [s.text for s in sentences]
    left_out = unaddressed(question, answer)
    if left_out:
        return f"no answer sentence states {', '.join(left_out)}"
    chunks = [content_terms(f"{e.title} {e.text}") for e in evidence]
    groups = {group[-1].term: group for group in asked_names(question)}
    rare = {term: g for term, g in groups.items() if sum(term in c for c in chunks) < len(chunks) / 2}
    if not rare:
        return None
    asked = content_terms(question)
    by_key = {e.key: e for e in evidence}
    cited = [[by_key[c.key] for c in s.citations if c.valid and c.key in by_key] for s in sentences]
    # A sentence of a feed item is read with the rest of its item and its publisher ("told the
    # BBC"); any other, with its headline.
    terms = [content_terms(" ".join([s.text] + [f"{e.text} {e.publisher or ''}" for e in items if _is_item(e)]))
             for s, items in zip(sentences, cited)]
    in_context = [t | content_terms(" ".join(e.title for e in items)) for t, items in zip(terms, cited)]
    unmentioned = [term for term in rare if not any(term in t for t in terms)]
    tied = any(term in t and (c & asked) - {w.term for w in g} for term, g in rare.items() for t, c in zip(terms, in_context))
    if unmentioned or not tied:
        names = ", ".join(" ".join(t.word for t in g) for g in rare.values())
        return f"no source sentence ties {names} to the rest of the question"
    return None


FEED_ITEM_SENTENCES = 3


def _is_item(evidence: Evidence) -> bool:
    """A whole feed item (headline and a sentence or two): read as one unit, as its reader would."""
    return evidence.start == 0 and len(split_sentences(evidence.text)) <= FEED_ITEM_SENTENCES


def _verified_answer(question: str, evidence: list[Evidence], llm: StructuredModel | None, verifier: Verifier) -> list[CheckedSentence]:
    """The model's verified sentences; if fewer than two survive (a weak model), the sources' own
    most relevant sentences (three picks; a pick may be a sentence with the one it leans on); then,
    if the question asks for a figure and sources disagree on it, both sides."""
    drafted = draft_answer(question, evidence, llm) if llm else []
    verifier.prepare(drafted)
    checked = [c for d in drafted for c in verifier.verify_sentence(d)]
    shown = sum(c.shown for c in checked)
    if shown < 2:
        picks = [[c for c in verifier.verify_sentence(d) if c.shown] for d in extractive_answer(question, evidence)]
        checked += [c for pick in [p for p in picks if p][: 3 - shown] for c in pick]  # a pick may be two sentences
    if any(c.shown for c in checked) and asks_quantity(question):
        pairs = disagreement_sentences(question, evidence, section=ANSWER, on_topic=True,
                                       shown=[c.text for c in checked if c.shown])
        checked += [c for d in pairs for c in verifier.verify_sentence(d)]
    return checked
