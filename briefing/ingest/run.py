"""Ingest: files → cleaned, deduplicated articles → sentence-aware chunks → the store.

Files whose content hash matches the manifest are not read again. A changed file is read again:
what it still holds replaces what it held, what it no longer holds stays (marked as left) until
``--prune`` or retention removes it, and only chunks whose text changed are embedded again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import numpy as np

from briefing.errors import InputError
from briefing.ingest.dedupe import (
    RELATED_TEXT,
    DuplicateIndex,
    article_hash,
    minhash,
    similar_titles,
    story_keys,
    substantive,
)
from briefing.ingest.loaders import Loaded, check_inputs, discover, load_file
from briefing.locking import exclusive_lock
from briefing.models import Article, Chunk, IngestReport, Notice, RawArticle, Skipped, SourceRef
from briefing.settings import Settings
from briefing.store.store import FileRecord, Store, StoryEntry
from briefing.terms import unsplit_words
from briefing.text import chunk_spans, citable_text, clean, indexed_text, split_sentences


class StoreSource(Protocol):
    """What ingest needs of ``pipeline.Components``: the settings and a store of its own to write."""

    settings: Settings

    def open_store(self, writer: bool = False) -> Store: ...


ProgressCallback = Callable[[Path | None, IngestReport], None]
"""Called with the file just done (None after an embedding batch or at the start) and the report so far."""

INGEST_FORMAT = "4"
"""Version of the ingest rules a store was made under; a store of another version reads its files
again on the next ingest. 2: the headline is part of an article's identity, stories have versions,
encodings and page metadata are decided as in ``briefing.ingest.decoding`` and ``briefing.ingest.pages``.
3: an article's text begins with its headline (``text.citable_text``), so headlines can be cited;
Chinese, Japanese and Thai are keyword-indexed as character pairs. 4: a guid or link several
unrelated items of a file share is no story key, the same item seen again is a repeat, not an
alternate source, and stored text keeps the writer's compatibility forms (NFC, not NFKC)."""

EMBED_BATCH = 128  # chunks gathered, across files or within one, before they are embedded and upserted
COMMIT_FILES = 64  # files gathered before one catalog transaction


log = logging.getLogger(__name__)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_chunks(article: Article, settings: Settings) -> list[Chunk]:
    spans = chunk_spans(article.text, settings.chunk_words, settings.chunk_overlap_words)
    ends = [0] + [e for _, e in spans]
    return [
        Chunk(id=f"{article.key}-{i}", article_id=article.id, text=article.text[s:e], start=s, end=e, position=i,
              overlap=max(0, ends[i] - s) if i else 0)
        for i, (s, e) in enumerate(spans)
    ]


