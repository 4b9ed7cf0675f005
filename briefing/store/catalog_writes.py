"""The catalog's manifest of input files and its writes: what each file contributed, replaced whole
in one transaction, and the entries ingest reads to find duplicates and story versions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import numpy as np

from briefing.models import SourceRef, version_time
from briefing.store.catalog_rows import (
    ALTERNATE,
    ARTICLE_INSERT_COLUMNS,
    CURRENT,
    MARK_REREAD,
    OWN_FILES,
    TO_REREAD,
    CatalogCore,
    FileRecord,
    FileState,
    StoryEntry,
    Transaction,
    batches,
    iso,
    parse_iso,
    signature_blob,
    timestamp,
)


class CatalogWrites(CatalogCore):
    """The manifest and write half of ``Catalog`` (a mixin over its ``db`` connection and meta)."""

    # --- manifest -----------------------------------------------------------------------------

    def file_state(self, path: str) -> FileState | None:
        row = self.db.execute("SELECT digest, skipped FROM files WHERE path = ?", (path,)).fetchone()
        return FileState(row[0], json.loads(row[1])) if row else None

    def file_paths(self) -> list[str]:
        """Paths of the files this home ingested."""
        return [row[0] for row in self.db.execute(f"SELECT path FROM files WHERE {OWN_FILES} ORDER BY path")]

    def article_ids_of_file(self, path: str) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM articles WHERE source_path = ?", (path,))}

    def copies_of(self, article_id: str) -> list[SourceRef]:
        rows = self.db.execute("SELECT title, publisher, url, published, source_path FROM alternates WHERE article_id = ?",
                               (article_id,))
        return [SourceRef(title=r[0], publisher=r[1], url=r[2], published=parse_iso(r[3]), source_path=r[4]) for r in rows]

    def sources_of_file(self, path: str) -> list[tuple[str, SourceRef, bool]]:
        """(stored article id, the copy, whether it is a repeat) for every copy this file gave."""
        rows = self.db.execute(
            "SELECT article_id, title, publisher, url, published, COALESCE(repeat, 0) FROM alternates WHERE source_path = ?",
            (path,))
        return [(r[0], SourceRef(title=r[1], publisher=r[2], url=r[3], published=parse_iso(r[4]), source_path=path),
                 bool(r[5])) for r in rows]

    def dedupe_entries(self) -> Iterator[tuple[str, str, np.ndarray | None, str]]:
        """(id, identity hash, MinHash signature or None for a short text, title) of current articles."""
        rows = self.db.execute(f"SELECT a.id, a.content_hash, a.minhash, a.title FROM articles a WHERE {CURRENT}")
        for article_id, identity, blob, title in rows:
            yield article_id, identity, (np.frombuffer(blob, dtype=np.uint32) if blob else None), title

    def story_entries(self) -> Iterator[StoryEntry]:
        """The story keys, version time, publisher and title of every current article."""
        rows = self.db.execute(
            "SELECT a.id, a.story_url, a.story_guid, a.published, a.updated, a.publisher, a.title FROM articles a "
            f"WHERE {CURRENT}"
        )
        for row in rows:
            yield StoryEntry(row[0], row[1], row[2], version_time(parse_iso(row[3]), parse_iso(row[4])), row[5], row[6])

    def reset_digests(self) -> int:
        """Make every file count as changed, so the next ingest reads it again; returns how many."""
        return self.db.execute(f"UPDATE files SET {MARK_REREAD} WHERE {OWN_FILES}").rowcount

    def files_to_read(self) -> list[str]:
        """Files the manifest knows but must read again: their stories lost the article they were
        folded into or replaced by, or the store was upgraded."""
        return [row[0] for row in self.db.execute(f"SELECT path FROM files WHERE {TO_REREAD} AND {OWN_FILES} ORDER BY path")]

    def keys(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, id FROM articles"))

    def indexed_chunks(self, article_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Chunk id -> (article title, chunk text), the two parts of what was embedded for it."""
        out: dict[str, tuple[str, str]] = {}
        for batch in batches(list(article_ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(
                f"SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id "
                f"WHERE c.article_id IN ({marks})", batch,
            )
            out.update((cid, (title, text)) for cid, title, text in rows)
        return out

    def file_totals(self, paths: Iterable[str]) -> tuple[int, int, int]:
        """Current articles these files hold (not those that left them), their chunks, and the
        alternate sources they hold."""
        totals = [0, 0, 0]
        for batch in batches(sorted(paths), 500):
            marks = ",".join("?" * len(batch))
            row = self.db.execute(
                f"SELECT (SELECT COUNT(*) FROM articles a WHERE source_path IN ({marks}) AND {CURRENT} AND left_at IS NULL), "
                f"(SELECT COUNT(*) FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.source_path IN ({marks}) "
                f"AND a.left_at IS NULL), "
                f"(SELECT COUNT(*) FROM alternates l WHERE source_path IN ({marks}) AND {ALTERNATE})", batch * 3,
            ).fetchone()
            totals = [t + r for t, r in zip(totals, row)]
        return totals[0], totals[1], totals[2]

    def write_files(self, records: list[FileRecord]) -> list[str]:
        """Replace what each file contributed with its new content, keeping (marked as left) the
        articles of its earlier content it no longer holds. Returns chunk ids now gone."""
        with self._transaction():
            gone: set[str] = set()
            for record in records:
                gone |= self._forget_file(record.path, keep=record.kept)
                self._mark_left(record.kept)
                self._insert(record)
                gone |= self._supersede(record.supersedes)
            self._bump_revision()
            kept = self._existing_chunk_ids(gone)
        return sorted(gone - kept)

    def remove_files(self, paths: list[str]) -> tuple[list[str], int]:
        """Drop files and what they contributed; returns the chunk ids gone and the articles removed."""
        with self._transaction():
            gone: set[str] = set()
            articles = 0
            for path in paths:
                articles += len(self.article_ids_of_file(path))
                gone |= self._forget_file(path)
                self.db.execute("DELETE FROM files WHERE path = ?", (path,))
            self._bump_revision()
        return sorted(gone), articles

    def remove_articles(self, article_ids: set[str]) -> list[str]:
        """Drop these articles with their chunks and alternate sources; returns the chunk ids gone."""
        with self._transaction():
            gone = self._drop(sorted(article_ids), keep_path=None)
            self._bump_revision()
        return sorted(gone)

    def left_article_ids(self) -> set[str]:
        """Current articles no longer in the file that brought them, with those of the earlier
        versions they replaced that are no longer in their files either (an earlier version another
        file still holds stays, and becomes current again when that file is read again)."""
        rows = self.db.execute(f"SELECT id FROM articles a WHERE left_at IS NOT NULL AND {CURRENT}")
        current = {row[0] for row in rows}
        earlier = self._with_earlier_versions(current) - current
        return current | (earlier & self.left_already(earlier))

    def left_already(self, article_ids: set[str]) -> set[str]:
        found: set[str] = set()
        for batch in batches(sorted(article_ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(f"SELECT id FROM articles WHERE left_at IS NOT NULL AND id IN ({marks})", batch)
            found |= {row[0] for row in rows}
        return found

    def published_before(self, cutoff: datetime) -> set[str]:
        """Articles (current or earlier versions) published before ``cutoff``."""
        rows = self.db.execute("SELECT id FROM articles WHERE published_ts < ?", (cutoff.timestamp(),))
        return {row[0] for row in rows}

    def _with_earlier_versions(self, ids: set[str]) -> set[str]:
        found, waiting = set(ids), sorted(ids)
        while waiting:
            batch, waiting = waiting[:500], waiting[500:]
            marks = ",".join("?" * len(batch))
            new = {r[0] for r in self.db.execute(f"SELECT id FROM articles WHERE superseded_by IN ({marks})", batch)} - found
            found |= new
            waiting.extend(sorted(new))
        return found

    def _mark_left(self, article_ids: set[str]) -> None:
        now = datetime.now(UTC).isoformat()
        for batch in batches(sorted(article_ids), 500):
            marks = ",".join("?" * len(batch))
            self.db.execute(f"UPDATE articles SET left_at = ? WHERE left_at IS NULL AND id IN ({marks})", [now, *batch])

    def _forget_file(self, path: str, keep: set[str] | None = None) -> set[str]:
        owned = sorted(self.article_ids_of_file(path) - (keep or set()))
        gone = self._drop(owned, keep_path=path)
        self.db.execute("DELETE FROM alternates WHERE source_path = ?", (path,))
        return gone

    def _drop(self, owned: list[str], keep_path: str | None) -> set[str]:
        """Delete articles with their chunks and alternates; files that had a story folded into, or
        replaced by, one of them (other than ``keep_path``, being rewritten) are marked to be read
        again, so that story comes back. Returns the chunk ids gone."""
        gone: set[str] = set()
        for batch in batches(owned, 500):
            marks = ",".join("?" * len(batch))
            gone |= {r[0] for r in self.db.execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", batch)}
            # Files that had a story folded into, or replaced by, a removed article must be read
            # again to keep it.
            self.db.execute(
                f"UPDATE files SET {MARK_REREAD} WHERE path IN (SELECT source_path FROM alternates "
                f"WHERE article_id IN ({marks}) AND source_path != ? UNION SELECT source_path FROM articles "
                f"WHERE superseded_by IN ({marks}) AND source_path != ?)",
                [*batch, keep_path or "", *batch, keep_path or ""],
            )
            for table, column in (("chunks", "article_id"), ("alternates", "article_id"), ("articles", "id")):
                self.db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", batch)
        return gone

    def _supersede(self, pairs: list[tuple[str, str]]) -> set[str]:
        """Mark earlier versions as replaced and drop their chunks (their text stays); returns the chunk ids gone."""
        gone: set[str] = set()
        for earlier, newer in pairs:
            self.db.execute("UPDATE articles SET superseded_by = ? WHERE id = ?", (newer, earlier))
            gone |= {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (earlier,))}
            self.db.execute("DELETE FROM chunks WHERE article_id = ?", (earlier,))
        return gone

    def _insert(self, record: FileRecord) -> None:
        self.db.executemany(
            f"INSERT INTO articles ({ARTICLE_INSERT_COLUMNS}) VALUES ({','.join('?' * 16)})",
            [
                (
                    a.id, a.key, a.title, a.publisher, a.url, iso(a.published), timestamp(a.published),
                    a.source_path, a.source_id, a.text, record.content_hashes[a.id],
                    signature_blob(record.signatures[a.id]), iso(a.updated), *record.stories.get(a.id, (None, None)),
                    record.history.get(a.id),
                )
                for a in record.articles
            ],
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?,?,?,?,?,?)",
            [(c.id, c.article_id, c.position, c.start, c.end, c.text) for c in record.chunks],
        )
        self.db.executemany(
            "INSERT INTO alternates VALUES (?,?,?,?,?,?,?)",
            [(aid, s.source_path, s.title, s.publisher, s.url, iso(s.published), repeat)
             for repeat, pairs in ((0, record.alternates), (1, record.repeats)) for aid, s in pairs],
        )
        self.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?)",
            (
                record.path, record.digest, len(record.articles), record.duplicates, len(record.chunks),
                json.dumps(record.skipped), datetime.now(UTC).isoformat(), self.get_meta("origin"),
            ),
        )

    def _existing_chunk_ids(self, ids: set[str]) -> set[str]:
        found: set[str] = set()
        for batch in batches(sorted(ids), 500):
            marks = ",".join("?" * len(batch))
            found |= {r[0] for r in self.db.execute(f"SELECT id FROM chunks WHERE id IN ({marks})", batch)}
        return found

    def _bump_revision(self) -> None:
        self.set_meta("revision", str(self.revision + 1))

    def _transaction(self):
        return Transaction(self.db)
