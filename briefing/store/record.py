"""The store of record in Chroma: besides the chunk vectors, every article (full cleaned text and
metadata, alternates, versions), the file manifest and a change log, so that any machine pointed
at the same Chroma server can answer, and its local catalog is only a cache.

Three collections sit beside the chunk collection ``<name>``: ``<name>.articles`` (one record per
article: its text as the document, every catalog column as metadata), ``<name>.files`` (one per
ingested file) and ``<name>.log`` (one record per committed write). The log only grows, so its
id and count are the store's revision: one cheap ``count()`` tells a reader whether its cache is
current, and two writers appending at once cannot lose each other's entry. A cache is tagged with
the revision it reflects (catalog meta ``server_revision``) and rebuilt from the server when the
revision moved; a log that is missing or shorter than the tag (a wiped server, an older backup) is
an error for a reader; a new log id (a wiped store restored by an ingest) means rebuild.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import NamedTuple

from briefing.errors import StoreError
from briefing.settings import Settings
from briefing.store.catalog import Catalog
from briefing.store.catalog_mirror import ARTICLE_FIELDS, FILE_FIELDS
from briefing.store.chroma import chroma_client, failures, open_collection

log = logging.getLogger(__name__)

PAGE = 2000  # records per request when copying a collection
PLACEHOLDER = [1.0]  # Chroma stores a vector with every record; articles, files and log entries need none
TAG = "server_revision"
PUBLISH_PENDING = "publish_pending"  # catalog meta: "1" from a local write until the server has it

SyncProgress = Callable[[str, int, int], None]
"""Told (what, done, total) while a cache is built from the server."""


class Revision(NamedTuple):
    """A store's state on the server: the change log's id and its number of entries."""

    epoch: str
    writes: int


def _tag(catalog: Catalog) -> Revision | None:
    """The revision this cache reflects (catalog meta ``server_revision``, as ``epoch:count``)."""
    tag = catalog.get_meta(TAG)
    if tag is None:
        return None
    epoch, _, count = tag.rpartition(":")
    return Revision(epoch, int(count))


def _set_tag(catalog: Catalog, revision: Revision) -> None:
    catalog.set_meta(TAG, f"{revision.epoch}:{revision.writes}")


def _pages(items: list[str]) -> list[list[str]]:
    return [items[i : i + PAGE] for i in range(0, len(items), PAGE)]


def _text_or_none(value):
    return None if value in ("", None) else value


class ServerRecord:
    """The articles, manifest and change log of one store in Chroma (embedded or server)."""

    def __init__(self, settings: Settings, location: str):
        self.settings = settings
        self.location = location
        self.name = settings.collection
        self._client = None
        self._collections: dict[str, object] = {}

    @property
    def client(self):
        if self._client is None:
            self._client = chroma_client(self.settings)
        return self._client

    def _collection(self, suffix: str, create: bool = False):
        if suffix not in self._collections:
            found = open_collection(self.client, f"{self.name}.{suffix}" if suffix else self.name, self.location, create)
            if found is None:
                return None
            self._collections[suffix] = found
        return self._collections[suffix]

    # --- revision -----------------------------------------------------------------------------

    def revision(self) -> Revision | None:
        """The log's id and how many writes it holds; None when the store has no log (empty, or
        made by an earlier version of briefing). A recreated log (a wiped server restored by an
        ingest) has a new id."""
        entries = self._collection("log")
        if entries is None:
            return None
        with failures(self.location, "reading the change log"):
            return Revision(str(entries.id), entries.count())

    def holds_vectors(self) -> bool:
        chunks = self._collection("")
        if chunks is None:
            return False
        with failures(self.location, "counting vectors"):
            return chunks.count() > 0

    # --- writes -------------------------------------------------------------------------------

    def publish(self, catalog: Catalog, article_ids: set[str], gone_articles: set[str], paths: set[str],
                gone_paths: set[str]) -> None:
        """Copy these articles and files from the catalog to the server, delete the gone ones,
        then append one log entry. The cache stays tagged as current only if no other writer
        appended meanwhile; otherwise the next command rebuilds it."""
        articles, files = self._collection("articles", create=True), self._collection("files", create=True)
        article_rows = catalog.article_rows(article_ids)
        # Rows of old catalogs have no origin: they are this home's.
        file_rows = [{**row, "origin": row["origin"] or catalog.origin} for row in catalog.file_rows(paths)]
        with failures(self.location, "writing articles"):
            for i in range(0, len(article_rows), PAGE):
                part = article_rows[i : i + PAGE]
                articles.upsert(ids=[r["id"] for r in part], embeddings=[PLACEHOLDER] * len(part),
                                documents=[r["text"] for r in part], metadatas=[_article_metadata(r) for r in part])
            for gone in _pages(sorted(gone_articles)):
                articles.delete(ids=gone)
            for i in range(0, len(file_rows), PAGE):
                part = file_rows[i : i + PAGE]
                files.upsert(ids=[r["path"] for r in part], embeddings=[PLACEHOLDER] * len(part),
                             metadatas=[_file_metadata(r) for r in part])
            for gone in _pages(sorted(gone_paths)):
                files.delete(ids=gone)
        self._append_log(catalog, len(article_rows), len(file_rows))

    def _append_log(self, catalog: Catalog, articles: int, files: int) -> None:
        entries = self._collection("log", create=True)
        seen = _tag(catalog)
        at = datetime.now(UTC).isoformat()
        with failures(self.location, "appending to the change log"):
            entries.add(ids=[uuid.uuid4().hex], embeddings=[PLACEHOLDER], metadatas=[
                {"at": at, "host": socket.gethostname(), "origin": catalog.origin, "articles": articles, "files": files}])
            now = Revision(str(entries.id), entries.count())
        # Another writer appended too: this cache lacks its write, so stay tagged behind (the next
        # command rebuilds), but tagged: what this home holds is on the server now.
        base = seen.writes if seen is not None and seen.epoch == now.epoch else 0
        _set_tag(catalog, Revision(now.epoch, now.writes if now.writes == base + 1 else base))

    def upload_all(self, catalog: Catalog) -> tuple[int, int]:
        """Copy a whole catalog to the server (one made before the server held articles, or the
        copy of a machine restoring a wiped server); returns (articles, files)."""
        ids, paths = set(catalog.all_article_ids()), set(catalog.all_file_paths())
        current = self.revision()
        if current is not None:
            _set_tag(catalog, current)
        self.publish(catalog, ids, set(), paths, set())
        return len(ids), len(paths)

    # --- the cache ----------------------------------------------------------------------------

    def sync(self, catalog: Catalog, progress: SyncProgress | None = None, writer: bool = False,
             turn: Callable[[], AbstractContextManager] | None = None) -> None:
        """Bring the catalog up to the server's revision, rebuilding it from the server when
        another machine wrote since. A reader gets StoreError when the server holds less than this
        cache saw (wiped, or restored from an older backup); a ``writer`` (ingest) goes on, and
        ``share`` then uploads this home's copy. ``turn`` (a reader's) is held while the cache is
        rebuilt, so that a rebuild never lands in the middle of this home's own ingest."""
        remote, seen = self.revision(), _tag(catalog)
        holds = bool(catalog.all_file_paths())
        if catalog.get_meta(PUBLISH_PENDING) == "1" and not writer and remote != seen:
            raise StoreError(f"an ingest on this machine stopped before its articles reached {self.location}; "
                             f"run `briefing ingest` again to finish it")
        if remote is None:  # nothing shared: empty, wiped, or made by an earlier version
            if seen is not None and not writer:
                raise self._lost(remote, seen)
            if seen is None and not holds and not writer:
                self._check_not_legacy(catalog)
            return  # this home's catalog is the record until its ingest shares it
        if seen is None and holds:  # filled before the server held articles
            if not writer:
                raise StoreError(f"this home holds articles that collection '{self.name}' at {self.location} "
                                 f"lacks; run `briefing ingest` here to upload them")
            return
        if seen is not None and remote.epoch == seen.epoch and remote.writes < seen.writes:
            if not writer:
                raise self._lost(remote, seen)
            return
        if seen is not None and remote.epoch != seen.epoch and holds:
            if writer:
                return  # a recreated store: ``share`` adds this home's copy before taking the server's
            if self._lacks_own_files(catalog):
                raise StoreError(f"collection '{self.name}' at {self.location} was recreated without this "
                                 f"machine's files; run `briefing ingest` here to add them back")
        if remote != seen:
            with turn() if turn else nullcontext():
                if _tag(catalog) != remote:  # the ingest this waited for may have brought it up to date
                    self.pull(catalog, remote, progress)

    def _lacks_own_files(self, catalog: Catalog) -> bool:
        own = catalog.file_paths()
        files = self._collection("files")
        if not own:
            return False
        if files is None:
            return True
        with failures(self.location, "reading the file manifest"):
            return any(len(files.get(ids=part, include=[])["ids"]) < len(part) for part in _pages(own))

    def _lost(self, remote: Revision | None, seen: Revision) -> StoreError:
        return StoreError(f"the Chroma server at {self.location} holds {remote.writes if remote else 0} writes to "
                          f"collection '{self.name}' but this machine saw {seen.writes}: it was wiped or restored from "
                          f"an older backup; run `briefing ingest` on a machine that holds the articles to restore it")

    def share(self, catalog: Catalog, progress: SyncProgress | None = None) -> str | None:
        """Upload this home's catalog when the server lacks it (a store made before the server held
        articles, a wiped, recreated or older server), then take in what other machines wrote.
        Returns what was done, for the ingest report, or None when there was nothing to do."""
        remote, seen = self.revision(), _tag(catalog)
        if not catalog.all_file_paths():
            return None
        if catalog.get_meta(PUBLISH_PENDING) == "1":
            why = "an earlier ingest here stopped before it reached the server"
        elif remote is None:
            why = "made by an earlier version of briefing" if seen is None else "the server had lost the store"
        elif seen is None:
            why = "made before the server held articles"
        elif remote.epoch != seen.epoch:
            why = "the server's store was recreated since this machine last read it"
        elif remote.writes < seen.writes:
            why = f"the server held {remote.writes} of the {seen.writes} writes this machine saw"
        else:
            return None
        articles, files = self.upload_all(catalog)
        catalog.set_meta(PUBLISH_PENDING, "0")
        current = self.revision()
        if remote is not None and remote.writes and current is not None:
            self.pull(catalog, current, progress)
        return f"uploaded this home's {articles} articles and {files} files to Chroma, which now holds all a reader needs ({why})"

    def _check_not_legacy(self, catalog: Catalog) -> None:
        """StoreError when the server holds vectors of a store whose articles only another home has."""
        own_crash = catalog.get_meta("vectors_pending") == "1"  # vectors of this home's interrupted first ingest
        if not own_crash and self.holds_vectors():
            raise StoreError(f"collection '{self.name}' at {self.location} was filled by an earlier version of "
                             f"briefing and holds only vectors; run `briefing ingest` once on the machine that "
                             f"filled it to upload its articles")

    def pull(self, catalog: Catalog, revision: Revision, progress: SyncProgress | None = None) -> None:
        """Replace the catalog with the server's articles, chunks and files, tagged ``revision``."""
        articles = [_article_row(record_id, text, meta) for record_id, text, meta in self._read("articles", progress)]
        known = {a["id"] for a in articles}
        chunks = [_chunk_row(i, text, meta) for i, text, meta in self._read("", progress) if meta.get("article_id") in known]
        files = [_file_row(record_id, meta) for record_id, _, meta in self._read("files", progress)]
        catalog.replace_all(articles, chunks, files)
        _set_tag(catalog, revision)
        log.info("cache of %s rebuilt: %d articles, %d chunks, %d files", self.location, len(articles), len(chunks), len(files))

    def _read(self, suffix: str, progress: SyncProgress | None):
        collection = self._collection(suffix)
        if collection is None:
            return
        what = suffix or "chunks"
        with failures(self.location, f"reading {what}"):
            total = collection.count()
        for offset in range(0, total, PAGE):
            with failures(self.location, f"reading {what}"):
                got = collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
            yield from zip(got["ids"], got["documents"], got["metadatas"])
            if progress:
                progress(what, min(offset + PAGE, total), total)