def ingest(
    paths: list[Path],
    components: StoreSource,
    *,
    prune: bool = False,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest files and folders into the configured store and report what happened. Raises
    OptionError for a URL and InputError for a path that does not exist, before anything is written.

    Files the store already knows are read again when they must be: a story of theirs lost the
    article it was folded into or replaced by (a file changed or was pruned), or the store was made
    under older ingest rules (``INGEST_FORMAT``).
    """
    started = time.perf_counter()
    check_inputs(paths)
    files, skipped = discover(paths)
    report = IngestReport(files=len(files), skipped=skipped)
    settings = components.settings
    with exclusive_lock(settings.store_dir / "ingest.lock", on_wait=log.warning), components.open_store(writer=True) as store:
        ingest_files(store, settings, files, report, prune=prune, on_progress=on_progress)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def ingest_files(store: Store, settings: Settings, files: list[Path], report: IngestReport, *, prune: bool = False,
                 on_progress: ProgressCallback | None = None) -> None:
    """Ingest ``files`` into an open ``store`` whose ingest lock the caller holds (``ingest`` and
    ``briefing.ingest.pull`` both come through here), adding to ``report``."""
    store.repair()
    if done := store.share_earlier():  # a store made before Chroma held articles, or a wiped server
        report.warnings.append(Notice(path=store.location, text=done))
    run = _IngestRun(store, settings, report, on_progress)
    run.progress(None)
    for path in files:
        run.add_file(path)
        run.progress(path)
    run.flush()
    if prune:
        run.prune()
    run.expire()
    run.read_again()
    run.count_totals()
    store.keyword_index()
    store.vector_index()


class _IngestRun:
    """State of one ingest: duplicate and story indexes, chunk keys in use, files waiting to be written."""

    def __init__(self, store: Store, settings: Settings, report: IngestReport, on_progress: ProgressCallback | None):
        self.store = store
        self.settings = settings
        self.report = report
        self.on_progress = on_progress
        self._upgrade_format()
        self.start_revision = store.revision
        self.duplicates = DuplicateIndex(settings.near_duplicate_threshold)
        for article_id, identity, signature, title in store.dedupe_entries():
            self.duplicates.add(article_id, identity, signature, title)
        self.current: dict[str, StoryEntry] = {}  # current articles, to match versions against
        self.stories: dict[str, str] = {}  # story key -> current article id
        for entry in store.story_entries():
            self._index(entry)
        self.keys = store.citation_keys()
        self.stored = set(self.keys.values())  # every article id in the store or added by this run
        self.cutoff = retention_cutoff(settings)
        self.earlier: set[str] = set()  # articles the file being read held before and holds no more
        self.shared: set[str] = set()  # story keys several items of the file being read share
        self.removed: set[str] = set()  # articles pruned or expired in this run
        self.expired: set[str] = set()
        self.added: set[str] = set()  # articles stored by this run
        self.outlets: dict[str, list[_Outlet]] = {}  # article id -> where its copies came from (``_add_copy``)
        self.shared_keys: set[tuple[str, str]] = set()  # (file, story key) already warned about
        self.seen: set[str] = set()  # files looked at in this run
        self.unreadable: set[str] = set()  # files of this run that could not be loaded
        self.pending: list[FileRecord] = []
        self.to_embed: list[tuple[Chunk, Article]] = []
        self.copies: dict[str, str] = {}  # chunk id -> id of a stored chunk with the same embedded text

    def _upgrade_format(self) -> None:
        store = self.store
        if store.ingest_format == INGEST_FORMAT:
            return
        if store.file_paths():
            count = store.read_all_again()
            self.report.warnings.append(Notice(path=store.location, text=(
                f"store made by an earlier version of briefing: its {count} files are read again under the "
                f"current ingest rules (ingest format {INGEST_FORMAT}); nothing is lost")))
        store.set_ingest_format(INGEST_FORMAT)

    def add_file(self, path: Path) -> None:
        key = str(path.resolve())
        self.seen.add(key)
        try:
            digest = file_digest(path)
        except OSError as exc:
            self.report.skipped.append(Skipped(path=str(path), reason=f"cannot read file ({exc.strerror or exc})"))
            return
        state = self.store.file_state(key)
        if state is not None and state.digest == digest:
            self._count_unchanged(state)
            return
        changed = state is not None and state.read_digest not in (None, digest)  # not only read again
        try:
            loaded = load_file(path, max_bytes=int(self.settings.max_file_mb * 2**20))
        except InputError as exc:
            self.report.skipped.append(Skipped(path=exc.location, reason=exc.reason))
            self.unreadable.add(key)
            return
        self._add_loaded(key, digest, loaded, changed)

    def prune(self) -> None:
        """Remove the files that are gone and what they contributed, and the articles no longer in
        the files that brought them (rolled off a feed, edited away)."""
        store = self.store
        gone = [path for path in store.file_paths() if not Path(path).exists()]
        if gone:
            ids = set().union(*(store.article_ids_of_file(path) for path in gone))
            self._forget(ids)
            self.removed |= ids
            self.store.remove_files(gone)
            self.report.removed_files = len(gone)
        self._remove(store.left_article_ids())

    def expire(self) -> None:
        """Remove what was published before the retention window (``BRIEFING_RETENTION_DAYS``)."""
        if self.cutoff is not None:
            ids = self.store.published_before(self.cutoff)
            self.expired |= ids
            self._remove(ids)

    def _remove(self, article_ids: set[str]) -> None:
        if article_ids:
            self._forget(article_ids)
            self.removed |= article_ids
            self.store.remove_articles(article_ids)

    def read_again(self) -> None:
        """Read the known files that must be read again (see ``ingest``), until none is left.

        A file that cannot be loaded keeps what it stored before and is tried again by the next
        ingest, not again in this one."""
        for _ in range(3):  # each pass can only free stories of files read in it
            waiting = [Path(p) for p in self.store.files_to_read() if p not in self.unreadable and Path(p).exists()]
            if not waiting:
                return
            for path in waiting:
                self.report.files += str(path) not in self.seen
                self.add_file(path)
                self.progress(path)
            self.flush()

    def _count_unchanged(self, state) -> None:
        self.report.unchanged_files += 1
        self.report.skipped.extend(Skipped(**item) for item in state.skipped)

    def count_totals(self) -> None:
        """What the files of this run hold in the store now (current articles, their chunks,
        copies), and what was removed and is not back (another file still holding it is read again)."""
        totals = self.store.file_totals(self.seen)
        self.report.articles, self.report.chunks, self.report.duplicates = totals
        back = self.store.existing_article_ids(self.removed)
        self.report.removed_articles = len(self.removed - back)
        self.report.expired = len(self.expired - back)

    def _add_loaded(self, key: str, digest: str, loaded: Loaded, changed: bool) -> None:
        """Store what a file holds. Its articles the file no longer holds stay in the store (marked
        as left) when its content changed, as when a feed downloaded again has dropped old items;
        when only the rules changed (a re-read), the new reading replaces the old one."""
        store = self.store
        old_ids = store.article_ids_of_file(key)
        items = [(raw, _prepare(raw, key, len(loaded.articles) == 1)) for raw in loaded.articles]
        prepared = [item for _, item in items if isinstance(item, _Prepared)]
        new_ids = {item.identity[:16] for item in prepared}
        left_before = store.left_already(old_ids)
        self.earlier = (old_ids - new_ids) if changed else (left_before - new_ids)
        self.shared = _shared_keys(prepared)
        replaced = old_ids - self.earlier
        self._forget(replaced)
        self.added -= replaced
        previous = _Previous(store.indexed_chunks(replaced))
        record = FileRecord(path=key, digest=digest, kept=self.earlier)
        skipped = loaded.skipped
        for raw, item in items:
            problem = item if isinstance(item, str) else self._add_article(raw, item, key, record, previous)
            if problem:
                skipped.append(Skipped(path=raw.source_path, line=raw.line, reason=problem))
            self.report.warnings.extend(Notice(path=raw.source_path, line=raw.line, text=w) for w in raw.warnings)
        self._carry_sources(key, record, [(item.title, raw.url) for raw, item in items if isinstance(item, _Prepared)])
        superseded = {earlier for earlier, _ in record.supersedes}
        self.report.left_articles += len(self.earlier - left_before - superseded)
        self.report.warnings.extend(loaded.warnings)
        self._note_undated(loaded.articles)
        record.skipped = [item.model_dump() for item in skipped]
        self.report.skipped.extend(skipped)
        self.pending.append(record)
        if len(self.pending) >= COMMIT_FILES:
            self.flush()

    def _carry_sources(self, key: str, record: FileRecord, present: list[tuple[str, str | None]]) -> None:
        """Copies of stored stories that the file's earlier content gave and its new content does
        not (rolled off): kept as they were. ``present``: (headline, URL) of the new content's items."""
        for article_id, source, repeat in self.store.sources_of_file(key):
            if (source.title, source.url) not in set(present):
                (record.repeats if repeat else record.alternates).append((article_id, source))

    def _note_undated(self, raws: list[RawArticle]) -> None:
        """One line for a file's articles that carry no date at all (an unreadable one has its own)."""
        silent = [raw for raw in raws if raw.published is None and not any("publish date" in w for w in raw.warnings)]
        if silent:
            many = f"{len(silent)} articles have" if len(silent) > 1 else "the article has"
            self.report.warnings.append(Notice(path=raws[0].source_path, text=(
                f"{many} no publish date; stored undated (left out of date windows and daily briefs)")))

    def _forget(self, article_ids: set[str]) -> None:
        """Drop articles about to be replaced by their file's new content from the run's indexes."""
        self.duplicates.remove(article_ids)
        self.keys = {k: a for k, a in self.keys.items() if a not in article_ids}
        self.stored -= article_ids
        self.stories = {k: a for k, a in self.stories.items() if a not in article_ids}
        for article_id in article_ids:
            self.current.pop(article_id, None)

    def _add_article(self, raw: RawArticle, item: _Prepared, key: str, record: FileRecord, previous: _Previous) -> str | None:
        """Add one article, fold it into a known one, or store it as a version of one; returns why
        it was skipped, if it was."""
        if self.cutoff is not None and raw.published is not None and raw.published < self.cutoff:
            self.report.too_old += 1
            return None
        text, title, identity = item.text, item.title, item.identity
        if run := unsplit_words(text):
            self.report.warnings.append(Notice(path=raw.source_path, line=raw.line, text=(
                f"words of this language are not separated (\"{run}...\" has no spaces): stored, but "
                "questions may not find its facts")))
        signature = minhash(text) if substantive(text) else None
        source = SourceRef(title=title, publisher=raw.publisher, url=raw.url, published=raw.published, source_path=key)
        if original := self.duplicates.exact(identity):
            self._add_copy(original, item, source, record)
            return None
        if identity[:16] in self.stored:  # an earlier version of a story, seen again
            record.repeats.append((identity[:16], source))
            self.report.repeats += 1
            return None
        url_key, guid_key = item.url_key, item.guid_key
        near = self.duplicates.near(signature, title) if signature is not None else None
        known = self._version_of(url_key, guid_key, title, signature, key) or (
            self._same_source(near[0], raw) if near else None)
        if near and known is None:
            record.alternates.append((near[0], source))
            self.report.near_duplicates += 1
            return None
        article = self._article(raw, title, key, citable_text(title, text), identity)
        record.articles.append(article)
        record.signatures[article.id] = signature
        record.content_hashes[article.id] = identity
        record.stories[article.id] = (url_key, guid_key)
        newer = self._is_newer(raw, known) if known is not None else None
        if known is not None and not newer:
            record.history[article.id] = known.article_id  # an earlier version: kept, never retrieved
            self.report.updates += 1
            if newer is False:
                self.report.warnings.append(Notice(path=raw.source_path, line=raw.line, text=(
                    f"an earlier version of the stored '{known.title}': kept in the catalog as history")))
            return None
        if known is not None:
            self._supersede(known, article, record)
        self.duplicates.add(article.id, identity, signature, title)
        self.added.add(article.id)
        self._index(StoryEntry(article.id, url_key, guid_key, raw.version_time, raw.publisher, title))
        self._add_chunks(article, record, previous)
        return None

    def _add_copy(self, original: str, item: _Prepared, source: SourceRef, record: FileRecord) -> None:
        """An exact copy of a stored article: the same item seen again is one source, a repeat;
        another outlet's copy is an alternate. It is the same item when it comes from the article's
        own outlet or from an outlet already listed as its alternate: the same publisher name, or the
        same URL or guid (a site that renamed its feed is still that site)."""
        outlets = self._outlets(original)
        mine = _Outlet(_name_key(source.publisher), item.url_key, item.guid_key, record.path)
        # the file's own earlier copies are being replaced by this reading: they do not count
        if any(mine.same_as(known) for known in outlets if not (known.stored and known.path == record.path)):
            record.repeats.append((original, source))
            self.report.repeats += 1
        else:
            outlets.append(mine)
            record.alternates.append((original, source))
            self.report.exact_duplicates += 1

    def _outlets(self, article_id: str) -> list[_Outlet]:
        """Where a stored article's copies came from: itself, then each alternate source."""
        if article_id not in self.outlets:
            entry = self.current.get(article_id)
            own = [_Outlet(_name_key(entry.publisher), entry.url_key, entry.guid_key, "")] if entry else []
            others = [_Outlet(_name_key(s.publisher), story_keys(s.url, None, None, "")[0], None, s.source_path, stored=True)
                      for s in self.store.copies_of(article_id)]
            self.outlets[article_id] = own + others
        return self.outlets[article_id]

    def _index(self, entry: StoryEntry) -> None:
        self.current[entry.article_id] = entry
        for story_key in (entry.url_key, entry.guid_key):
            if story_key:
                self.stories[story_key] = entry.article_id

    def _version_of(self, url_key: str | None, guid_key: str | None, title: str, signature: np.ndarray | None,
                    path: str) -> StoryEntry | None:
        """The current article with the same URL or guid, if any, and if it can be the same story.

        Two different guids from one publisher are two stories even at one URL (feeds that link
        every item to the front page). A guid or URL that several items of one file share is
        trusted only between articles of related headline or text: shared by unrelated ones, it is a
        placeholder ("N/A", the feed's own URL), not a story, said once per file. A file's earlier
        content, and a one-article file rewritten, are versions only of a related story too."""
        for story_key in (guid_key, url_key):
            article_id = self.stories.get(story_key) if story_key else None
            if article_id is None or story_key is None:
                continue
            entry = self.current[article_id]
            if story_key == url_key and guid_key and entry.guid_key and entry.guid_key != guid_key:
                continue
            suspect = story_key in self.shared or article_id in self.earlier or story_key.endswith("\x1f")
            if suspect and not self._related(entry, title, signature):
                self._warn_shared(path, story_key, entry.title, title)
                continue
            return entry
        return None

    def _related(self, entry: StoryEntry, title: str, signature: np.ndarray | None) -> bool:
        """Whether two articles can be versions of one story: most headline words shared, or texts
        that overlap (``RELATED_TEXT``)."""
        if similar_titles(title, entry.title):
            return True
        overlap = self.duplicates.similarity(entry.article_id, signature) if signature is not None else None
        return overlap is not None and overlap >= RELATED_TEXT

    def _warn_shared(self, path: str, story_key: str, stored: str, title: str) -> None:
        if (path, story_key) in self.shared_keys:
            return
        self.shared_keys.add((path, story_key))
        what = "link" if "\x1f" not in story_key else f"guid '{story_key.split(chr(31), 1)[1]}'"
        self.report.warnings.append(Notice(path=path, text=(
            f"items share one {what} but not their headline or text ('{stored}', '{title}'): "
            "it is not used to tell their stories apart")))

    def _same_source(self, article_id: str, raw: RawArticle) -> StoryEntry | None:
        """A near duplicate from the same publisher, or from this file's earlier content, is a
        revised version of its story, not a copy."""
        entry = self.current.get(article_id)
        if entry is not None and (article_id in self.earlier or (raw.publisher and _same_name(entry.publisher, raw.publisher))):
            return entry
        return None

    def _is_newer(self, raw: RawArticle, known: StoryEntry) -> bool | None:
        """Whether ``raw`` is a later version than the stored ``known``; None, said on stderr, when
        their times cannot tell."""
        mine, theirs = raw.version_time, known.version_time
        if mine is not None and theirs is not None and mine != theirs:
            return mine > theirs
        if known.article_id in self.earlier or (known.article_id not in self.added and known.publisher
                                                and _same_name(known.publisher, raw.publisher)):
            return True  # a file's new content, or the outlet's item downloaded again later, replaces what was read before
        self.report.warnings.append(Notice(path=raw.source_path, line=raw.line, text=(
            f"same story as the stored '{known.title}' (same URL or guid, or the same publisher's near copy) "
            "with other text and no later publish or update time: the stored version stays current, this "
            "one is kept as an earlier version")))
        return None

    def _supersede(self, known: StoryEntry, article: Article, record: FileRecord) -> None:
        """``article`` replaces ``known``: the stored one's keys lead to the new one from now on."""
        record.supersedes.append((known.article_id, article.id))
        self.duplicates.remove({known.article_id})
        self.current.pop(known.article_id, None)
        self.stories = {k: (article.id if a == known.article_id else a) for k, a in self.stories.items()}
        self.to_embed = [(c, a) for c, a in self.to_embed if a.id != known.article_id]
        self.report.updates += 1
        self.report.warnings.append(Notice(path=article.source_path, text=(
            f"newer version of '{known.title}': '{article.title}' is current now; the earlier one stays in "
            "the catalog as history")))

    def _add_chunks(self, article: Article, record: FileRecord, previous: _Previous) -> None:
        chunks = make_chunks(article, self.settings)
        record.chunks.extend(chunks)
        for chunk in chunks:
            if previous.by_id.get(chunk.id) == (article.title, chunk.text):
                continue  # stored under this id with this text: its vector is in place
            embedded = indexed_text(article.title, chunk.text)
            if embedded in previous.by_embedded:
                self.copies[chunk.id] = previous.by_embedded[embedded]
            self.to_embed.append((chunk, article))
        if len(self.to_embed) >= EMBED_BATCH:
            self.embed_pending()

    def _article(self, raw: RawArticle, title: str, key: str, text: str, identity: str) -> Article:
        article_id = identity[:16]
        return Article(
            id=article_id,
            key=self._chunk_key(article_id),
            title=title,
            publisher=raw.publisher,
            url=raw.url,
            published=raw.published,
            updated=raw.updated,
            text=text,
            source_path=key,
            source_id=raw.source_id,
        )

    def _chunk_key(self, article_id: str) -> str:
        """8 hex characters of the article id, longer only if another article already has them."""
        for length in (8, 12, 16):
            key = article_id[:length]
            if self.keys.get(key, article_id) == article_id:
                self.keys[key] = article_id
                self.stored.add(article_id)
                return key
        raise AssertionError("16-hex article ids are unique")

    def embed_pending(self) -> None:
        """Embed and upsert the waiting chunks; a chunk whose embedded text a stored chunk already
        has takes that vector from the side file instead of the embedder."""
        copies = {cid: self.copies[cid] for cid in (c.id for c, _ in self.to_embed) if cid in self.copies}
        saved = self.store.saved_vectors(list(copies.values()), self.start_revision) if copies else {}
        vectors = {cid: saved[old] for cid, old in copies.items() if old in saved}
        self.report.embedded += self.store.add_vectors(self.to_embed, vectors) - len(vectors)
        self.to_embed = []
        self.progress(None)

    def flush(self) -> None:
        """Embed what is left, then commit every pending file to the catalog in one transaction."""
        self.embed_pending()
        if self.pending:
            self.store.commit(self.pending)
            self.pending = []

    def progress(self, path: Path | None) -> None:
        if self.on_progress:
            self.on_progress(path, self.report)


class _Previous:
    """What a file's earlier content stored: chunk id -> (headline, chunk text), and the text each
    chunk was embedded as -> its id (a chunk whose stored text changed but whose embedded text did
    not, as when headlines became part of the text, keeps its vector)."""

    def __init__(self, by_id: dict[str, tuple[str, str]]):
        self.by_id = by_id
        self.by_embedded = {indexed_text(title, text): cid for cid, (title, text) in by_id.items()}


@dataclass(frozen=True)
class _Prepared:
    """An item's cleaned text and headline, its identity (``dedupe.article_hash``) and story keys."""

    text: str
    title: str
    identity: str
    url_key: str | None
    guid_key: str | None


def _prepare(raw: RawArticle, path: str, single: bool) -> _Prepared | str:
    """The item ready to store, or why it cannot be. A file of one article without a guid or URL
    is that article's story, so an edit of the file is a new version of it."""
    text = clean(raw.text) or clean(raw.title or "")  # a feed item with no body ("Comments") is its headline
    if not text:
        return "no text after cleaning"
    title = raw.title or _title_from_text(text)
    url_key, guid_key = story_keys(raw.url, raw.source_id, raw.publisher, path)
    if single and guid_key is None and url_key is None:
        guid_key = f"{path}\x1f"
    return _Prepared(text, title, article_hash(title, text), url_key, guid_key)


def _shared_keys(items: list[_Prepared]) -> set[str]:
    """Story keys that more than one distinct item of a file carries."""
    counts = Counter(key for item in {i.identity: i for i in items}.values() for key in (item.url_key, item.guid_key) if key)
    return {key for key, count in counts.items() if count > 1}


def _same_name(first: str | None, second: str | None) -> bool:
    return _name_key(first) == _name_key(second)


def _name_key(name: str | None) -> str:
    return (name or "").casefold().strip()


@dataclass(frozen=True)
class _Outlet:
    """Where a copy of an article came from: publisher (casefolded), URL key and guid key, and the
    file that gave it (``stored``: a copy the store already held before this run)."""

    publisher: str
    url_key: str | None
    guid_key: str | None
    path: str
    stored: bool = False

    def same_as(self, other: _Outlet) -> bool:
        same_url = bool(self.url_key) and self.url_key == other.url_key
        same_guid = bool(self.guid_key) and self.guid_key == other.guid_key
        return same_url or same_guid or (bool(self.publisher) and self.publisher == other.publisher)


def retention_cutoff(settings: Settings) -> datetime | None:
    """The oldest publish time kept under ``BRIEFING_RETENTION_DAYS``; None keeps everything."""
    if settings.retention_days is None:
        return None
    return datetime.now(UTC) - timedelta(days=settings.retention_days)


def _title_from_text(text: str) -> str:
    first = split_sentences(text)[0] if text else "Untitled"
    return first if len(first) <= 100 else first[:97].rsplit(" ", 1)[0] + "..."
