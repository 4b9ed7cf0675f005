"""The store: Chroma vectors, the SQLite catalog and the side files, kept in step, behind one
query interface (``candidates``, ``chunks``, ``vectors_of``) that retrieval reads through.

Chroma holds the vectors (``store.chroma``); the catalog is the source of truth for what was
ingested (``store.catalog``); the keyword index and vector side file are rebuilt from those when
behind (``store.side_files``).
"""

from __future__ import annotations

import logging
import os
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from briefing.embedding import Embedder, same_embedder
from briefing.errors import StoreError
from briefing.locking import exclusive_lock
from briefing.models import Article, Chunk, RetrievalFilter, StoreStats
from briefing.settings import Settings
from briefing.store.catalog import Catalog, FileRecord, StoryEntry, recorded_meta
from briefing.store.chroma import ChromaVectors, collection_embedder, mismatch
from briefing.store.keyword import KeywordIndex
from briefing.store.manifest import StoreManifest
from briefing.store.record import ServerRecord, SyncProgress
from briefing.store.side_files import SideFiles
from briefing.store.vector_index import VectorIndex
from briefing.store.writes import StoreWrites

__all__ = ["Candidates", "FileRecord", "Store", "StoryEntry", "open_catalog", "recorded_embedder", "store_location"]

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"


@dataclass
class Candidates:
    """What the store found for a query within a filter, best first: (chunk id, cosine similarity)
    from the dense search and (chunk id, BM25 score) from the keyword index."""

    dense: list[tuple[str, float]]
    keyword: list[tuple[str, float]]


def store_location(settings: Settings) -> str:
    if settings.chroma_host is None:
        return str(settings.store_dir)
    return f"http://{settings.chroma_host}:{settings.chroma_port}"


def recorded_embedder(settings: Settings) -> str | None:
    """The embedder name the configured store was built with, without creating a store; None if
    none. A home new to a shared server reads it from the server."""
    local = recorded_meta(settings.store_dir / CATALOG_FILE, "embedder")
    if local is not None or settings.chroma_host is None:
        return local
    return collection_embedder(settings, store_location(settings))


