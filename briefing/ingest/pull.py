"""Feeds by URL: subscribe (``feeds add``, ``feeds import``), pull every subscribed feed into the
store (``pull``), and fetch a feed or page once (``ingest URL``).

A pull fetches every feed that is not gone (``briefing.ingest.fetch``), keeps each new body in the
archive (``briefing.ingest.feeds``), completes the thin items of a full-text feed from their pages,
and ingests the new files through ``briefing.ingest.run.ingest_files`` under the one ingest lock,
so two overlapping pulls (or a pull and an ingest) take turns.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.errors import InputError, OptionError
from briefing.ingest.feeds import (
    GONE_AFTER,
    check_url,
    digest,
    feed_folder,
    is_url,
    keep,
    keep_snapshot,
    load_feeds,
    page_file,
    save_feeds,
    snapshot_name,
)
from briefing.ingest.fetch import Fetched, Fetcher, Validators
from briefing.locking import exclusive_lock
from briefing.models import Feed, FeedOutcome, IngestReport, PullReport, Skipped
from briefing.settings import Settings

if TYPE_CHECKING:  # ingest.run (numpy, the loaders) is imported only when there is something to ingest
    from briefing.ingest.run import ProgressCallback, StoreSource

log = logging.getLogger(__name__)

FEED_ROOTS = {"rss", "feed", "rdf:rdf", "rdf", "channel"}
SNIFF_BYTES = 4096
_PROLOG = re.compile(rb"\s*(<\?xml[^>]*\?>|<!--.*?-->|<!doctype\s+(?!html)[^>]*>|\s)*", re.IGNORECASE | re.DOTALL)
_ROOT = re.compile(rb"<(!doctype\s+html|[a-z][\w:.-]*)", re.IGNORECASE)

FetcherFactory = Callable[[Settings], Fetcher]


# --- what a body is ---------------------------------------------------------------------------------


def sniff(body: bytes, content_type: str = "") -> str:
    """What a fetched body is: ``feed`` (RSS, Atom, RDF, or XML that may be one), ``json``
    (a JSON Feed or news-API response), ``html`` (a web page) or ``other``."""
    head = body[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    kind = content_type.split(";")[0].strip().lower()
    if head.startswith((b"{", b"[")):
        return "json"
    prolog = _PROLOG.match(head)
    root = _ROOT.match(head, prolog.end() if prolog else 0)  # the first element, after declaration and comments
    name = root.group(1).decode("ascii", "replace").lower() if root else ""
    if name in FEED_ROOTS:
        return "feed"
    if name.startswith("!doctype") or name == "html" or (kind == "text/html" and not name):
        return "html"
    if name or "xml" in kind or "rss" in kind or "atom" in kind:
        return "feed"  # XML of another root (or none readable): the feed reader says what is wrong
    return "other"


SUFFIXES = {"feed": ".xml", "json": ".json", "html": ".html"}


def feed_links(html: bytes, base: str) -> list[str]:
    """The feeds a page names (``<link rel="alternate" type="application/rss+xml" href=...>``)."""
    from urllib.parse import urljoin

    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    found = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower()
        if "alternate" in rel and any(k in kind for k in ("rss", "atom", "rdf", "feed+json")) and link.get("href"):
            found.append(urljoin(base, link.get("href")))
    return list(dict.fromkeys(found))


def declared_encoding(body: bytes) -> str | None:
    match = re.match(rb"""\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']""", body[:200].lstrip(b"\xef\xbb\xbf"))
    return match.group(1).decode("ascii", "replace").lower() if match else None


# --- subscriptions ------------------------------------------------------------------------------------


def add_feeds(settings: Settings, urls: list[str], full_text: bool = False,
              fetcher_factory: FetcherFactory = Fetcher) -> list[str]:
    """Subscribe to each URL after one request that shows it is a feed; a page that names its
    feed subscribes to that feed. Returns one line per URL; raises OptionError for a URL that is
    not http(s) (before anything is added)."""
    urls = [check_url(url) for url in urls]
    once = settings.model_copy(update={"fetch_retries": 0})  # a check: say at once what fails, pull retries
    with fetcher_factory(once) as fetcher:
        results = fetcher.fetch_all((url, None) for url in urls)
    lines = []
    with _lock(settings):
        feeds = load_feeds(settings)
        for url, result in zip(urls, results):
            lines.append(_add_one(feeds, url, result, full_text))
        save_feeds(settings, feeds)
    return lines