# --- encoding: Chroma metadata holds no None, no bytes, no lists ---------------------------------


def _article_metadata(row: dict) -> dict:
    meta = {f: ("" if row[f] is None else row[f]) for f in ARTICLE_FIELDS if f not in ("id", "text", "minhash", "published_ts")}
    meta["published_ts"] = -1.0 if row["published_ts"] is None else float(row["published_ts"])
    meta["minhash"] = base64.b64encode(row["minhash"] or b"").decode("ascii")
    meta["alternates"] = json.dumps(row["alternates"])
    return meta


def _article_row(record_id: str, text: str, meta: dict) -> dict:
    row = {f: _text_or_none(meta.get(f)) for f in ARTICLE_FIELDS if f not in ("id", "text", "minhash", "published_ts")}
    row["title"], row["content_hash"] = meta.get("title", ""), meta.get("content_hash", "")
    row["published_ts"] = None if meta.get("published_ts", -1) < 0 else meta["published_ts"]
    row["minhash"] = base64.b64decode(meta.get("minhash", ""))
    row["alternates"] = json.loads(meta.get("alternates") or "[]")
    return {**row, "id": record_id, "text": text}


def _chunk_row(record_id: str, text: str, meta: dict) -> dict:
    return {"id": record_id, "article_id": meta["article_id"], "position": meta["position"], "start": meta["start"],
            "end": meta["end"], "text": text}


def _file_metadata(row: dict) -> dict:
    return {f: ("" if row[f] is None else row[f]) for f in FILE_FIELDS if f != "path"}


def _file_row(record_id: str, meta: dict) -> dict:
    row = {f: meta.get(f) for f in FILE_FIELDS if f != "path"}
    row["digest"], row["origin"] = _text_or_none(row["digest"]), _text_or_none(row["origin"])
    return {**row, "path": record_id}
