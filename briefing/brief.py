"""The briefing pipeline: retrieve → generate → verify, returning a self-contained Briefing."""

from __future__ import annotations

from datetime import datetime, timezone

from briefing.embeddings import Embedder
from briefing.focus import missing_focus, unaddressed
from briefing.generate import (
    ANSWER,
    asks_quantity,
    DEVELOPMENTS,
    DISAGREE,
    SECTIONS,
    disagreement_sentences,
    draft_answer,
    draft_brief,
    extractive_answer,
    extractive_brief,
    make_repairer,
)
from briefing.judges import make_judge
from briefing.terms import asked_names, content_terms, missing_names
from briefing.llm import make_embedder, make_structured_llm, model_name, resolve_provider
from briefing.models import Briefing, CheckedSentence, Evidence, RetrievalFilter, Section
from briefing.retrieve import retrieve
from briefing.settings import Settings
from briefing.store import Store
from briefing.text import split_sentences
from briefing.verify import Verifier


def find_evidence(
    query: str, settings: Settings, k: int, filters: RetrievalFilter, embedder: Embedder | None = None,
    excerpts: bool = False,
) -> list[Evidence]:  # fmt: skip
    """Evidence for ``query``; with ``excerpts`` (for a model's prompt) each chunk's closest sentences."""
    with Store(settings, embedder or make_embedder(settings)) as store:
        return retrieve(query, store, k=k, filters=filters, excerpt_sentences=settings.excerpt_sentences if excerpts else 0)


def models_for(settings: Settings, provider: str | None, judge: str | None, chat_model=None):
    """The resolved provider name, its structured LLM (None for extractive) and the judge."""
    provider = resolve_provider(settings, provider)
    llm = None if provider == "extractive" else make_structured_llm(settings, provider, chat_model)
    return provider, llm, make_judge(judge or settings.judge, llm, settings.threads)


def write_brief(
    query: str,
    settings: Settings,
    *,
    provider: str | None = None,
    judge: str | None = None,
    k: int | None = None,
    filters: RetrievalFilter | None = None,
    chat_model=None,
    embedder: Embedder | None = None,
    length: int = 6,
) -> Briefing:
    """A verified brief on ``query`` with at most ``length`` key developments from extraction.
    ``chat_model`` replaces the provider's model (tests)."""
    provider, llm, checker = models_for(settings, provider, judge, chat_model)
    filters = filters or RetrievalFilter()
    evidence = find_evidence(query, settings, k or settings.evidence_k, filters, embedder, excerpts=llm is not None)
    briefing = Briefing(
        query=query, sections=[], evidence=evidence, filters=filters, provider=provider,
        model=llm.model if llm else model_name(settings, provider), judge=checker.name,
        created_at=datetime.now(timezone.utc),
    )  # fmt: skip
    if not evidence:
        return briefing
    draft = extractive_brief(query, evidence, length) if llm is None else draft_brief(query, evidence, llm, length)
    verifier = Verifier(evidence, checker, make_repairer(llm) if llm else None, settings.max_repairs)
    headline, sections = verifier.verify(draft)
    briefing.headline = headline
    sections = _with_developments(query, evidence, sections, verifier, length)
    briefing.sections = _ordered(_with_disagreements(query, evidence, sections, verifier))
    if llm:
        briefing.usage = llm.usage
    return briefing


MIN_DEVELOPMENTS = 3


# --- answers ---------------------------------------------------------------------------------

ASK_K = 6


