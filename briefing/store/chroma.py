"""The Chroma collection of chunk vectors: the only module that imports chromadb.

Embedded mode keeps Chroma's files under the store folder; with ``BRIEFING_CHROMA_HOST`` set the
same code talks to a Chroma server instead. Every Chroma failure becomes one ``StoreError`` line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import numpy as np

from briefing.embedding import Embedder, same_embedder
from briefing.errors import BriefingError, EmbedderMismatchError, StoreError
from briefing.models import Article, Chunk
from briefing.settings import Settings


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
            f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({first_line(exc)})"
        ) from None


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def failures(location: str, doing: str) -> Iterator[None]:
    """Chroma's own errors (a server gone mid-run, a damaged folder) as one StoreError line."""
    try:
        yield
    except BriefingError:
        raise
    except Exception as exc:  # chromadb and httpx raise many types; all mean the store failed
        raise StoreError(f"Chroma at {location} failed while {doing}: {first_line(exc)}") from exc


def open_collection(client, name: str, location: str, create: bool):
    """The collection ``name``; created when ``create``, else None when it does not exist."""
    with failures(location, f"opening collection '{name}'"):
        if create:
            return client.get_or_create_collection(name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        if name not in {c if isinstance(c, str) else c.name for c in client.list_collections()}:
            return None
        return client.get_collection(name, embedding_function=None)


def collection_embedder(settings: Settings, location: str) -> str | None:
    """The embedder recorded on the chunk collection, if it exists."""
    found = open_collection(chroma_client(settings), settings.collection, location, create=False)
    return (found.metadata or {}).get("embedder") if found is not None else None


def chunk_metadata(chunk: Chunk, article: Article, origin: str = "") -> dict[str, str | int]:
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
        "day": int(published.astimezone(UTC).strftime("%Y%m%d")) if published else -1,
        "origin": origin,  # the home that wrote it: on a shared server, only that home removes it as an orphan
    }


class ChromaVectors:
    """The collection named by the settings, opened on first use (importing chromadb costs about a
    second) and checked against the embedder that the store was built with."""

    def __init__(self, settings: Settings, location: str, embedder: Embedder, client: Callable[[], Any] | None = None):
        self.settings = settings
        self.location = location
        self.embedder = embedder
        self._client = client or (lambda: chroma_client(settings))  # the store shares one client
        self._collection = None

    @property
    def collection(self):
        if self._collection is None:
            self._collection = self._open()
        return self._collection

    def _open(self):
        client = self._client()
        metadata: dict[str, str | int] = {"embedder": self.embedder.name}
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
                             f"{first_line(exc)}") from None
        recorded = (collection.metadata or {}).get("embedder")
        if recorded and not same_embedder(recorded, self.embedder.name):
            raise mismatch(self.location, recorded, self.embedder.name)
        return collection

    def failures(self, doing: str):
        return failures(self.location, doing)

    def count(self) -> int:
        with self.failures("counting vectors"):
            return self.collection.count()

    def origins(self, ids: list[str]) -> dict[str, str]:
        """The home that wrote each of these vectors ('' for vectors written before homes were recorded)."""
        found: dict[str, str] = {}
        for i in range(0, len(ids), 1000):
            with self.failures("reading vector metadata"):
                got = self.collection.get(ids=ids[i : i + 1000], include=["metadatas"])
            found.update((cid, str((meta or {}).get("origin", ""))) for cid, meta in zip(got["ids"], got["metadatas"]))
        return found

    def ids(self) -> set[str]:
        with self.failures("listing vectors"):
            return set(self.collection.get(include=[])["ids"])

    def upsert(self, items: list[tuple[Chunk, Article]], vectors: np.ndarray, metadatas: list[dict]) -> None:
        """Write chunks with their vectors (checked first with ``check_dimension``) and metadata."""
        with self.failures("writing vectors"):
            self.collection.upsert(
                ids=[chunk.id for chunk, _ in items],
                embeddings=vectors,
                documents=[chunk.text for chunk, _ in items],
                metadatas=metadatas,
            )

    def delete(self, ids: list[str], batch: int = 1000) -> None:
        for i in range(0, len(ids), batch):
            with self.failures("deleting vectors"):
                self.collection.delete(ids=ids[i : i + batch])

    def pages(self, page: int = 5000) -> Iterator[tuple[str, list[float], dict]]:
        """(chunk id, vector, metadata) of every stored vector, read ``page`` at a time."""
        for offset in range(0, self.count(), page):
            with self.failures("reading vectors"):
                got = self.collection.get(include=["embeddings", "metadatas"], limit=page, offset=offset)
            yield from zip(got["ids"], got["embeddings"], got["metadatas"])

    def check_dimension(self, vectors: np.ndarray) -> None:
        recorded = (self.collection.metadata or {}).get("dimension")
        if recorded and vectors.shape[1] != recorded:
            raise EmbedderMismatchError(
                f"the store at {self.location} holds {recorded}-dimensional vectors, but embedder "
                f"'{self.embedder.name}' gives {vectors.shape[1]}"
            )


def mismatch(location: str, recorded: str, configured: str) -> EmbedderMismatchError:
    return EmbedderMismatchError(
        f"the store at {location} was built with embedder '{recorded}', but the configured "
        f"embedder is '{configured}'; use the same embedder, or another BRIEFING_HOME "
        f"or BRIEFING_COLLECTION"
    )