def _add_one(feeds: list[Feed], url: str, result: Fetched, full_text: bool) -> str:
    """Add what ``result`` shows is a feed to ``feeds``; the line to print."""
    if result.status != "ok":
        return f"{url}: not added: {result.problem or result.status}"
    kind = sniff(result.body, result.content_type)
    target, note, title = result.moved_to or url, f" (moved permanently from {url})" if result.moved_to else "", None
    if kind == "html":
        links = feed_links(result.body, result.url)
        if not links:
            return f"{url}: an HTML page that names no feed: not added (`briefing ingest URL` reads one page)"
        target, note = links[0], f" (the feed the page {url} names)"
    elif kind == "other":
        return f"{url}: not a feed (content type '{result.content_type or 'none'}'): not added"
    else:
        title = _feed_title(result.body)
    known = next((f for f in feeds if f.url == target), None)
    if known is not None and not known.gone:
        turned_on = full_text and not known.full_text
        known.full_text = known.full_text or full_text
        return f"{target}: already subscribed" + ("; full text turned on" if turned_on else "")
    if known is not None:
        feeds.remove(known)
    feeds.append(Feed(url=target, full_text=full_text, title=title, added=datetime.now(UTC)))
    return f"{target}: added{note}" + (f": {title}" if title else "")


def _feed_title(body: bytes) -> str | None:
    import feedparser

    if sniff(body) != "feed":
        return None
    parsed = feedparser.parse(body)
    title = parsed.feed.get("title") if parsed.feed else None
    return str(title).strip() or None if title else None


def import_opml(settings: Settings, path: Path, full_text: bool = False) -> list[str]:
    """Subscribe to every feed (``xmlUrl``) an OPML file lists, without fetching them; returns one
    line per feed. Raises InputError naming the file when it is not OPML."""
    from lxml import etree

    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except OSError as exc:
        raise InputError(str(path), f"cannot read file ({exc})") from None
    except etree.XMLSyntaxError as exc:
        raise InputError(str(path), f"not an OPML file ({exc.msg})") from None
    outlines = [(o.get("xmlUrl"), o.get("title") or o.get("text")) for o in tree.iter("outline") if o.get("xmlUrl")]
    if not outlines:
        raise InputError(str(path), "no feeds in it (no <outline xmlUrl=...>)")
    lines = []
    with _lock(settings):
        feeds = load_feeds(settings)
        known = {f.url for f in feeds if not f.gone}
        for url, title in outlines:
            try:
                url = check_url(url)
            except OptionError as exc:
                lines.append(f"{path}: {exc}: skipped")
                continue
            if url in known:
                lines.append(f"{url}: already subscribed")
                continue
            feeds = [f for f in feeds if f.url != url]
            feeds.append(Feed(url=url, title=title, full_text=full_text, added=datetime.now(UTC)))
            known.add(url)
            lines.append(f"{url}: added" + (f": {title}" if title else ""))
        save_feeds(settings, feeds)
    return lines


def remove_feed(settings: Settings, url: str) -> str:
    """Unsubscribe; what the feed brought stays in the store. OptionError when not subscribed."""
    with _lock(settings):
        feeds = load_feeds(settings)
        kept = [f for f in feeds if f.url != url.strip() and url.strip() not in f.moved_from]
        if len(kept) == len(feeds):
            raise OptionError(f"not subscribed to {url} (see `briefing feeds list`)")
        save_feeds(settings, kept)
    return f"{url}: removed; the articles it brought stay in the store"


# --- pull ---------------------------------------------------------------------------------------------


def pull(components: StoreSource, *, fetcher_factory: FetcherFactory = Fetcher,
         on_progress: ProgressCallback | None = None) -> PullReport:
    """Fetch every subscribed feed that is not gone, keep what is new, and ingest it.

    Holds the ingest lock throughout: an overlapping pull or ingest waits. A feed's problem is
    one line in its ``FeedOutcome``; it never stops the others.
    """
    started = time.perf_counter()
    settings = components.settings
    report = PullReport(ingest=IngestReport())
    with _lock(settings):
        locked = time.perf_counter()  # what came before was waiting for another run
        feeds = load_feeds(settings)
        active = [feed for feed in feeds if not feed.gone]
        report.skipped_gone = len(feeds) - len(active)
        files: list[Path] = []
        with fetcher_factory(settings) as fetcher:
            results = fetcher.fetch_all((f.url, Validators(f.etag, f.last_modified)) for f in active)
            report.fetch_seconds = round(time.perf_counter() - locked, 3)
            for feed, result in zip(active, results):
                outcome = _apply(settings, feed, result)
                if outcome.snapshot and feed.full_text:
                    outcome.snapshot = str(complete_items(settings, Path(outcome.snapshot), fetcher, outcome))
                if outcome.snapshot:
                    files.append(Path(outcome.snapshot))
                report.feeds.append(outcome)
        report.ingest.files = len(files)
        if files or settings.retention_days is not None:  # else nothing to write: the store stays closed
            from briefing.ingest.run import ingest_files

            with components.open_store(writer=True) as store:
                ingest_files(store, settings, files, report.ingest, on_progress=on_progress)
        _note_unreadable(report)
        _name_by_url(report.ingest, {o.snapshot: o.url for o in report.feeds if o.snapshot})
        for feed, outcome in zip(active, report.feeds):
            feed.status, feed.problem = outcome.status, outcome.problem
        save_feeds(settings, feeds)  # only now: a pull whose ingest failed fetches the same bodies again
    report.seconds = round(time.perf_counter() - started, 3)
    report.ingest.seconds = round(time.perf_counter() - locked - report.fetch_seconds, 3)
    return report


