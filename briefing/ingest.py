"""Ingest: files → cleaned, deduplicated articles → sentence-aware chunks → the store.

Files whose content hash matches the manifest are not read again; a changed file replaces what it
contributed, and only chunks whose text changed are embedded again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from briefing.catalog import FileRecord
from briefing.dedupe import DuplicateIndex, content_hash, minhash
from briefing.embeddings import Embedder
from briefing.errors import InputError
from briefing.llm import make_embedder
from briefing.loaders import discover, load_file
from briefing.locking import exclusive_lock
from briefing.models import Article, Chunk, IngestReport, RawArticle, Skipped, SourceRef
from briefing.settings import Settings
from briefing.store import Store
from briefing.text import chunk_spans, clean, split_sentences

ProgressCallback = Callable[[Path | None, IngestReport], None]
"""Called with the file just done (None after an embedding batch or at the start) and the report so far."""

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
    return [
        Chunk(id=f"{article.key}-{i}", article_id=article.id, text=article.text[s:e], start=s, end=e, position=i)
        for i, (s, e) in enumerate(spans)
    ]


def ingest(
    paths: list[Path],
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    prune: bool = False,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest files and folders into the configured store and report what happened."""
    started = time.perf_counter()
    files, skipped = discover(paths)
    report = IngestReport(files=len(files), skipped=skipped)
    embedder = embedder or make_embedder(settings)
    with exclusive_lock(settings.store_dir / "ingest.lock", on_wait=log.warning), Store(settings, embedder) as store:
        if store.catalog.get_meta("vectors_pending") == "1" or store.server_lost_vectors():
            store.reconcile()
        run = _IngestRun(store, settings, report, on_progress)
        run.progress(None)
        for path in files:
            run.add_file(path)
            run.progress(path)
        run.flush()
        if prune:
            _prune(store, report)
        store.keyword_index()
        store.vector_index()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _prune(store: Store, report: IngestReport) -> None:
    gone = [path for path in store.catalog.file_paths() if not Path(path).exists()]
    if gone:
        report.removed_articles = store.remove_files(gone)
        report.removed_files = len(gone)


class _IngestRun:
    """State of one ingest: duplicate index, chunk keys in use, and files waiting to be written."""

    def __init__(self, store: Store, settings: Settings, report: IngestReport, on_progress: ProgressCallback | None):
        self.store = store
        self.settings = settings
        self.report = report
        self.on_progress = on_progress
        self.duplicates = DuplicateIndex(settings.near_duplicate_threshold)
        for article_id, text_hash, signature in store.catalog.dedupe_entries():
            self.duplicates.add(article_id, text_hash, signature)
        self.keys = store.catalog.keys()
        self.pending: list[FileRecord] = []
        self.to_embed: list[tuple[Chunk, Article]] = []

    def add_file(self, path: Path) -> None:
        key = str(path.resolve())
        try:
            digest = file_digest(path)
        except OSError as exc:
            self.report.skipped.append(Skipped(path=str(path), reason=f"cannot read file ({exc.strerror or exc})"))
            return
        state = self.store.catalog.file_state(key)
        if state is not None and state.digest == digest:
            self._count_unchanged(state)
            return
        try:
            loaded = load_file(path, max_bytes=int(self.settings.max_file_mb * 2**20))
        except InputError as exc:
            self.report.skipped.append(Skipped(path=exc.location, reason=exc.reason))
            return
        self._add_loaded(key, digest, loaded.articles, loaded.skipped)

    def _count_unchanged(self, state) -> None:
        self.report.unchanged_files += 1
        self.report.articles += state.articles
        self.report.chunks += state.chunks
        self.report.duplicates += state.duplicates
        self.report.skipped.extend(Skipped(**item) for item in state.skipped)

    def _add_loaded(self, key: str, digest: str, raws: list[RawArticle], skipped: list[Skipped]) -> None:
        old_ids = self.store.catalog.article_ids_of_file(key)
        self.duplicates.remove(old_ids)
        self.keys = {k: a for k, a in self.keys.items() if a not in old_ids}
        previous_texts = self.store.catalog.chunk_texts(old_ids)
        record = FileRecord(path=key, digest=digest)
        first_with_id: dict[str, tuple[str, int | None]] = {}
        for raw in raws:
            text = clean(raw.text)
            text_hash = content_hash(text)
            problem = _reused_id(raw, text_hash, first_with_id) or self._add_article(raw, text, text_hash, key, record, previous_texts)
            if problem:
                skipped.append(Skipped(path=raw.source_path, line=raw.line, reason=problem))
        record.skipped = [item.model_dump() for item in skipped]
        self.report.skipped.extend(skipped)
        self.report.articles += len(record.articles)
        self.report.chunks += len(record.chunks)
        self.report.duplicates += record.duplicates
        self.pending.append(record)
        if len(self.pending) >= COMMIT_FILES:
            self.flush()

    def _add_article(
        self, raw: RawArticle, text: str, text_hash: str, key: str, record: FileRecord, previous: dict[str, str]
    ) -> str | None:
        """Add one article (its cleaned ``text``) or fold it into a known one; returns why it was
        skipped, if it was."""
        if not text:
            return "no text after cleaning"
        source = SourceRef(
            title=raw.title, publisher=raw.publisher, url=raw.url, published=raw.published, source_path=key
        )
        if original := self.duplicates.exact(text_hash):
            record.alternates.append((original, source))
            self.report.exact_duplicates += 1
            return None
        signature = minhash(text)
        if near := self.duplicates.near(signature):
            record.alternates.append((near[0], source))
            self.report.near_duplicates += 1
            return None
        article = self._article(raw, key, text, text_hash)
        chunks = make_chunks(article, self.settings)
        record.articles.append(article)
        record.chunks.extend(chunks)
        record.signatures[article.id] = signature
        record.content_hashes[article.id] = text_hash
        self.duplicates.add(article.id, text_hash, signature)
        self.to_embed.extend((c, article) for c in chunks if previous.get(c.id) != c.text)
        if len(self.to_embed) >= EMBED_BATCH:
            self.embed_pending()
        return None

    def _article(self, raw: RawArticle, key: str, text: str, text_hash: str) -> Article:
        article_id = text_hash[:16]
        return Article(
            id=article_id,
            key=self._chunk_key(article_id),
            title=raw.title or _title_from_text(text),
            publisher=raw.publisher,
            url=raw.url,
            published=raw.published,
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
                return key
        raise AssertionError("16-hex article ids are unique")

    def embed_pending(self) -> None:
        self.report.embedded += self.store.add_vectors(self.to_embed)
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


def _reused_id(raw: RawArticle, text_hash: str, first_with_id: dict[str, tuple[str, int | None]]) -> str | None:
    """Why ``raw`` is refused when an earlier article of the same file had its id but other text.

    An id names one story in its source; two texts under one id means one of them is wrong, and
    the first one read is kept.
    """
    if not raw.source_id:
        return None
    first = first_with_id.setdefault(raw.source_id, (text_hash, raw.line))
    if first[0] == text_hash:
        return None
    where = f"line {first[1]}" if first[1] else "an earlier item"
    return f"id '{raw.source_id}' was already used by {where} with different text; kept the first"


def _title_from_text(text: str) -> str:
    first = split_sentences(text)[0] if text else "Untitled"
    return first if len(first) <= 100 else first[:97].rsplit(" ", 1)[0] + "..."
