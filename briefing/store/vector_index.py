"""The vector side file: every chunk vector in publish-time order, searched exactly with numpy.

Chroma stays the vector store of record; this is a cache of it, tagged with the catalog revision
it reflects, like the keyword index. Sorting by publish time turns a date window into one
contiguous slice, so a one-day window at 100k chunks scores a few hundred rows instead of asking
Chroma's HNSW to filter (measured in bench/retrieval.py). Files are memory-mapped, so a CLI run
pays only for the rows it touches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from briefing.store.folders import replace_folder

UNDATED = -1  # the stamp of chunks whose article has no publish date; they sort first


@dataclass
class VectorDelta:
    """Vector writes since ``base_revision``, to bring an index of that revision up to date."""

    base_revision: int
    added: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    def add(self, ids: list[str], stamps: list[int], vectors: np.ndarray) -> None:
        for chunk_id, stamp, vector in zip(ids, stamps, vectors):
            self.added[chunk_id] = (stamp, np.asarray(vector, dtype=np.float32))
            self.removed.discard(chunk_id)

    def remove(self, ids: list[str]) -> None:
        for chunk_id in ids:
            self.added.pop(chunk_id, None)
            self.removed.add(chunk_id)


class VectorIndex:
    """Ids, publish stamps (Unix seconds, ``UNDATED`` if none) and unit vectors, sorted by stamp."""

    def __init__(self, ids: np.ndarray, stamps: np.ndarray, vectors: np.ndarray, revision: int, embedder: str):
        self.ids = ids
        self.stamps = stamps
        self.vectors = vectors
        self.revision = revision
        self.embedder = embedder
        self._rows: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, ids: list[str], stamps: list[int], vectors: np.ndarray, revision: int, embedder: str) -> VectorIndex:
        order = np.argsort(np.asarray(stamps, dtype=np.int64), kind="stable")
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            vectors = vectors.reshape(len(ids), -1)
        return cls(
            ids=np.asarray(ids, dtype=str)[order] if ids else np.empty(0, dtype="<U1"),
            stamps=np.asarray(stamps, dtype=np.int64)[order],
            vectors=np.ascontiguousarray(vectors[order]),
            revision=revision,
            embedder=embedder,
        )

    @classmethod
    def empty(cls, embedder: str) -> VectorIndex:
        return cls.build([], [], np.empty((0, 0), dtype=np.float32), revision=0, embedder=embedder)

    def updated(self, delta: VectorDelta, revision: int) -> VectorIndex:
        """This index with ``delta`` applied, tagged ``revision``."""
        replaced = delta.removed | set(delta.added)
        keep = np.fromiter((cid not in replaced for cid in self.ids), dtype=bool, count=len(self.ids))
        new_ids = list(delta.added)
        parts = [np.asarray(self.vectors[keep])] if keep.any() else []
        if new_ids:
            parts.append(np.stack([delta.added[cid][1] for cid in new_ids]))
        return VectorIndex.build(
            ids=[*self.ids[keep].tolist(), *new_ids],
            stamps=[*self.stamps[keep].tolist(), *(delta.added[cid][0] for cid in new_ids)],
            vectors=np.concatenate(parts) if parts else np.empty((0, self.vectors.shape[1]), dtype=np.float32),
            revision=revision,
            embedder=self.embedder,
        )

    # --- files --------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        replace_folder(folder, self._write)

    def _write(self, folder: Path) -> None:
        np.save(folder / "ids.npy", self.ids)
        np.save(folder / "stamps.npy", self.stamps)
        np.save(folder / "vectors.npy", np.asarray(self.vectors, dtype=np.float32))
        (folder / "meta.json").write_text(json.dumps({"revision": self.revision, "embedder": self.embedder}))

    @classmethod
    def load(cls, folder: Path) -> VectorIndex | None:
        """The saved index, memory-mapped; None if there is none or it is unreadable."""
        try:
            meta = json.loads((folder / "meta.json").read_text())
            return cls(
                ids=np.load(folder / "ids.npy", mmap_mode="r"),
                stamps=np.load(folder / "stamps.npy", mmap_mode="r"),
                vectors=np.load(folder / "vectors.npy", mmap_mode="r"),
                revision=int(meta["revision"]),
                embedder=str(meta["embedder"]),
            )
        except (OSError, ValueError, KeyError):
            return None

    # --- reads --------------------------------------------------------------------------------

    def window(self, since: datetime | None, until: datetime | None) -> slice:
        """Rows published within [since, until]; with either bound, undated rows are left out."""
        if since is None and until is None:
            return slice(0, len(self.ids))
        low = int(since.timestamp()) if since else UNDATED + 1
        high = int(until.timestamp()) if until else np.iinfo(np.int64).max
        start = int(np.searchsorted(self.stamps, max(low, UNDATED + 1), side="left"))
        stop = int(np.searchsorted(self.stamps, high, side="right"))
        return slice(start, max(start, stop))

    def ids_in(self, since: datetime | None, until: datetime | None) -> set[str]:
        return set(self.ids[self.window(since, until)].tolist())

    def search(
        self, vector: np.ndarray, n: int, since: datetime | None = None, until: datetime | None = None,
        allowed: set[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Exact top ``n`` by cosine within the window (and among ``allowed`` ids, if given)."""
        rows = self.window(since, until)
        if n <= 0 or rows.start >= rows.stop:
            return []
        scores = np.asarray(self.vectors[rows]) @ np.asarray(vector, dtype=np.float32)
        if allowed is not None:
            ids = self.ids[rows]
            mask = np.fromiter((cid in allowed for cid in ids.tolist()), dtype=bool, count=len(ids))
            scores = np.where(mask, scores, -np.inf)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(str(self.ids[rows.start + i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def vectors_of(self, ids: list[str]) -> dict[str, np.ndarray]:
        if self._rows is None:
            self._rows = {cid: row for row, cid in enumerate(self.ids.tolist())}
        return {cid: np.asarray(self.vectors[self._rows[cid]]) for cid in ids if cid in self._rows}