def _apply(settings: Settings, feed: Feed, result: Fetched) -> FeedOutcome:
    """Record a fetch in the feed's state; keep a new body in the archive."""
    outcome = FeedOutcome(url=feed.url, status=result.status, notes=list(result.notes), problem=result.problem)
    feed.last_pulled = datetime.now(UTC)
    if result.moved_to and result.moved_to != feed.url:
        outcome.notes.append(f"moved permanently from {feed.url} to {result.moved_to}: subscription updated")
        feed.moved_from.append(feed.url)
        feed.url = outcome.url = result.moved_to
    if result.status == "gone":
        feed.misses += 1
        feed.gone = result.http_status == 410 or feed.misses >= GONE_AFTER
        outcome.status = "gone" if feed.gone else "failed"
        outcome.problem = (result.problem or "gone") + ("; marked gone: later pulls skip it (`briefing feeds add` to try again)"
                                            if feed.gone else f" ({feed.misses} of {GONE_AFTER} in a row mark it gone)")
    elif result.status == "ok":
        _keep_body(settings, feed, result, outcome)
    if result.status != "gone":
        feed.misses = 0
    feed.status, feed.problem = outcome.status, outcome.problem
    return outcome


def _keep_body(settings: Settings, feed: Feed, result: Fetched, outcome: FeedOutcome) -> None:
    kind = sniff(result.body, result.content_type)
    if kind in ("html", "other"):
        outcome.status, outcome.problem = "failed", _not_a_feed(kind, result)
        return
    feed.etag, feed.last_modified = result.validators.etag, result.validators.last_modified
    outcome.bytes = len(result.body)
    body_digest = digest(result.body)
    if body_digest == feed.digest:
        outcome.status = "unchanged"
        return
    header, document = result.charset, declared_encoding(result.body)
    if header and document and _codec(header) != _codec(document):
        outcome.notes.append(f"the server says charset {header}, the feed declares {document}: read by what its "
                             "bytes are (the declaration first, checked)")
    folder = feed_folder(settings, feed.url)
    path = keep_snapshot(folder / ".raw" if feed.full_text else folder, result.body, SUFFIXES[kind])
    feed.digest = body_digest
    outcome.status, outcome.snapshot = "new", str(path)


def _not_a_feed(kind: str, result: Fetched) -> str:
    if kind != "html":
        return f"not a feed (content type '{result.content_type or 'none'}')"
    links = feed_links(result.body, result.url)
    return "an HTML page, not a feed" + (f" (the page names the feed {links[0]}: `briefing feeds add` it)" if links else "")


def _name_by_url(report: IngestReport, sources: dict[str, str]) -> None:
    """Warnings and skips about a fetched file name the URL it came from, not the archive file."""
    by_path = {**sources, **{str(Path(path).resolve()): url for path, url in sources.items()}}
    for item in [*report.warnings, *report.skipped]:
        if item.path in by_path:
            item.path = by_path[item.path]


def _codec(name: str) -> str:
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _note_unreadable(report: PullReport) -> None:
    """A new snapshot the ingest could not read at all makes its feed's outcome a failure; one it
    read in part (malformed XML) keeps what it read and says so."""
    if not report.ingest.skipped and not report.ingest.warnings:
        return
    from briefing.ingest.loaders import EMPTY_FEED

    whole = {item.path: item.reason for item in report.ingest.skipped
             if item.line is None and not item.reason.startswith("entry ")}  # entries are labelled by ``Loaded.add``
    malformed = {w.path: w.text for w in report.ingest.warnings if w.text.startswith("malformed XML")}
    for outcome in report.feeds:
        if not outcome.snapshot:
            continue
        keys = (outcome.snapshot, str(Path(outcome.snapshot).resolve()))
        if reason := next((whole[k] for k in keys if k in whole), None):
            if reason == EMPTY_FEED:
                outcome.notes.append("the feed lists no items now")
            else:
                outcome.status, outcome.problem = "failed", reason
        elif text := next((malformed[k] for k in keys if k in malformed), None):
            outcome.problem = text


# --- full text ----------------------------------------------------------------------------------------


