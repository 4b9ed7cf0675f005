"""The one pipeline: a ``Request`` (a brief or an answer) runs retrieve → generate → verify and
returns a self-contained ``Briefing``; ``output.render`` turns it into md, json or html.

``Components`` holds what the stages need (embedder, store, chat model, judge, repairer), built
once from ``Settings``. Commands, daily briefs, evaluations and tests all take one. Tests pass
their fakes to it; command-line tests replace ``pipeline.make_embedder``, the one place an
embedder is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from briefing import lexicon
from briefing.answer.compose import ASK_K, compose_answer, compose_brief
from briefing.answer.generate import make_repairer
from briefing.answer.judge import Judge
from briefing.answer.judges import make_judge
from briefing.answer.question import Question, read_question
from briefing.answer.retrieve import question_pool, retrieve
from briefing.answer.stories import Gathered, gather
from briefing.answer.verify import Repairer, Verifier
from briefing.chat import ChatModel, StructuredModel
from briefing.embedding import Embedder, make_embedder
from briefing.errors import ConfigError, StoreError
from briefing.llm import make_structured_llm, model_name
from briefing.models import Briefing, Evidence, Request, RetrievalFilter, Story
from briefing.options import resolve_source
from briefing.providers import AUTO, resolve_provider
from briefing.settings import Settings
from briefing.store.record import SyncProgress
from briefing.store.store import Store, recorded_embedder


class Components(AbstractContextManager):
    """The embedder, store, chat model, judge and repairer of one run, built once from ``settings``.

    ``provider`` and ``judge`` (command-line options) override the settings by copying them.
    ``embedder`` and ``chat_model`` replace the configured ones (tests pass fakes here). Each part
    is built on first use: ingest never builds a chat model, and the extractive provider never
    loads one. Close it (or use it as a context manager) to close the store.
    """

    def __init__(self, settings: Settings, *, provider: str | None = None, judge: str | None = None,
                 embedder: Embedder | None = None, chat_model: ChatModel | None = None,
                 on_cache: SyncProgress | None = None):
        overrides = {name: value for name, value in (("provider", provider), ("judge", judge)) if value is not None}
        self.settings = settings.model_copy(update=overrides) if overrides else settings
        self._given_embedder = embedder
        self._chat_model = chat_model
        self.on_cache = on_cache  # told the progress of a shared store's local cache being built
        self._store: Store | None = None

    @cached_property
    def embedder(self) -> Embedder:
        """The configured embedder; `auto` keeps the one the store was built with."""
        return self._given_embedder or make_embedder(self.settings, recorded_embedder(self.settings))

    @property
    def store(self) -> Store:
        """The configured store, opened on first use and kept open until ``close``."""
        if self._store is None:
            self._store = Store(self.settings, self.embedder, self.on_cache)
        return self._store

    def open_store(self, writer: bool = False) -> Store:
        """A store of its own for the caller to close (ingest writes through one under its lock)."""
        return Store(self.settings, self.embedder, self.on_cache, writer)

    @cached_property
    def provider(self) -> str:
        """The provider that writes drafts, with ``auto`` resolved (``providers.AUTO_RULE``); a
        chat model given to ``Components`` is used as the openai provider's model unless another
        provider is named."""
        if self._chat_model is not None and self.settings.provider == AUTO:
            return "openai"
        try:
            return resolve_provider(self.settings)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    @cached_property
    def llm(self) -> StructuredModel | None:
        """The provider's ``StructuredLLM``; None for the extractive provider."""
        if self.provider == "extractive":
            return None
        return make_structured_llm(self.settings, self.provider, self._chat_model)

    @cached_property
    def judge(self) -> Judge:
        return make_judge(self.settings.judge, self.llm, self.settings.threads)

    @cached_property
    def repairer(self) -> Repairer | None:
        return make_repairer(self.llm) if self.llm else None

    @property
    def model(self) -> str:
        return self.llm.model if self.llm else model_name(self.settings, self.provider)

    def with_store(self, home: Path, collection: str) -> Components:
        """The same settings and injected parts over another store (an eval suite's, under its own
        home and, on a shared Chroma server, in its own collection); its embedder is the one that
        store was built with, as for any store."""
        settings = self.settings.model_copy(update={"home": home, "collection": collection})
        return Components(settings, embedder=self._given_embedder, chat_model=self._chat_model, on_cache=self.on_cache)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __exit__(self, *exc) -> None:
        self.close()


def run(request: Request, components: Components, gathered: Gathered | None = None) -> Briefing:
    """Retrieve evidence for ``request``, draft from it, verify every sentence against it.

    A brief reads every chunk of its window the relevance gate lets through, grouped into stories
    (``gathered``, when the caller already has them: a daily brief gives each story to one topic);
    its evidence is the chunks of the ``request.length`` (or BRIEFING_BRIEF_LENGTH) most salient stories, at most ``k`` per
    story. An answer reads the ``k`` most relevant, diverse chunks.

    Raises ``ConfigError`` for an unknown provider or judge, ``OptionError`` for a ``--source`` that
    names no publisher of the store (a unique part of a name is resolved to it), ``StoreError`` for
    a store with nothing ingested, and ``LLMError``/``StoreError`` when a provider or the store
    fails; an empty window is not an error (the briefing says so)."""
    llm, judge = components.llm, components.judge  # built first: a configuration error stops before retrieval
    check_not_empty(components.store)
    request = request.model_copy(update={"filters": resolve_source(request.filters, components.store.publishers())})
    usage = llm.start_usage() if llm else None
    briefing = Briefing(
        kind=request.kind, query=request.query, sections=[], evidence=[], filters=request.filters,
        provider=components.provider, model=components.model, judge=judge.name, created_at=datetime.now(UTC),
    )
    if request.kind == "brief":
        _brief(briefing, request, components, gathered)
    else:
        _answer(briefing, request, components)
    if usage is not None:
        briefing.usage = usage
    return briefing


