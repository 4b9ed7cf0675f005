"""The store's catalog: a SQLite file beside the vectors holding articles, chunks and the file manifest.

Chroma holds the vectors; the catalog is the source of truth for what was ingested. It makes
re-ingest idempotent (file content hashes), lets `sources` and `stats` answer without opening
Chroma, and feeds the keyword index. Writes to Chroma happen before the catalog commits a file, and
deletions after, so a crash leaves at worst orphan vectors, which ``Store.reconcile`` removes.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import AbstractContextManager
from pathlib import Path

from briefing.store.catalog_mirror import CatalogMirror
from briefing.store.catalog_reads import CatalogReads
from briefing.store.catalog_rows import ADDED_COLUMNS, LATER_INDEXES, SCHEMA, FileRecord, StoryEntry
from briefing.store.catalog_writes import CatalogWrites

__all__ = ["Catalog", "FileRecord", "StoryEntry", "recorded_meta"]


class Catalog(CatalogWrites, CatalogReads, CatalogMirror, AbstractContextManager):
    """The catalog file at ``path``, created if missing and upgraded to the current schema."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._add_later_columns()

    def _add_later_columns(self) -> None:
        for table, name, kind in ADDED_COLUMNS:
            if name not in {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        self.db.executescript(LATER_INDEXES)
        if self.get_meta("origin") is None:  # who ingested a file, when several homes share a server
            self.set_meta("origin", uuid.uuid4().hex)

    def close(self) -> None:
        self.db.close()

    def __exit__(self, *exc) -> None:
        self.close()


def recorded_meta(path: Path, key: str) -> str | None:
    """A meta value of the catalog at ``path`` without creating one; None if there is none."""
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        db.close()
    return row[0] if row else None
