"""The store's writes: vectors into Chroma and the side file, files into the catalog, in the order
that makes a crash harmless.

Vectors are written before the catalog commits the file they belong to, and deleted after, so an
interrupted ingest leaves at worst extra vectors; ``vectors_pending`` says so, and ``reconcile``
makes Chroma hold exactly the catalog's chunks again.
"""

from __future__ import annotations

import numpy as np

from briefing.embedding import Embedder
from briefing.models import Article, Chunk
from briefing.store.catalog import Catalog, FileRecord
from briefing.store.chroma import ChromaVectors, chunk_metadata
from briefing.store.record import PUBLISH_PENDING, ServerRecord
from briefing.store.side_files import SideFiles
from briefing.text import embedded_text


class StoreWrites:
    """The write half of ``Store`` (a mixin over its catalog, Chroma vectors, side files and embedder)."""

    catalog: Catalog
    chroma: ChromaVectors
    side_files: SideFiles
    record: ServerRecord
    embedder: Embedder

    def add_vectors(self, items: list[tuple[Chunk, Article]], known: dict[str, np.ndarray] | None = None) -> int:
        """Embed and upsert chunks ahead of their catalog commit (see ``commit``); ``known`` gives
        vectors by chunk id that need no embedding. Returns how many chunks were upserted."""
        if items:
            self.catalog.set_meta("vectors_pending", "1")
            self._upsert(items, known or {})
        return len(items)

    def saved_vectors(self, ids: list[str], revision: int) -> dict[str, np.ndarray]:
        return self.side_files.saved_vectors(ids, revision)

    def commit(self, records: list[FileRecord]) -> None:
        """Commit files to the catalog, then drop the vectors of chunks they no longer have.

        ``vectors_pending`` stays set from the first ``add_vectors`` until here, while Chroma and
        the catalog may disagree; the next ingest reconciles them if this process died meanwhile.
        """
        self.catalog.set_meta("vectors_pending", "1")
        self.side_files.track()  # before the revision moves, so the delta knows its base
        paths = {record.path for record in records}
        before = self.catalog.touched_by_files(paths)
        self.catalog.set_meta(PUBLISH_PENDING, "1")  # until the server has it too (see ServerRecord.share)
        gone = self.catalog.write_files(records)
        self._delete_vectors(gone)
        self._publish(before, paths, set())
        self.catalog.set_meta("vectors_pending", "0")

    def remove_files(self, paths: list[str]) -> int:
        self.catalog.set_meta("vectors_pending", "1")
        self.side_files.track()
        before = self.catalog.touched_by_files(paths)
        self.catalog.set_meta(PUBLISH_PENDING, "1")
        gone, articles = self.catalog.remove_files(paths)
        self._delete_vectors(gone)
        self._publish(before, set(), set(paths))
        self.catalog.set_meta("vectors_pending", "0")
        return articles

    def remove_articles(self, article_ids: set[str]) -> int:
        """Remove these articles (``--prune``, retention) with their chunks; returns how many."""
        if not article_ids:
            return 0
        self.catalog.set_meta("vectors_pending", "1")
        self.side_files.track()
        reread_before = self.catalog.touched_by_files(())[1]
        self.catalog.set_meta(PUBLISH_PENDING, "1")
        gone = self.catalog.remove_articles(article_ids)
        self._delete_vectors(gone)
        reread_after = self.catalog.touched_by_files(())[1]
        self.record.publish(self.catalog, set(), set(article_ids), reread_after - reread_before, set())
        self.catalog.set_meta(PUBLISH_PENDING, "0")
        self.catalog.set_meta("vectors_pending", "0")
        return len(article_ids)

    def _publish(self, before: tuple[set[str], set[str]], paths: set[str], gone_paths: set[str]) -> None:
        """Copy to the server what a write changed: the articles these files held or fed before and
        after it (theirs, those they are an alternate source of, versions they replaced), and the
        file rows, with the files the write marked to be read again."""
        touched_after, reread_after = self.catalog.touched_by_files(paths)
        touched = before[0] | touched_after | self.catalog.replaced_by(touched_after)
        existing = self.catalog.existing_article_ids(touched)
        self.record.publish(self.catalog, existing, touched - existing, paths | (reread_after - before[1]), gone_paths)
        self.catalog.set_meta(PUBLISH_PENDING, "0")

    def reconcile(self) -> tuple[int, int]:
        """Make Chroma hold exactly the catalog's chunks; returns (orphans removed, missing embedded).

        Needed after a crash between a Chroma write and the catalog commit, or when a server's data
        was lost while the catalog survived.
        """
        wanted = self.catalog.chunk_ids()
        stored = self.chroma.ids()
        # On a shared server, vectors this cache lacks may be another machine's (its ingest in
        # progress, or its copy of a restored store): only this home's own are orphans.
        orphans = sorted(cid for cid, origin in self.chroma.origins(sorted(stored - wanted)).items()
                         if origin in ("", self.catalog.origin))
        self._delete_vectors(orphans)
        missing = self.catalog.chunks_with_articles(wanted - stored)
        if missing:
            self._upsert(missing)
        self.catalog.set_meta("vectors_pending", "0")
        return len(orphans), len(missing)

    def _upsert(self, items: list[tuple[Chunk, Article]], known: dict[str, np.ndarray] | None = None,
                batch: int = 1000) -> None:
        _ = self.chroma.collection  # fail on an unreachable server before loading the embedder
        for i in range(0, len(items), batch):
            part = items[i : i + batch]
            vectors = self._vectors(part, known or {})
            self.chroma.check_dimension(vectors)  # before the side file's delta records them
            metadatas = [chunk_metadata(chunk, article, self.catalog.origin) for chunk, article in part]
            times = [int(m["published_ts"]) for m in metadatas]
            self.side_files.track().add([chunk.id for chunk, _ in part], times, vectors)
            self.chroma.upsert(part, vectors, metadatas)

    def _vectors(self, items: list[tuple[Chunk, Article]], known: dict[str, np.ndarray]) -> np.ndarray:
        """One row per item: the known vector, or the embedding of headline and chunk text."""
        missing = [i for i, (chunk, _) in enumerate(items) if chunk.id not in known]
        texts = [embedded_text(items[i][1].title, items[i][0].text, items[i][0].overlap) for i in missing]
        embedded = self.embedder.embed(texts) if missing else np.zeros((0, 0), dtype=np.float32)
        if len(missing) == len(items):
            return embedded
        fresh = dict(zip(missing, embedded))
        rows = [fresh[i] if i in fresh else known[chunk.id] for i, (chunk, _) in enumerate(items)]
        return np.stack(rows).astype(np.float32)

    def _delete_vectors(self, ids: list[str]) -> None:
        if ids:
            self.side_files.track().remove(ids)
        self.chroma.delete(ids)
