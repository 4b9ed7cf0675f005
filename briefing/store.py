"""The store: Chroma vectors + the SQLite catalog + the BM25 keyword index, kept in step.

This is the only module that imports chromadb. Embedded mode keeps Chroma's files under the home
folder; with ``BRIEFING_CHROMA_HOST`` set the same code talks to a Chroma server instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timezone
from pathlib import Path

import numpy as np

from briefing.catalog import Catalog, FileRecord
from briefing.embeddings import Embedder
from briefing.errors import BriefingError, EmbedderMismatchError, StoreError
from briefing.keyword import KeywordIndex
from briefing.models import Article, Chunk, RetrievalFilter, StoreStats
from briefing.settings import Settings
from briefing.text import indexed_text
from briefing.vector_index import UNDATED, VectorDelta, VectorIndex

log = logging.getLogger(__name__)


def chroma_client(settings: Settings):
    """A Chroma client for the configured mode, telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host is None:
        path = settings.store_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    try:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    except Exception as exc:  # chromadb raises bare ValueError/ConnectionError variants here
        raise StoreError(
            f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({_first_line(exc)})"
        ) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def chunk_metadata(chunk: Chunk, article: Article) -> dict[str, str | int]:
    """Chroma metadata of a chunk; Chroma allows no None, so missing values are '' or -1."""
    published = article.published
    return {
        "article_id": article.id,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "title": article.title,
        "publisher": article.publisher or "",
        "url": article.url or "",
        "published_ts": int(published.timestamp()) if published else -1,
        "day": int(published.astimezone(timezone.utc).strftime("%Y%m%d")) if published else -1,
    }


