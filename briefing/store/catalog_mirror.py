"""The catalog as rows to copy to and from the server: what ``store.record`` publishes after each
write and pulls into an empty or stale cache."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from briefing.store.catalog_rows import TO_REREAD, CatalogCore, Transaction, batches

log = logging.getLogger(__name__)

ARTICLE_FIELDS = ("id", "key", "title", "publisher", "url", "published", "published_ts", "source_path", "source_id",
                  "text", "content_hash", "minhash", "updated", "story_url", "story_guid", "superseded_by", "left_at")
FILE_FIELDS = ("path", "digest", "articles", "duplicates", "chunks", "skipped", "ingested_at", "origin")
CHUNK_FIELDS = ("id", "article_id", "position", "start", "end", "text")
ALTERNATE_FIELDS = ("source_path", "title", "publisher", "url", "published", "repeat")


class CatalogMirror(CatalogCore):
    """Whole rows of the catalog, for the server copy (a mixin over ``Catalog``'s ``db``)."""

    def _rows_in(self, sql: str, values: Iterable[str], repeat: int = 1) -> Iterator[tuple]:
        """Rows of ``sql`` for ``values``, 500 at a time; ``{marks}`` in ``sql`` takes their placeholders."""
        for batch in batches(sorted(set(values)), 500):
            yield from self.db.execute(sql.format(marks=",".join("?" * len(batch))), batch * repeat)

    def article_rows(self, ids: Iterable[str]) -> list[dict]:
        """Every column of these articles, with ``alternates`` as a list of field dicts."""
        rows = self._rows_in(f"SELECT {', '.join(ARTICLE_FIELDS)} FROM articles WHERE id IN ({{marks}})", ids)
        out = [dict(zip(ARTICLE_FIELDS, row)) for row in rows]
        alternates: dict[str, list[dict]] = {}
        sql = f"SELECT article_id, {', '.join(ALTERNATE_FIELDS)} FROM alternates WHERE article_id IN ({{marks}})"
        for row in self._rows_in(sql, [a["id"] for a in out]):
            alternates.setdefault(row[0], []).append(dict(zip(ALTERNATE_FIELDS, row[1:])))
        for article in out:
            article["alternates"] = alternates.get(article["id"], [])
        return out

    def file_rows(self, paths: Iterable[str]) -> list[dict]:
        rows = self._rows_in(f"SELECT {', '.join(FILE_FIELDS)} FROM files WHERE path IN ({{marks}})", paths)
        return [dict(zip(FILE_FIELDS, row)) for row in rows]

    def existing_article_ids(self, ids: Iterable[str]) -> set[str]:
        return {row[0] for row in self._rows_in("SELECT id FROM articles WHERE id IN ({marks})", ids)}

    def touched_by_files(self, paths: Iterable[str]) -> tuple[set[str], set[str]]:
        """What a write to these files can change besides their own rows: (articles they hold or
        are alternate sources of, files marked to be read again)."""
        sql = ("SELECT id FROM articles WHERE source_path IN ({marks}) "
               "UNION SELECT article_id FROM alternates WHERE source_path IN ({marks})")
        articles = {row[0] for row in self._rows_in(sql, paths, repeat=2)}
        files = {row[0] for row in self.db.execute(f"SELECT path FROM files WHERE {TO_REREAD}")}
        return articles, files

    def replaced_by(self, ids: Iterable[str]) -> set[str]:
        """Earlier versions that these articles replaced."""
        return {row[0] for row in self._rows_in("SELECT id FROM articles WHERE superseded_by IN ({marks})", ids)}

    def all_article_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT id FROM articles ORDER BY id")]

    def all_file_paths(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT path FROM files ORDER BY path")]

    def replace_all(self, articles: list[dict], chunks: list[dict], files: list[dict]) -> None:
        """Make the catalog hold exactly these rows (as ``article_rows``, ``CHUNK_FIELDS`` and
        ``file_rows`` give them), in one transaction that moves the revision."""
        with Transaction(self.db):
            for table in ("alternates", "chunks", "articles", "files"):
                self.db.execute(f"DELETE FROM {table}")
            self._insert_rows("articles", ARTICLE_FIELDS, _one_per_key(articles))
            self._insert_rows("chunks", CHUNK_FIELDS, chunks)
            self._insert_rows("files", FILE_FIELDS, files)
            alternates = [{"article_id": a["id"], **alt} for a in articles for alt in a.get("alternates", [])]
            self._insert_rows("alternates", ("article_id", *ALTERNATE_FIELDS), alternates)
            self.set_meta("revision", str(self.revision + 1))

    def _insert_rows(self, table: str, fields: tuple[str, ...], rows: list[dict]) -> None:
        columns = ", ".join(f'"{f}"' for f in fields)
        self.db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(fields))})",
                            [tuple(row.get(f) for f in fields) for row in rows])


def _one_per_key(articles: list[dict]) -> list[dict]:
    """Articles with distinct citation keys. Two machines ingesting at once can each give a new
    article the same 8-hex key (see README, "A team on one Chroma server"); the second is left out
    of this cache with a warning rather than failing every rebuild."""
    seen: dict[str, str] = {}
    kept = []
    for article in sorted(articles, key=lambda a: a["id"]):
        if article["key"] in seen:
            log.warning("articles %s and %s share the citation key %s; %s is left out until one is re-ingested",
                        seen[article["key"]], article["id"], article["key"], article["id"])
            continue
        seen[article["key"]] = article["id"]
        kept.append(article)
    return kept