def _brief(briefing: Briefing, request: Request, components: Components, gathered: Gathered | None) -> None:
    """Fill ``briefing`` with the brief of the request's most salient stories."""
    gathered = (gathered or gather_stories(request, components)).limited(request.k or components.settings.evidence_k)
    stories = gathered.stories[: request.length or components.settings.brief_length]
    gathered = gathered.only(stories)
    briefing.evidence = [e for story in stories for e in gathered.chunks_of(story)]
    verifier = Verifier(briefing.evidence, components.judge, components.repairer, components.settings.max_repairs)
    composed = compose_brief(request, gathered, components.llm, verifier, components.embedder)
    briefing.headline, briefing.sections = composed.headline, composed.sections
    briefing.stories = shown_stories(briefing, stories) if stories else []


def _answer(briefing: Briefing, request: Request, components: Components) -> None:
    """Fill ``briefing`` with the answer to the request's question, read once (``read_question``):
    the window its words name applies unless ``--since``/``--until`` were given."""
    store, settings = components.store, components.settings
    question = read_question(request.query, reference=store.date_range()[1], timezone=settings.timezone)
    applied = question.time.window and not (request.filters.since or request.filters.until)
    filters = request.filters.model_copy(update={"since": question.time.since, "until": question.time.until}) if applied \
        else request.filters
    briefing.filters, briefing.question = filters, question.reading(applied=bool(applied))
    pool = read_for_question(question, components, filters)
    verifier = Verifier(pool, components.judge, components.repairer, settings.max_repairs, replace=False)
    composed = compose_answer(question, pool, components.llm, verifier, settings, store.term_weights(question.text),
                              request.k or ASK_K, components.embedder)
    briefing.sections, briefing.evidence, briefing.unanswered = composed.sections, composed.evidence, composed.unanswered
    briefing.abstained, briefing.abstain_reason = composed.abstain_reason is not None, composed.abstain_reason


def read_for_question(question: Question, components: Components, filters: RetrievalFilter) -> list[Evidence]:
    """The chunks a question reads (``retrieve.question_pool``): for each of its parts, or for the
    question when it asks one thing (a part is scored with the whole question's words too)."""
    queries = [part.text for part in question.parts] or [question.text]
    pool = int(lexicon.threshold("answers", "pool"))
    return question_pool(queries, components.store, filters, pool)


def shown_stories(briefing: Briefing, stories: list[Story]) -> list[Story]:
    """The stories a shown sentence of ``briefing`` cites, most salient first."""
    cited = {c.key for s in briefing.shown() for c in s.citations if c.valid}
    return [story for story in stories if cited & set(story.keys)]


def gather_stories(request: Request, components: Components, reported: Sequence[str] = ()) -> Gathered:
    """The stories of the request's window about its query, most salient first (``answer.stories``);
    ``reported`` holds the sentences the previous daily brief showed."""
    return gather(request.query, components.store, request.filters, reported)


def check_not_empty(store: Store) -> None:
    """StoreError naming the store when nothing was ingested into it: a brief from an empty store
    is most often a command run from another folder (``BRIEFING_HOME`` is relative)."""
    if store.article_count() == 0:
        settings = store.settings
        where = (f"{settings.store_dir.resolve()}" if settings.chroma_host is None
                 else f"collection '{settings.collection}' at {store.location}")
        raise StoreError(f"nothing ingested yet in {where}: run `briefing ingest PATH` first, or set "
                         "BRIEFING_HOME to the folder you ingested into")


def find_evidence(query: str, components: Components, k: int, filters: RetrievalFilter, excerpts: bool = False) -> list[Evidence]:
    """Evidence for ``query``; with ``excerpts`` (for a model's prompt) each chunk's closest sentences."""
    sentences = components.settings.excerpt_sentences if excerpts else 0
    return retrieve(query, components.store, k=k, filters=filters, excerpt_sentences=sentences)


def write_brief(query: str, components: Components, *, k: int | None = None, filters: RetrievalFilter | None = None,
                length: int | None = None) -> Briefing:
    """A verified brief on ``query`` of at most ``length`` stories (None: BRIEFING_BRIEF_LENGTH)."""
    return run(Request(kind="brief", query=query, k=k, filters=filters or RetrievalFilter(), length=length), components)


def answer_question(question: str, components: Components, *, k: int | None = None,
                    filters: RetrievalFilter | None = None) -> Briefing:
    """A short cited answer, or an abstention (``models.ABSTAIN``) that lists the closest sources found."""
    return run(Request(kind="answer", query=question, k=k, filters=filters or RetrievalFilter()), components)