class Store:
    """Open with ``Store(settings, embedder)``; the embedder's name is checked against the store's."""

    def __init__(self, settings: Settings, embedder: Embedder):
        self.settings = settings
        self.embedder = embedder
        self.catalog = Catalog(settings.store_dir / "catalog.sqlite")
        self._check_catalog_embedder()
        self._collection = None
        self._delta: VectorDelta | None = None
        self._index: VectorIndex | None = None  # the side file as last loaded by this process

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def location(self) -> str:
        if self.settings.chroma_host is None:
            return str(self.settings.store_dir)
        return f"http://{self.settings.chroma_host}:{self.settings.chroma_port}"

    # --- embedder identity --------------------------------------------------------------------

    def _check_catalog_embedder(self) -> None:
        recorded = self.catalog.get_meta("embedder")
        if recorded is None:
            self.catalog.set_meta("embedder", self.embedder.name)
        elif recorded != self.embedder.name:
            raise self._mismatch(recorded)

    def _mismatch(self, recorded: str) -> EmbedderMismatchError:
        return EmbedderMismatchError(
            f"the store at {self.location} was built with embedder '{recorded}', but the configured "
            f"embedder is '{self.embedder.name}'; use the same embedder, or another BRIEFING_HOME "
            f"or BRIEFING_COLLECTION"
        )

    @property
    def collection(self):
        """The Chroma collection, opened on first use (importing chromadb costs about a second)."""
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self):
        client = chroma_client(self.settings)
        metadata = {"embedder": self.embedder.name}
        if self.embedder.dimension:
            metadata["dimension"] = self.embedder.dimension
        try:
            collection = client.get_or_create_collection(
                self.settings.collection,
                metadata=metadata,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as exc:  # connection failures surface here in server mode
            raise StoreError(f"cannot open collection '{self.settings.collection}' at {self.location}: "
                             f"{_first_line(exc)}") from None  # fmt: skip
        recorded = (collection.metadata or {}).get("embedder")
        if recorded and recorded != self.embedder.name:
            raise self._mismatch(recorded)
        return collection

    @contextmanager
    def _chroma(self, doing: str) -> Iterator[None]:
        """Chroma's own errors (a server gone mid-run, a damaged folder) as one StoreError line."""
        try:
            yield
        except BriefingError:
            raise
        except Exception as exc:  # chromadb and httpx raise many types; all mean the store failed
            raise StoreError(f"Chroma at {self.location} failed while {doing}: {_first_line(exc)}") from exc

    def _count(self) -> int:
        with self._chroma("counting vectors"):
            return self.collection.count()

    def _check_dimension(self, vectors: np.ndarray) -> None:
        recorded = (self.collection.metadata or {}).get("dimension")
        if recorded and vectors.shape[1] != recorded:
            raise EmbedderMismatchError(
                f"the store at {self.location} holds {recorded}-dimensional vectors, but embedder "
                f"'{self.embedder.name}' gives {vectors.shape[1]}"
            )

    # --- writes -------------------------------------------------------------------------------

    def add_vectors(self, items: list[tuple[Chunk, Article]], known: dict[str, np.ndarray] | None = None) -> int:
        """Embed and upsert chunks ahead of their catalog commit (see ``commit``); ``known`` gives
        vectors by chunk id that need no embedding. Returns how many chunks were upserted."""
        if items:
            self.catalog.set_meta("vectors_pending", "1")
            self._upsert(items, known or {})
        return len(items)

    def saved_vectors(self, ids: list[str], revision: int) -> dict[str, np.ndarray]:
        """Vectors of stored chunks from the side file as saved on disk, if it was saved at catalog
        ``revision`` with this embedder; otherwise none (the caller embeds instead)."""
        index = VectorIndex.load(self.vector_dir)
        if index is None or index.revision != revision or index.embedder != self.embedder.name:
            return {}
        return index.vectors_of(ids)

    def commit(self, records: list[FileRecord]) -> None:
        """Commit files to the catalog, then drop the vectors of chunks they no longer have.

        ``vectors_pending`` stays set from the first ``add_vectors`` until here, while Chroma and
        the catalog may disagree; the next ingest reconciles them if this process died meanwhile.
        """
        self.catalog.set_meta("vectors_pending", "1")
        self._track()  # before the revision moves, so the delta knows its base
        gone = self.catalog.write_files(records)
        self._delete_vectors(gone)
        self.catalog.set_meta("vectors_pending", "0")

    def _upsert(self, items: list[tuple[Chunk, Article]], known: dict[str, np.ndarray] | None = None,
                batch: int = 1000) -> None:  # fmt: skip
        collection = self.collection  # fail on an unreachable server before loading the embedder
        for i in range(0, len(items), batch):
            part = items[i : i + batch]
            vectors = self._vectors(part, known or {})
            self._check_dimension(vectors)
            metadatas = [chunk_metadata(chunk, article) for chunk, article in part]
            self._track().add([chunk.id for chunk, _ in part], [m["published_ts"] for m in metadatas], vectors)
            with self._chroma("writing vectors"):
                collection.upsert(
                    ids=[chunk.id for chunk, _ in part],
                    embeddings=vectors,
                    documents=[chunk.text for chunk, _ in part],
                    metadatas=metadatas,
                )

    def _vectors(self, items: list[tuple[Chunk, Article]], known: dict[str, np.ndarray]) -> np.ndarray:
        """One row per item: the known vector, or the embedding of headline and chunk text."""
        missing = [i for i, (chunk, _) in enumerate(items) if chunk.id not in known]
        embedded = self.embedder.embed([indexed_text(items[i][1].title, items[i][0].text) for i in missing]) if missing else None
        if embedded is not None and len(missing) == len(items):
            return embedded
        rows = [known.get(chunk.id) for chunk, _ in items]
        for row, i in enumerate(missing):
            rows[i] = embedded[row]
        return np.stack(rows).astype(np.float32)

    def _delete_vectors(self, ids: list[str], batch: int = 1000) -> None:
        if ids:
            self._track().remove(ids)
        for i in range(0, len(ids), batch):
            with self._chroma("deleting vectors"):
                self.collection.delete(ids=ids[i : i + batch])

    def remove_files(self, paths: list[str]) -> int:
        self.catalog.set_meta("vectors_pending", "1")
        self._track()
        gone, articles = self.catalog.remove_files(paths)
        self._delete_vectors(gone)
        self.catalog.set_meta("vectors_pending", "0")
        return articles

    def reconcile(self) -> tuple[int, int]:
        """Make Chroma hold exactly the catalog's chunks; returns (orphans removed, missing embedded).

        Needed after a crash between a Chroma write and the catalog commit, or when a server's data
        was lost while the catalog survived.
        """
        wanted = self.catalog.chunk_ids()
        with self._chroma("listing vectors"):
            stored = set(self.collection.get(include=[])["ids"])
        orphans = sorted(stored - wanted)
        self._delete_vectors(orphans)
        missing = self.catalog.chunks_with_articles(wanted - stored)
        if missing:
            self._upsert(missing)
        self.catalog.set_meta("vectors_pending", "0")
        return len(orphans), len(missing)

    # --- keyword index ------------------------------------------------------------------------

    @property
    def keyword_dir(self) -> Path:
        return self.settings.store_dir / "keyword"

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index, rebuilt first if the catalog changed since it was saved."""
        index = KeywordIndex.load(self.keyword_dir)
        if index is None or index.revision != self.catalog.revision:
            index = KeywordIndex.build(self.catalog.all_chunks(), self.catalog.revision)
            index.save(self.keyword_dir)
        return index

    # --- vector side file ---------------------------------------------------------------------

    @property
    def vector_dir(self) -> Path:
        return self.settings.store_dir / "vectors"

    def _track(self) -> VectorDelta:
        """The vector writes of this process, kept to update the side file without re-reading Chroma."""
        if self._delta is None:
            self._delta = VectorDelta(base_revision=self.catalog.revision)
        return self._delta

    def vector_index(self) -> VectorIndex:
        """The side file of all chunk vectors, brought up to the catalog's revision first if needed."""
        revision = self.catalog.revision
        if self._index is not None and self._index.revision == revision:
            return self._index
        index = VectorIndex.load(self.vector_dir)
        if index is not None and index.embedder == self.embedder.name and index.revision == revision:
            self._index = index
            return index
        if index is None and self._delta is not None and self._delta.base_revision == 0:
            index = VectorIndex.empty(self.embedder.name)  # a first ingest: all its vectors are in the delta
        if index is not None and index.embedder == self.embedder.name and self._delta is not None \
                and index.revision == self._delta.base_revision:  # fmt: skip
            index = index.updated(self._delta, revision)
        else:
            index = self._vector_index_from_chroma(revision)
        index.save(self.vector_dir)
        self._delta = VectorDelta(base_revision=revision)
        self._index = VectorIndex.load(self.vector_dir) or index
        return self._index

    def _vector_index_from_chroma(self, revision: int, page: int = 5000) -> VectorIndex:
        """Rebuild the side file from Chroma, keeping only chunks the catalog has."""
        wanted = self.catalog.chunk_ids()
        ids: list[str] = []
        stamps: list[int] = []
        vectors: list[np.ndarray] = []
        total = self._count()
        for offset in range(0, total, page):
            with self._chroma("reading vectors"):
                got = self.collection.get(include=["embeddings", "metadatas"], limit=page, offset=offset)
            for cid, vector, meta in zip(got["ids"], got["embeddings"], got["metadatas"]):
                if cid in wanted:
                    ids.append(cid)
                    stamps.append(int((meta or {}).get("published_ts", UNDATED)))
                    vectors.append(np.asarray(vector, dtype=np.float32))
        dimension = self.embedder.dimension or (len(vectors[0]) if vectors else 0)
        matrix = np.stack(vectors) if vectors else np.empty((0, dimension), dtype=np.float32)
        return VectorIndex.build(ids, stamps, matrix, revision, self.embedder.name)

    # --- reads --------------------------------------------------------------------------------

    def dense_search(
        self, vector: np.ndarray, n: int, filters: RetrievalFilter, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks to ``vector`` in the filters' date window (and among ``allowed``), as
        (chunk id, cosine similarity). Exact search over the side file, not Chroma's HNSW."""
        index = self.vector_index()
        self._check_server(index)
        return index.search(vector, n, filters.since, filters.until, allowed)

    def _check_server(self, index: VectorIndex) -> None:
        """With a Chroma server, answer only while it is reachable and holds what the side file does,
        so a lost or wiped server is an error, never a silent answer from the cache."""
        if self.settings.chroma_host is None:
            return
        count = self._count()
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
        return self._count() < self.catalog.counts()["chunks"]

    def vectors_of(self, ids: list[str]) -> dict[str, np.ndarray]:
        return self.vector_index().vectors_of(ids)

    def stats(self, count_vectors: bool = True) -> StoreStats:
        counts = self.catalog.counts()
        earliest, latest = self.catalog.date_range()
        return StoreStats(
            location=self.location,
            collection=self.settings.collection,
            embedder=self.catalog.get_meta("embedder") or self.embedder.name,
            dimension=self.embedder.dimension,
            vectors=self._count() if count_vectors else -1,
            earliest=earliest,
            latest=latest,
            size_bytes=_folder_size(self.settings.store_dir),
            **counts,
        )


def _folder_size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def open_catalog(settings: Settings) -> Catalog | None:
    """The catalog for read-only listings, without opening Chroma; None if nothing was ingested yet."""
    path = settings.store_dir / "catalog.sqlite"
    return Catalog(path) if path.exists() else None


def store_stats(settings: Settings, embedder: Embedder) -> StoreStats:
    with Store(settings, embedder) as store:
        return store.stats()