def answer_question(
    question: str,
    settings: Settings,
    *,
    provider: str | None = None,
    judge: str | None = None,
    k: int | None = None,
    filters: RetrievalFilter | None = None,
    chat_model=None,
    embedder: Embedder | None = None,
) -> Briefing:
    """A short cited answer, or an abstention (``models.ABSTAIN``) that lists the closest sources found."""
    provider, llm, checker = models_for(settings, provider, judge, chat_model)
    filters = filters or RetrievalFilter()
    evidence = find_evidence(question, settings, k or ASK_K, filters, embedder, excerpts=llm is not None)
    answer = Briefing(
        kind="answer", query=question, sections=[], evidence=evidence, filters=filters, provider=provider,
        model=llm.model if llm else model_name(settings, provider), judge=checker.name,
        created_at=datetime.now(timezone.utc),
    )  # fmt: skip
    reason = abstain_reason(question, evidence, settings.abstain_similarity)
    if reason is None:
        verifier = Verifier(evidence, checker, make_repairer(llm) if llm else None, settings.max_repairs, replace=False)
        sentences = _verified_answer(question, evidence, llm, verifier)
        answer.sections = [Section(title=ANSWER, sentences=sentences)] if sentences else []
        reason = _unanswered([s for s in sentences if s.shown], question, evidence)
    if llm:
        answer.usage = llm.usage
    answer.abstained, answer.abstain_reason = reason is not None, reason
    if answer.abstained:
        answer.sections = []  # true sentences that don't answer the question are not an answer
    return answer


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
             for s, items in zip(sentences, cited)]  # fmt: skip
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


def _verified_answer(question: str, evidence: list[Evidence], llm, verifier: Verifier) -> list[CheckedSentence]:
    """The model's verified sentences; if fewer than two survive (a weak model), the sources' own
    most relevant sentences (three picks; a pick may be a sentence with the one it leans on); then,
    if the question asks for a figure and sources disagree on it, both sides."""
    drafted = draft_answer(question, evidence, llm) if llm else []
    checked = [c for d in drafted for c in verifier.verify_sentence(d)]
    shown = sum(c.shown for c in checked)
    if shown < 2:
        picks = [[c for c in verifier.verify_sentence(d) if c.shown] for d in extractive_answer(question, evidence)]
        checked += [c for pick in [p for p in picks if p][: 3 - shown] for c in pick]  # a pick may be two sentences
    if any(c.shown for c in checked) and asks_quantity(question):
        pairs = disagreement_sentences(question, evidence, section=ANSWER, on_topic=True,
                                       shown=[c.text for c in checked if c.shown])  # fmt: skip
        checked += [c for d in pairs for c in verifier.verify_sentence(d)]
    return checked


# --- filling a thin draft -------------------------------------------------------------------


def _with_developments(query: str, evidence: list[Evidence], sections: list[Section], verifier: Verifier,
                       length: int = 6) -> list[Section]:  # fmt: skip
    """When verification left fewer than three key developments (a weak model's draft), add the
    most relevant source sentences, marked as the tool's own selection (origin `source`)."""
    current = next((s for s in sections if s.title == DEVELOPMENTS), Section(title=DEVELOPMENTS, sentences=[]))
    shown = sum(c.shown for c in current.sentences)
    if shown >= min(MIN_DEVELOPMENTS, length):
        return sections
    picks = [d for d in extractive_brief(query, evidence, length).sentences if d.section == DEVELOPMENTS]
    added = [c for drafted in picks for c in verifier.verify_sentence(drafted) if c.shown]
    current = Section(title=DEVELOPMENTS, sentences=current.sentences + added[: max(length - shown, 0)])
    return [current] + [s for s in sections if s.title != DEVELOPMENTS]


def _with_disagreements(query: str, evidence: list[Evidence], sections: list[Section], verifier: Verifier) -> list[Section]:
    """If the draft shows no disagreement but the evidence holds one (different figures for the same
    thing), add the source sentences on each side, verified like the rest."""
    if any(s.title == DISAGREE and any(c.shown for c in s.sentences) for s in sections):
        return sections
    added = [checked for drafted in disagreement_sentences(query, evidence) for checked in verifier.verify_sentence(drafted)]
    if not any(c.shown for c in added):
        return sections
    others = [s for s in sections if s.title != DISAGREE]
    earlier = [c for s in sections if s.title == DISAGREE for c in s.sentences]
    return others + [Section(title=DISAGREE, sentences=earlier + added)]


def _ordered(sections: list[Section]) -> list[Section]:
    """The default sections first, in their order, then any others the model named."""
    rank = {title.casefold(): i for i, title in enumerate(SECTIONS)}
    return sorted(sections, key=lambda s: rank.get(s.title.casefold(), len(rank)))
