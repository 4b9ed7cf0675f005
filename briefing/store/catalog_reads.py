"""The catalog's reads: chunks for retrieval and the keyword index, articles for `sources`, counts
for `stats`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from briefing.models import Article, ArticleDetail, ArticleInfo, ArticleVersion, Chunk, SourceRef, StoredVersion
from briefing.store.catalog_rows import (
    ALTERNATE,
    ARTICLE_COLUMNS,
    CURRENT,
    CatalogCore,
    article_filter,
    article_from_row,
    batches,
    earlier_versions,
    parse_iso,
)

# The end of the chunk before: a chunk's overlap (``Chunk.overlap``) runs from its start up to there.
PREVIOUS_END = '(SELECT p."end" FROM chunks p WHERE p.article_id = c.article_id AND p.position = c.position - 1)'


class CatalogReads(CatalogCore):
    """The read half of ``Catalog`` (a mixin over its ``db`` connection)."""

    def all_chunks(self) -> list[tuple[str, str, str]]:
        """(chunk id, article title, chunk text) of every chunk, in id order."""
        return list(
            self.db.execute("SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.id")
        )

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM chunks")}

    def chunks_with_articles(self, ids: Iterable[str]) -> list[tuple[Chunk, Article]]:
        out = []
        for batch in batches(sorted(ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(
                f'SELECT c.id, c.article_id, c.text, c.start, c."end", c.position, {PREVIOUS_END}, {ARTICLE_COLUMNS} '
                f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
                batch,
            )
            for row in rows:
                overlap = max(0, (row[6] or 0) - row[3])
                chunk = Chunk(id=row[0], article_id=row[1], text=row[2], start=row[3], end=row[4], position=row[5],
                              overlap=overlap)
                out.append((chunk, article_from_row(row[7:])))
        return out

    def chunk_ids_where(
        self, since: datetime | None = None, until: datetime | None = None, publishers: list[str] | None = None,
        keywords: list[str] | None = None,
    ) -> set[str]:
        """Ids of chunks whose article falls in the window, is by one of the publishers (if any) and
        whose title or text contains one of the keywords (if any), case-insensitively."""
        where, params = article_filter(since, until, publishers)
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

    def find_articles(self, ref: str) -> list[str]:
        """Ids of the stored articles ``ref`` names: an id, a citation key, a chunk key
        (``<key>-<n>``), or the start of an id (every match, so a caller can say it is ambiguous)."""
        ref = ref.strip()
        chunk = re.fullmatch(r"([0-9a-f]{8,16})-\d+", ref)
        key = chunk.group(1) if chunk else ref
        rows = self.db.execute("SELECT id FROM articles WHERE id = ? OR key = ?", (key, key)).fetchall()
        if not rows and re.fullmatch(r"[0-9a-f]{4,16}", key):
            rows = self.db.execute("SELECT id FROM articles WHERE id LIKE ? ORDER BY id", (f"{key}%",)).fetchall()
        return [row[0] for row in rows]

    def article_detail(self, article_id: str) -> ArticleDetail:
        """The article with its text as stored, its copies and its earlier versions (with their text)."""
        row = self.db.execute(
            "SELECT a.id, a.key, a.title, a.publisher, a.url, a.published, a.updated, a.source_path, a.source_id, "
            "a.superseded_by, a.left_at, a.text, (SELECT COUNT(*) FROM chunks c WHERE c.article_id = a.id) "
            "FROM articles a WHERE a.id = ?", (article_id,)).fetchone()
        copies = self.db.execute(
            "SELECT title, publisher, url, published, source_path, COALESCE(repeat, 0) FROM alternates WHERE article_id = ?",
            (article_id,)).fetchall()
        refs = [(SourceRef(title=c[0], publisher=c[1], url=c[2], published=parse_iso(c[3]), source_path=c[4]), bool(c[5]))
                for c in copies]
        versions = earlier_versions(article_id, self._history())
        texts = dict(self.db.execute(
            f"SELECT id, text FROM articles WHERE id IN ({','.join('?' * len(versions))})", [v.id for v in versions]
        ).fetchall()) if versions else {}
        return ArticleDetail(
            id=row[0], key=row[1], title=row[2], publisher=row[3], url=row[4], published=parse_iso(row[5]),
            updated=parse_iso(row[6]), source_path=row[7], source_id=row[8], current=row[9] is None,
            superseded_by=row[9], left_file=parse_iso(row[10]), text=row[11], chunks=row[12],
            alternates=[ref for ref, repeat in refs if not repeat], repeats=[ref for ref, repeat in refs if repeat],
            earlier_versions=[StoredVersion(**v.model_dump(), text=texts.get(v.id, "")) for v in versions],
        )

    def undated_count(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM articles a WHERE published_ts IS NULL AND {CURRENT}").fetchone()[0]

    def list_articles(
        self, since: datetime | None = None, until: datetime | None = None, publisher: str | None = None
    ) -> list[ArticleInfo]:
        """Current articles (no newer version replaced them), with their earlier versions."""
        where, params = article_filter(since, until, [publisher] if publisher else None)
        where = f"{where} AND {CURRENT}" if where else f"WHERE {CURRENT}"
        rows = self.db.execute(
            "SELECT a.id, a.key, a.title, a.publisher, a.url, a.published, a.updated, a.source_path, "
            "(SELECT COUNT(*) FROM chunks c WHERE c.article_id = a.id), "
            f"(SELECT COUNT(*) FROM alternates l WHERE l.article_id = a.id AND {ALTERNATE}) "
            f"FROM articles a {where} ORDER BY a.published_ts IS NULL, a.published_ts, a.title",
            params,
        )
        history = self._history()
        return [
            ArticleInfo(
                id=r[0], key=r[1], title=r[2], publisher=r[3], url=r[4], published=parse_iso(r[5]),
                updated=parse_iso(r[6]), source_path=r[7], chunks=r[8], alternates=r[9],
                earlier_versions=earlier_versions(r[0], history),
            )
            for r in rows
        ]

    def _history(self) -> dict[str, list[ArticleVersion]]:
        """Replaced versions by the id of the version that replaced each."""
        out: dict[str, list[ArticleVersion]] = {}
        rows = self.db.execute(
            "SELECT id, title, published, updated, source_path, superseded_by FROM articles WHERE superseded_by IS NOT NULL"
        )
        for r in rows:
            version = ArticleVersion(id=r[0], title=r[1], published=parse_iso(r[2]), updated=parse_iso(r[3]), source_path=r[4])
            out.setdefault(r[5], []).append(version)
        return out

    def article_count(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM articles a WHERE {CURRENT}").fetchone()[0]

    def publishers(self) -> list[str]:
        """The distinct publisher names of current articles, sorted."""
        rows = self.db.execute(f"SELECT DISTINCT publisher FROM articles a WHERE publisher IS NOT NULL AND {CURRENT}")
        return sorted(row[0] for row in rows)

    def counts(self) -> dict[str, int]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "articles": one(f"SELECT COUNT(*) FROM articles a WHERE {CURRENT}"),
            "earlier_versions": one(f"SELECT COUNT(*) FROM articles a WHERE NOT {CURRENT}"),
            "chunks": one("SELECT COUNT(*) FROM chunks"),
            "alternates": one(f"SELECT COUNT(*) FROM alternates l WHERE {ALTERNATE}"),
            "publishers": one(f"SELECT COUNT(DISTINCT publisher) FROM articles a WHERE publisher IS NOT NULL AND {CURRENT}"),
            "undated": one(f"SELECT COUNT(*) FROM articles a WHERE published_ts IS NULL AND {CURRENT}"),
            "files": one("SELECT COUNT(*) FROM files"),
        }

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        low, high = self.db.execute(f"SELECT MIN(published_ts), MAX(published_ts) FROM articles a WHERE {CURRENT}").fetchone()
        to_dt = lambda ts: datetime.fromtimestamp(ts, tz=UTC) if ts is not None else None  # noqa: E731
        return to_dt(low), to_dt(high)
