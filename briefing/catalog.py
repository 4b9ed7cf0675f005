"""The store's catalog: a SQLite file beside the vectors holding articles, chunks and the file manifest.

Chroma holds the vectors; the catalog is the source of truth for what was ingested. It makes
re-ingest idempotent (file content hashes), lets `sources` and `stats` answer without opening
Chroma, and feeds the keyword index. Writes to Chroma happen before the catalog commits a file, and
deletions after, so a crash leaves at worst orphan vectors, which ``Store.reconcile`` removes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from briefing.models import Article, ArticleInfo, ArticleVersion, Chunk, SourceRef, version_time

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

# Columns added after the first release: (name, type). Old catalogs get them on open.
ADDED_ARTICLE_COLUMNS = (("updated", "TEXT"), ("story_url", "TEXT"), ("story_guid", "TEXT"), ("superseded_by", "TEXT"))
LATER_INDEXES = """
CREATE INDEX IF NOT EXISTS articles_by_story_url ON articles (story_url);
CREATE INDEX IF NOT EXISTS articles_by_story_guid ON articles (story_guid);
CREATE INDEX IF NOT EXISTS articles_by_successor ON articles (superseded_by);
"""
CURRENT = "a.superseded_by IS NULL"  # an article no newer version has replaced


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
    history: dict[str, str] = field(default_factory=dict)
    """Articles of this file stored as earlier versions: id -> the id of the version that replaced it."""
    supersedes: list[tuple[str, str]] = field(default_factory=list)
    """(earlier id, newer id): stored articles that articles of this file replace."""
    skipped: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return len(self.alternates)


@dataclass
class FileState:
    digest: str | None
    skipped: list[dict]


class Catalog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._add_later_columns()

    def _add_later_columns(self) -> None:
        have = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        for name, kind in ADDED_ARTICLE_COLUMNS:
            if name not in have:
                self.db.execute(f"ALTER TABLE articles ADD COLUMN {name} {kind}")
        self.db.executescript(LATER_INDEXES)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def revision(self) -> int:
        """Bumped by every write: the keyword index records the revision it was built from."""
        return int(self.get_meta("revision") or 0)

    # --- manifest -----------------------------------------------------------------------------

    def file_state(self, path: str) -> FileState | None:
        row = self.db.execute("SELECT digest, skipped FROM files WHERE path = ?", (path,)).fetchone()
        return FileState(row[0], json.loads(row[1])) if row else None

    def file_paths(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT path FROM files ORDER BY path")]

    def article_ids_of_file(self, path: str) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM articles WHERE source_path = ?", (path,))}

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
            yield StoryEntry(row[0], row[1], row[2], version_time(_parse_iso(row[3]), _parse_iso(row[4])), row[5], row[6])

    def reset_digests(self) -> int:
        """Make every file count as changed, so the next ingest reads it again; returns how many."""
        return self.db.execute("UPDATE files SET digest = NULL").rowcount

    def files_to_read(self) -> list[str]:
        """Files the manifest knows but must read again: their stories lost the article they were
        folded into or replaced by, or the store was upgraded."""
        return [row[0] for row in self.db.execute("SELECT path FROM files WHERE digest IS NULL ORDER BY path")]

    def keys(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, id FROM articles"))

    def indexed_chunks(self, article_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Chunk id -> (article title, chunk text), the two parts of what was embedded for it."""
        out: dict[str, tuple[str, str]] = {}
        for batch in _batches(list(article_ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(
                f"SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id "
                f"WHERE c.article_id IN ({marks})", batch,
            )  # fmt: skip
            out.update((cid, (title, text)) for cid, title, text in rows)
        return out

    def file_totals(self, paths: Iterable[str]) -> tuple[int, int, int]:
        """Current articles, their chunks, and alternate sources that these files hold."""
        totals = [0, 0, 0]
        for batch in _batches(sorted(paths), 500):
            marks = ",".join("?" * len(batch))
            row = self.db.execute(
                f"SELECT (SELECT COUNT(*) FROM articles a WHERE source_path IN ({marks}) AND {CURRENT}), "
                f"(SELECT COUNT(*) FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.source_path IN ({marks})), "
                f"(SELECT COUNT(*) FROM alternates WHERE source_path IN ({marks}))", batch * 3,
            ).fetchone()  # fmt: skip
            totals = [t + r for t, r in zip(totals, row)]
        return totals[0], totals[1], totals[2]

    # --- writes -------------------------------------------------------------------------------

    def write_files(self, records: list[FileRecord]) -> list[str]:
        """Replace what each file contributed with its new content. Returns chunk ids now gone."""
        with self._transaction():
            gone: set[str] = set()
            for record in records:
                gone |= self._forget_file(record.path)
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

    def _forget_file(self, path: str) -> set[str]:
        owned = sorted(self.article_ids_of_file(path))
        gone: set[str] = set()
        for batch in _batches(owned, 500):
            marks = ",".join("?" * len(batch))
            gone |= {r[0] for r in self.db.execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", batch)}
            # Files that had a story folded into, or replaced by, a removed article must be read
            # again to keep it.
            self.db.execute(
                f"UPDATE files SET digest = NULL WHERE path IN (SELECT source_path FROM alternates "
                f"WHERE article_id IN ({marks}) AND source_path != ? UNION SELECT source_path FROM articles "
                f"WHERE superseded_by IN ({marks}) AND source_path != ?)",
                [*batch, path, *batch, path],
            )
            for table, column in (("chunks", "article_id"), ("alternates", "article_id"), ("articles", "id")):
                self.db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", batch)
        self.db.execute("DELETE FROM alternates WHERE source_path = ?", (path,))
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
            f"INSERT INTO articles ({_ARTICLE_INSERT_COLUMNS}) VALUES ({','.join('?' * 16)})",
            [
                (
                    a.id, a.key, a.title, a.publisher, a.url, _iso(a.published), _ts(a.published),
                    a.source_path, a.source_id, a.text, record.content_hashes[a.id],
                    _signature_blob(record.signatures[a.id]), _iso(a.updated), *record.stories.get(a.id, (None, None)),
                    record.history.get(a.id),
                )
                for a in record.articles
            ],
        )  # fmt: skip
        self.db.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?,?,?,?,?,?)",
            [(c.id, c.article_id, c.position, c.start, c.end, c.text) for c in record.chunks],
        )
        self.db.executemany(
            "INSERT INTO alternates VALUES (?,?,?,?,?,?)",
            [(aid, s.source_path, s.title, s.publisher, s.url, _iso(s.published)) for aid, s in record.alternates],
        )
        self.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?)",
            (
                record.path, record.digest, len(record.articles), record.duplicates, len(record.chunks),
                json.dumps(record.skipped), datetime.now(timezone.utc).isoformat(),
            ),
        )  # fmt: skip

    def _existing_chunk_ids(self, ids: set[str]) -> set[str]:
        found: set[str] = set()
        for batch in _batches(sorted(ids), 500):
            marks = ",".join("?" * len(batch))
            found |= {r[0] for r in self.db.execute(f"SELECT id FROM chunks WHERE id IN ({marks})", batch)}
        return found

    def _bump_revision(self) -> None:
        self.set_meta("revision", str(self.revision + 1))

    def _transaction(self):
        return _Transaction(self.db)

    # --- reads --------------------------------------------------------------------------------

    def all_chunks(self) -> list[tuple[str, str, str]]:
        """(chunk id, article title, chunk text) of every chunk, in id order."""
        return list(
            self.db.execute("SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.id")
        )

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM chunks")}

    def chunks_with_articles(self, ids: Iterable[str]) -> list[tuple[Chunk, Article]]:
        out = []
        for batch in _batches(sorted(ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(
                f'SELECT c.id, c.article_id, c.text, c.start, c."end", c.position, {_ARTICLE_COLUMNS} '
                f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
                batch,
            )
            for row in rows:
                chunk = Chunk(id=row[0], article_id=row[1], text=row[2], start=row[3], end=row[4], position=row[5])
                out.append((chunk, _article(row[6:])))
        return out

    def chunk_ids_where(
        self, since: datetime | None = None, until: datetime | None = None, publishers: list[str] | None = None,
        keywords: list[str] | None = None,
    ) -> set[str]:  # fmt: skip
        """Ids of chunks whose article falls in the window, is by one of the publishers (if any) and
        whose title or text contains one of the keywords (if any), case-insensitively."""
        where, params = _article_filter(since, until, publishers)
        if keywords:
            match = " OR ".join(["LOWER(a.title) LIKE ? OR LOWER(c.text) LIKE ?"] * len(keywords))
            where = f"{where} {'AND' if where else 'WHERE'} ({match})"
            params += [f"%{k.lower()}%" for k in keywords for _ in (0, 1)]
        rows = self.db.execute(f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id {where}", params)
        return {row[0] for row in rows}

    def article_ids_for(self, ref: str) -> set[str]:
        """Articles a case file names: by file name (for one-article files), by the input's own id,
        or through an alternate source with that file name."""
        suffix = "%/" + ref
        rows = self.db.execute(
            "SELECT id FROM articles WHERE source_id = ? OR source_path LIKE ? OR source_path = ? "
            "UNION SELECT article_id FROM alternates WHERE source_path LIKE ? OR source_path = ?",
            (ref, suffix, ref, suffix, ref),
        )
        return {row[0] for row in rows}

    def undated_count(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM articles a WHERE published_ts IS NULL AND {CURRENT}").fetchone()[0]

    def list_articles(
        self, since: datetime | None = None, until: datetime | None = None, publisher: str | None = None
    ) -> list[ArticleInfo]:
        """Current articles (no newer version replaced them), with their earlier versions."""
        where, params = _article_filter(since, until, [publisher] if publisher else None)
        where = f"{where} AND {CURRENT}" if where else f"WHERE {CURRENT}"
        rows = self.db.execute(
            "SELECT a.id, a.key, a.title, a.publisher, a.url, a.published, a.updated, a.source_path, "
            "(SELECT COUNT(*) FROM chunks c WHERE c.article_id = a.id), "
            "(SELECT COUNT(*) FROM alternates l WHERE l.article_id = a.id) "
            f"FROM articles a {where} ORDER BY a.published_ts IS NULL, a.published_ts, a.title",
            params,
        )
        history = self._history()
        return [
            ArticleInfo(
                id=r[0], key=r[1], title=r[2], publisher=r[3], url=r[4], published=_parse_iso(r[5]),
                updated=_parse_iso(r[6]), source_path=r[7], chunks=r[8], alternates=r[9],
                earlier_versions=_earlier(r[0], history),
            )
            for r in rows
        ]  # fmt: skip

    def _history(self) -> dict[str, list[ArticleVersion]]:
        """Replaced versions by the id of the version that replaced each."""
        out: dict[str, list[ArticleVersion]] = {}
        rows = self.db.execute(
            "SELECT id, title, published, updated, source_path, superseded_by FROM articles WHERE superseded_by IS NOT NULL"
        )
        for r in rows:
            version = ArticleVersion(id=r[0], title=r[1], published=_parse_iso(r[2]), updated=_parse_iso(r[3]), source_path=r[4])
            out.setdefault(r[5], []).append(version)
        return out

    def counts(self) -> dict[str, int]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "articles": one(f"SELECT COUNT(*) FROM articles a WHERE {CURRENT}"),
            "earlier_versions": one(f"SELECT COUNT(*) FROM articles a WHERE NOT {CURRENT}"),
            "chunks": one("SELECT COUNT(*) FROM chunks"),
            "alternates": one("SELECT COUNT(*) FROM alternates"),
            "publishers": one(f"SELECT COUNT(DISTINCT publisher) FROM articles a WHERE publisher IS NOT NULL AND {CURRENT}"),
            "undated": one(f"SELECT COUNT(*) FROM articles a WHERE published_ts IS NULL AND {CURRENT}"),
            "files": one("SELECT COUNT(*) FROM files"),
        }

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        low, high = self.db.execute(f"SELECT MIN(published_ts), MAX(published_ts) FROM articles a WHERE {CURRENT}").fetchone()
        to_dt = lambda ts: datetime.fromtimestamp(ts, tz=timezone.utc) if ts is not None else None  # noqa: E731
        return to_dt(low), to_dt(high)


_ARTICLE_COLUMNS = "a.id, a.key, a.title, a.publisher, a.url, a.published, a.text, a.source_path, a.source_id, a.updated"
_ARTICLE_INSERT_COLUMNS = (
    "id, key, title, publisher, url, published, published_ts, source_path, source_id, text, content_hash, "
    "minhash, updated, story_url, story_guid, superseded_by"
)


@dataclass(frozen=True)
class StoryEntry:
    """A current article's story keys (see ``briefing.dedupe.story_keys``) and version time."""

    article_id: str
    url_key: str | None
    guid_key: str | None
    version_time: datetime | None
    publisher: str | None
    title: str


def _article(row: tuple) -> Article:
    return Article(
        id=row[0], key=row[1], title=row[2], publisher=row[3], url=row[4], published=_parse_iso(row[5]),
        text=row[6], source_path=row[7], source_id=row[8], updated=_parse_iso(row[9]),
    )  # fmt: skip


def _earlier(article_id: str, history: dict[str, list[ArticleVersion]]) -> list[ArticleVersion]:
    """The versions ``article_id`` replaced, directly or through another, oldest first."""
    found: list[ArticleVersion] = []
    waiting, seen = [article_id], {article_id}
    while waiting:
        for version in history.get(waiting.pop(), []):
            if version.id not in seen:
                seen.add(version.id)
                found.append(version)
                waiting.append(version.id)
    return sorted(found, key=lambda v: version_time(v.published, v.updated) or datetime.min.replace(tzinfo=timezone.utc))


def _signature_blob(signature: np.ndarray | None) -> bytes:
    return signature.tobytes() if signature is not None else b""


def _article_filter(since: datetime | None, until: datetime | None, publishers: list[str] | None) -> tuple[str, list]:
    clauses, params = [], []
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


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def _parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


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