def complete_items(settings: Settings, snapshot: Path, fetcher: Fetcher, outcome: FeedOutcome) -> Path:
    """The items of a full-text feed's snapshot as JSONL, each thin one (under ``full_text_words``)
    with its page's main text, the feed's title, time, guid and publisher kept. The feed's own
    text stays when the page cannot be fetched or read, or is a paywall or consent page. Pages
    are kept in the archive and fetched once. Returns the snapshot itself when it cannot be read."""
    from briefing.ingest.loaders import load_file
    from briefing.text import word_count

    try:
        loaded = load_file(snapshot)
    except InputError:
        return snapshot
    thin = {raw.url for raw in loaded.articles if raw.url and word_count(raw.text) < settings.full_text_words}
    missing = [url for url in thin if not page_file(settings, url, hidden=True).exists()]
    for result in fetcher.fetch_all((url, None) for url in missing):
        if result.status == "ok" and sniff(result.body, result.content_type) == "html":
            keep(page_file(settings, result.requested, hidden=True), result.body)
        elif result.problem:
            outcome.notes.append(f"page {result.requested}: {result.problem}; the feed's text is kept")
    records = []
    for raw in loaded.articles:
        text = _page_text(settings, raw.url, raw.text, outcome) if raw.url in thin else raw.text
        records.append({"id": raw.source_id, "title": raw.title, "url": raw.url, "publisher": raw.publisher,
                        "published": raw.published.isoformat() if raw.published else None,
                        "updated": raw.updated.isoformat() if raw.updated else None, "text": text})
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    return keep(snapshot.parent.parent / snapshot_name(body, ".jsonl"), body)


def _page_text(settings: Settings, url: str | None, feed_text: str, outcome: FeedOutcome) -> str:
    from briefing.ingest.decoding import decode
    from briefing.ingest.loaders import read_bytes
    from briefing.ingest.pages import page_record
    from briefing.ingest.records import placeholder, walled
    from briefing.text import word_count

    path = page_file(settings, url or "", hidden=True)
    if not url or not path.exists():
        return feed_text
    try:
        record = page_record(decode(read_bytes(path), str(path), markup=True).text, url)
    except InputError as exc:
        outcome.notes.append(f"page {url}: {exc.reason}; the feed's text is kept")
        return feed_text
    if problem := placeholder(record.get("title"), record["text"]) or walled(record["text"]):
        outcome.notes.append(f"page {url}: {problem}; the feed's text is kept")
        return feed_text
    return record["text"] if word_count(record["text"]) > word_count(feed_text) else feed_text


# --- ingest URL -----------------------------------------------------------------------------------------


def fetch_inputs(settings: Settings, urls: list[str], fetcher_factory: FetcherFactory = Fetcher
                 ) -> tuple[dict[Path, str], list[Skipped]]:
    """Fetch each URL once and keep its body in the archive: a feed (or JSON) as a snapshot of its
    feed, a page as the page. Returns the files to ingest (with the URL each came from) and one
    ``Skipped`` per URL that failed."""
    paths: dict[Path, str] = {}
    skipped: list[Skipped] = []
    with fetcher_factory(settings) as fetcher:
        for result in fetcher.fetch_all((check_url(url), None) for url in urls):
            if result.status != "ok":
                skipped.append(Skipped(path=result.requested, reason=result.problem or "not modified"))
                continue
            kind = sniff(result.body, result.content_type)
            if kind == "other":
                skipped.append(Skipped(path=result.requested, reason=(
                    f"not a feed or a page (content type '{result.content_type or 'none'}')")))
                continue
            if kind == "html":
                paths[keep(page_file(settings, result.url, hidden=False), result.body)] = result.requested
                continue
            paths[keep_snapshot(feed_folder(settings, result.url), result.body, SUFFIXES[kind])] = result.requested
    return paths, skipped


def ingest_inputs(inputs: list[str], components: StoreSource, *, prune: bool = False,
                  on_progress: ProgressCallback | None = None, fetcher_factory: FetcherFactory = Fetcher) -> IngestReport:
    """`briefing ingest`: files and folders as they are, http(s) URLs fetched once into the archive
    first. A missing path or a malformed URL is an error before anything is fetched or written; a
    URL that cannot be fetched is one skipped line."""
    from briefing.ingest.loaders import check_inputs
    from briefing.ingest.run import ingest

    urls = [check_url(item) for item in inputs if is_url(item)]
    paths = [Path(item) for item in inputs if not is_url(item)]
    check_inputs(paths)
    fetched, failed = fetch_inputs(components.settings, urls, fetcher_factory) if urls else ({}, [])
    report = ingest(paths + list(fetched), components, prune=prune, on_progress=on_progress)
    report.skipped[:0] = failed
    _name_by_url(report, {str(path): url for path, url in fetched.items()})
    return report


def _lock(settings: Settings):
    return exclusive_lock(settings.store_dir / "ingest.lock", on_wait=log.warning,
                          doing="another pull or ingest is writing to")
