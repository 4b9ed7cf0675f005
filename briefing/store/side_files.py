"""The two indexes kept beside the catalog: the BM25 keyword index and the vector side file.

Each is tagged with the catalog revision it reflects and brought up to date when read, so a reader
never answers from an index older than the catalog.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from briefing.embedding import Embedder
from briefing.store.catalog import Catalog
from briefing.store.chroma import ChromaVectors
from briefing.store.keyword import KeywordIndex
from briefing.store.vector_index import UNDATED, VectorDelta, VectorIndex


class SideFiles:
    """The keyword index and vector side file of one store, for one embedder."""

    def __init__(self, store_dir: Path, catalog: Catalog, chroma: ChromaVectors, embedder: Embedder):
        self.keyword_dir = store_dir / "keyword"
        self.vector_dir = store_dir / "vectors"
        self.catalog = catalog
        self.chroma = chroma
        self.embedder = embedder
        self._delta: VectorDelta | None = None
        self._index: VectorIndex | None = None  # the side file as last loaded by this process

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index, rebuilt first if the catalog changed since it was saved."""
        index = KeywordIndex.load(self.keyword_dir)
        if index is None or index.revision != self.catalog.revision:
            index = KeywordIndex.build(self.catalog.all_chunks(), self.catalog.revision)
            index.save(self.keyword_dir)
        return index

    def track(self) -> VectorDelta:
        """The vector writes of this process, kept to update the side file without re-reading Chroma."""
        if self._delta is None:
            self._delta = VectorDelta(base_revision=self.catalog.revision)
        return self._delta

    def saved_vectors(self, ids: list[str], revision: int) -> dict[str, np.ndarray]:
        """Vectors of stored chunks from the side file as saved on disk, if it was saved at catalog
        ``revision`` with this embedder; otherwise none (the caller embeds instead)."""
        index = VectorIndex.load(self.vector_dir)
        if index is None or index.revision != revision or index.embedder != self.embedder.name:
            return {}
        return index.vectors_of(ids)

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
                and index.revision == self._delta.base_revision:
            index = index.updated(self._delta, revision)
        else:
            index = self._from_chroma(revision)
        index.save(self.vector_dir)
        self._delta = VectorDelta(base_revision=revision)
        self._index = VectorIndex.load(self.vector_dir) or index
        return self._index

    def _from_chroma(self, revision: int) -> VectorIndex:
        """Rebuild the side file from Chroma, keeping only chunks the catalog has."""
        wanted = self.catalog.chunk_ids()
        ids: list[str] = []
        stamps: list[int] = []
        vectors: list[np.ndarray] = []
        for cid, vector, meta in self.chroma.pages():
            if cid in wanted:
                ids.append(cid)
                stamps.append(int((meta or {}).get("published_ts", UNDATED)))
                vectors.append(np.asarray(vector, dtype=np.float32))
        dimension = self.embedder.dimension or (len(vectors[0]) if vectors else 0)
        matrix = np.stack(vectors) if vectors else np.empty((0, dimension), dtype=np.float32)
        return VectorIndex.build(ids, stamps, matrix, revision, self.embedder.name)
