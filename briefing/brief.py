"""The briefing pipeline: retrieve → generate → verify, returning a self-contained Briefing."""

from __future__ import annotations

from datetime import datetime, timezone

from briefing.embeddings import Embedder
from briefing.generate import DEVELOPMENTS, DISAGREE, SECTIONS, disagreement_sentences, draft_brief, extractive_brief, make_repairer
from briefing.judge import make_judge
from briefing.llm import make_embedder, make_structured_llm, model_name, resolve_provider
from briefing.models import Briefing, Evidence, RetrievalFilter, Section
from briefing.retrieve import retrieve
from briefing.settings import Settings
from briefing.store import Store
from briefing.verify import Verifier


def find_evidence(query: str, settings: Settings, k: int, filters: RetrievalFilter, embedder: Embedder | None = None) -> list[Evidence]:
    with Store(settings, embedder or make_embedder(settings)) as store:
        return retrieve(query, store, k=k, filters=filters)


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
) -> Briefing:
    """A verified brief on ``query``. ``chat_model`` replaces the provider's model (tests)."""
    provider = resolve_provider(settings, provider)
    filters = filters or RetrievalFilter()
    llm = None if provider == "extractive" else make_structured_llm(settings, provider, chat_model)
    checker = make_judge(judge or settings.judge, llm)
    evidence = find_evidence(query, settings, k or settings.evidence_k, filters, embedder)
    briefing = Briefing(
        query=query, sections=[], evidence=evidence, filters=filters, provider=provider,
        model=llm.model if llm else model_name(settings, provider), judge=checker.name,
        created_at=datetime.now(timezone.utc),
    )  # fmt: skip
    if not evidence:
        return briefing
    draft = extractive_brief(query, evidence) if llm is None else draft_brief(query, evidence, llm)
    verifier = Verifier(evidence, checker, make_repairer(llm) if llm else None, settings.max_repairs)
    headline, sections = verifier.verify(draft)
    briefing.headline = headline
    sections = _with_developments(query, evidence, sections, verifier)
    briefing.sections = _ordered(_with_disagreements(query, evidence, sections, verifier))
    if llm:
        briefing.usage = llm.usage
    return briefing


MIN_DEVELOPMENTS = 3


def _with_developments(query: str, evidence: list[Evidence], sections: list[Section], verifier: Verifier) -> list[Section]:
    """When verification left fewer than three key developments (a weak model's draft), add the
    most relevant source sentences, marked as the tool's own selection (origin `source`)."""
    current = next((s for s in sections if s.title == DEVELOPMENTS), Section(title=DEVELOPMENTS, sentences=[]))
    shown = sum(c.shown for c in current.sentences)
    if shown >= MIN_DEVELOPMENTS:
        return sections
    picks = [d for d in extractive_brief(query, evidence).sentences if d.section == DEVELOPMENTS]
    added = [c for drafted in picks for c in verifier.verify_sentence(drafted) if c.shown]
    current = Section(title=DEVELOPMENTS, sentences=current.sentences + added[: 2 * MIN_DEVELOPMENTS - shown])
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