class Store(StoreWrites, StoreManifest, AbstractContextManager):
    """Open with ``Store(settings, embedder)``; the embedder's name is checked against the store's."""

    def __init__(self, settings: Settings, embedder: Embedder, progress: SyncProgress | None = None, writer: bool = False):
        self.settings = settings
        self.embedder = embedder
        self.catalog = Catalog(settings.store_dir / CATALOG_FILE)
        self.record = ServerRecord(settings, self.location)
        if settings.chroma_host is not None:  # another machine may have written since this cache was made
            turn = None if writer else lambda: exclusive_lock(settings.store_dir / "ingest.lock", on_wait=log.warning)
            self.record.sync(self.catalog, progress, writer, turn)
        self._check_catalog_embedder()
        self.chroma = ChromaVectors(settings, self.location, embedder, client=lambda: self.record.client)
        self.side_files = SideFiles(settings.store_dir, self.catalog, self.chroma, embedder)

    def close(self) -> None:
        self.catalog.close()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def location(self) -> str:
        return store_location(self.settings)

    @property
    def collection(self):
        """The Chroma collection itself (for checks that look past the store's interface)."""
        return self.chroma.collection

    @property
    def vector_dir(self) -> Path:
        return self.side_files.vector_dir

    def keyword_index(self) -> KeywordIndex:
        return self.side_files.keyword_index()

    def vector_index(self) -> VectorIndex:
        return self.side_files.vector_index()

    def _check_catalog_embedder(self) -> None:
        recorded = self.catalog.get_meta("embedder")
        if recorded is None:
            self.catalog.set_meta("embedder", self.embedder.name)
        elif not same_embedder(recorded, self.embedder.name):
            raise mismatch(self.location, recorded, self.embedder.name)

    # --- the query interface ------------------------------------------------------------------

    def article_count(self) -> int:
        """Current articles in the store."""
        return self.catalog.article_count()

    def publishers(self) -> list[str]:
        """Publisher names of the current articles, sorted (what ``--source`` may name)."""
        return self.catalog.publishers()

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        """The earliest and latest publication times of the current articles (None when undated or empty)."""
        return self.catalog.date_range()

    def allowed_ids(self, filters: RetrievalFilter) -> set[str] | None:
        """The chunk ids a filter lets through; None when it lets through everything. The one place
        a date window, publishers and keywords become ids."""
        if filters.publisher_names() or filters.keywords:
            return self.catalog.chunk_ids_where(filters.since, filters.until, filters.publisher_names(), filters.keywords)
        if filters.since or filters.until:
            return self.vector_index().ids_in(filters.since, filters.until)
        return None

    def candidates(self, query: str, vector: np.ndarray, filters: RetrievalFilter, n: int) -> Candidates:
        """The ``n`` nearest chunks to ``vector`` and the ``n`` best keyword matches of ``query``,
        both within ``filters``."""
        allowed = self.allowed_ids(filters)
        narrowed = bool(filters.publisher_names() or filters.keywords)
        # The dense search applies the date window itself; it needs `allowed` only for the rest.
        dense = self.dense_search(vector, n, filters, allowed if narrowed else None)
        return Candidates(dense=dense, keyword=self.keyword_index().search(query, n, allowed))

    def dense_search(
        self, vector: np.ndarray, n: int, filters: RetrievalFilter, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks to ``vector`` in the filters' date window (and among ``allowed``), as
        (chunk id, cosine similarity). Exact search over the side file, not Chroma's HNSW."""
        index = self.vector_index()
        self._check_server(index)
        return index.search(vector, n, filters.since, filters.until, allowed)

    def term_weights(self, query: str) -> dict[str, float]:
        """The query's keyword tokens with their inverse document frequency over every stored chunk
        (``KeywordIndex.term_weights``): how much finding each in a chunk says about it."""
        return self.keyword_index().term_weights(query)

    def chunks(self, ids: list[str]) -> dict[str, tuple[Chunk, Article]]:
        """Stored chunks with their articles, by chunk id; ids the catalog lacks are left out."""
        return {chunk.id: (chunk, article) for chunk, article in self.catalog.chunks_with_articles(ids)}

    def vectors_of(self, ids: list[str]) -> dict[str, np.ndarray]:
        return self.vector_index().vectors_of(ids)

    def _check_server(self, index: VectorIndex) -> None:
        """With a Chroma server, answer only while it is reachable and holds what the side file does,
        so a lost or wiped server is an error, never a silent answer from the cache."""
        if self.settings.chroma_host is None:
            return
        count = self.chroma.count()
        if count < len(index):
            raise StoreError(
                f"the Chroma server at {self.location} holds {count} vectors but the catalog has "
                f"{len(index)}; run `briefing ingest` again to restore them"
            )

    def server_lost_vectors(self) -> bool:
        """With a Chroma server: whether it holds fewer vectors than the catalog has chunks (it was
        wiped or restored from an older backup). Contacting it also proves it is reachable."""
        if self.settings.chroma_host is None:
            return False
        return self.chroma.count() < self.catalog.counts()["chunks"]

    def stats(self, count_vectors: bool = True) -> StoreStats:
        counts = self.catalog.counts()
        earliest, latest = self.catalog.date_range()
        return StoreStats(
            location=self.location,
            collection=self.settings.collection,
            embedder=self.catalog.get_meta("embedder") or self.embedder.name,
            dimension=self.embedder.dimension,
            vectors=self.chroma.count() if count_vectors else -1,
            earliest=earliest,
            latest=latest,
            size_bytes=_folder_size(self.settings.store_dir),
            **counts,
        )


def _folder_size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def open_catalog(settings: Settings, progress: SyncProgress | None = None) -> Catalog | None:
    """The catalog for listings; None if nothing was ingested yet. Embedded, it is read without
    opening Chroma; with a Chroma server, it is first brought up to the server's revision."""
    path = settings.store_dir / CATALOG_FILE
    if settings.chroma_host is None:
        return Catalog(path) if path.exists() else None
    catalog = Catalog(path)
    turn = lambda: exclusive_lock(settings.store_dir / "ingest.lock", on_wait=log.warning)  # noqa: E731
    ServerRecord(settings, store_location(settings)).sync(catalog, progress, turn=turn)
    return catalog
