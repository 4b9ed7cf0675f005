"""The catalog's SQL schema, its row types and the conversions between rows and models."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from briefing.models import Article, ArticleVersion, Chunk, SourceRef, version_time

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, digest TEXT, articles INTEGER NOT NULL, duplicates INTEGER NOT NULL,
    chunks INTEGER NOT NULL, skipped TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, title TEXT NOT NULL, publisher TEXT, url TEXT,
    published TEXT, published_ts REAL, source_path TEXT NOT NULL, source_id TEXT, text TEXT NOT NULL,
    content_hash TEXT NOT NULL, minhash BLOB NOT NULL, updated TEXT, story_url TEXT, story_guid TEXT,
    superseded_by TEXT);
CREATE INDEX IF NOT EXISTS articles_by_path ON articles (source_path);
CREATE INDEX IF NOT EXISTS articles_by_time ON articles (published_ts);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL, position INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks (article_id);
CREATE TABLE IF NOT EXISTS alternates (
    article_id TEXT NOT NULL, source_path TEXT NOT NULL, title TEXT, publisher TEXT, url TEXT,
    published TEXT);
CREATE INDEX IF NOT EXISTS alternates_by_article ON alternates (article_id);
CREATE INDEX IF NOT EXISTS alternates_by_path ON alternates (source_path);
"""

# Columns added after the first release: (table, name, type). Old catalogs get them on open.
ADDED_COLUMNS = (("articles", "updated", "TEXT"), ("articles", "story_url", "TEXT"), ("articles", "story_guid", "TEXT"),
                 ("articles", "superseded_by", "TEXT"), ("files", "origin", "TEXT"), ("articles", "left_at", "TEXT"),
                 ("alternates", "repeat", "INTEGER"))
OWN_FILES = "(origin IS NULL OR origin = (SELECT value FROM meta WHERE key = 'origin'))"
"""Files this home ingested (a shared store's cache also lists other homes' files, which only they can read)."""
LATER_INDEXES = """
CREATE INDEX IF NOT EXISTS articles_by_story_url ON articles (story_url);
CREATE INDEX IF NOT EXISTS articles_by_story_guid ON articles (story_guid);
CREATE INDEX IF NOT EXISTS articles_by_successor ON articles (superseded_by);
"""
CURRENT = "a.superseded_by IS NULL"  # an article no newer version has replaced
ALTERNATE = "COALESCE(l.repeat, 0) = 0"
"""An alternate source (``l``) that is another outlet's copy, not the same item seen again (a repeat)."""


@dataclass
class FileRecord:
    """Everything one input file contributes, written in one transaction."""

    path: str
    digest: str
    articles: list[Article] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    signatures: dict[str, np.ndarray | None] = field(default_factory=dict)
    content_hashes: dict[str, str] = field(default_factory=dict)
    stories: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    alternates: list[tuple[str, SourceRef]] = field(default_factory=list)
    """(stored article id, this file's copy): another outlet's copy of a stored story."""
    repeats: list[tuple[str, SourceRef]] = field(default_factory=list)
    """(stored article id, this file's copy): the same item seen again (same outlet, same text): one
    source, never counted as an alternate, but kept so the item survives its first file's removal."""
    kept: set[str] = field(default_factory=set)
    """Articles this file held before and holds no more (rolled off a feed, an edited file): they stay
    in the store, marked as left, until ``--prune`` or the retention setting removes them."""
    history: dict[str, str] = field(default_factory=dict)
    """Articles of this file stored as earlier versions: id -> the id of the version that replaced it."""
    supersedes: list[tuple[str, str]] = field(default_factory=list)
    """(earlier id, newer id): stored articles that articles of this file replace."""
    skipped: list[dict] = field(default_factory=list)
    """What of this file was not ingested: ``Skipped`` records as dicts, kept in the manifest."""

    @property
    def duplicates(self) -> int:
        return len(self.alternates)


REREAD = "reread:"
"""Prefix of a file's digest while it must be read again (its earlier digest follows, if any)."""
TO_REREAD = f"(digest IS NULL OR digest LIKE '{REREAD}%')"
MARK_REREAD = f"digest = CASE WHEN {TO_REREAD} THEN digest ELSE '{REREAD}' || digest END"


@dataclass
class FileState:
    digest: str | None
    skipped: list[dict]

    @property
    def read_digest(self) -> str | None:
        """The digest of the content last read, also while the file is marked to be read again."""
        return (self.digest.removeprefix(REREAD) or None) if self.digest else None


ARTICLE_COLUMNS = "a.id, a.key, a.title, a.publisher, a.url, a.published, a.text, a.source_path, a.source_id, a.updated"
ARTICLE_INSERT_COLUMNS = (
    "id, key, title, publisher, url, published, published_ts, source_path, source_id, text, content_hash, "
    "minhash, updated, story_url, story_guid, superseded_by"
)


@dataclass(frozen=True)
class StoryEntry:
    """A current article's story keys (see ``briefing.ingest.dedupe.story_keys``) and version time."""

    article_id: str
    url_key: str | None
    guid_key: str | None
    version_time: datetime | None
    publisher: str | None
    title: str


def article_from_row(row: tuple) -> Article:
    return Article(
        id=row[0], key=row[1], title=row[2], publisher=row[3], url=row[4], published=parse_iso(row[5]),
        text=row[6], source_path=row[7], source_id=row[8], updated=parse_iso(row[9]),
    )


def earlier_versions(article_id: str, history: dict[str, list[ArticleVersion]]) -> list[ArticleVersion]:
    """The versions ``article_id`` replaced, directly or through another, oldest first."""
    found: list[ArticleVersion] = []
    waiting, seen = [article_id], {article_id}
    while waiting:
        for version in history.get(waiting.pop(), []):
            if version.id not in seen:
                seen.add(version.id)
                found.append(version)
                waiting.append(version.id)
    return sorted(found, key=lambda v: version_time(v.published, v.updated) or datetime.min.replace(tzinfo=UTC))


def signature_blob(signature: np.ndarray | None) -> bytes:
    return signature.tobytes() if signature is not None else b""


def article_filter(since: datetime | None, until: datetime | None, publishers: list[str] | None) -> tuple[str, list]:
    clauses: list[str] = []
    params: list[float | str] = []
    if since is not None:
        clauses.append("a.published_ts >= ?")
        params.append(since.timestamp())
    if until is not None:
        clauses.append("a.published_ts <= ?")
        params.append(until.timestamp())
    if publishers:
        clauses.append(f"LOWER(a.publisher) IN ({','.join('LOWER(?)' for _ in publishers)})")
        params.extend(publishers)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


class CatalogCore:
    """What the catalog's halves (reads, writes, mirror) share: the SQLite connection and the meta table."""

    db: sqlite3.Connection

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def origin(self) -> str:
        """This home's id, recorded with every file it ingests."""
        return self.get_meta("origin") or ""

    @property
    def revision(self) -> int:
        """Bumped by every write: the keyword index records the revision it was built from."""
        return int(self.get_meta("revision") or 0)


class Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def timestamp(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
