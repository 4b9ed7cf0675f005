"""A real HTTP feed server on loopback, and synthetic feeds to serve, for tests of a feed fetcher under faults.

``with FeedServer() as server:`` starts a ThreadingHTTPServer on 127.0.0.1 (any free port) in a daemon thread.
Register what each path answers, then point the fetcher at ``server.url(path)``:

- ``serve``: a static resource with ETag / Last-Modified (conditional GET answers 304) and gzip on request;
- ``redirect``: 301/302/303/307/308 with a Location;
- ``fail``: an error status (404, 410, 429, 500, 503 ...), optionally for the first ``times`` requests only,
  optionally with Retry-After, after which the path answers what ``serve`` (or ``redirect``, ``huge``) registered;
- ``slow``: waits before answering (timeout tests);
- ``huge``: streams megabytes of filler, with or without Content-Length.

Paths are matched without their query string; unregistered paths answer 404. The server speaks HTTP/1.1 with
keep-alive, so every response carries Content-Length (except a 304, which never has a body, and ``huge`` without
Content-Length, which is chunked). Every request is recorded in ``server.requests``.

The feed generators (``rss_feed``, ``atom_feed``, ``synthetic_items``, ``rolling_feed_days``) write clearly
made-up content: invented towns, agencies and people; no real news text.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from gzip import compress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

FIXED_LAST_MODIFIED = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
"""The default Last-Modified of ``serve``: a fixed time, so If-Modified-Since tests are deterministic."""
BLOCK_BYTES = 64 * 1024
"""``huge`` writes its filler in blocks of this many bytes."""
_FILLER = (b"synthetic filler for size-limit tests; nothing to parse here.\n" * (BLOCK_BYTES // 32))[:BLOCK_BYTES]


@dataclass(frozen=True)
class Request:
    """One request as received: method ("GET", "HEAD"), path (as sent, query included), headers (lower-case names;
    repeated headers joined with ", ") and ``at`` (time.monotonic() seconds when its request line was read)."""

    method: str
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class _Static:
    body: bytes
    gzipped: bytes | None  # the body gzip-compressed (mtime 0), or None when gzip is off
    content_type: str
    etag: str | None  # quoted, e.g. '"3f2a..."'
    last_modified: datetime | None  # aware, whole seconds


@dataclass
class _Redirect:
    target: str
    status: int


@dataclass
class _Huge:
    total: int  # bytes
    content_length: bool
    content_type: str


@dataclass
class _Failure:
    status: int
    remaining: int | None  # requests still to fail; None: all of them
    retry_after: str | None
    body: bytes


class FeedServer:
    """Context manager: ``with FeedServer() as server:`` starts a ThreadingHTTPServer on 127.0.0.1 in a daemon
    thread; exit shuts it down (and cuts open keep-alive connections). Registration methods may be called before
    or while requests arrive; all shared state is guarded by one lock."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        """Every request received, in arrival order (read it after the requests of interest have completed)."""
        self.disconnects = 0
        """Responses cut short because the client closed the connection (BrokenPipe/ConnectionReset)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._resources: dict[str, _Static | _Redirect | _Huge] = {}
        self._failures: dict[str, _Failure] = {}
        self._delays: dict[str, float] = {}
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> FeedServer:
        """Binds 127.0.0.1:0 and serves in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("FeedServer already started")
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.feed = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), name="feed-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stops serving, wakes sleeping ``slow`` handlers and cuts open connections. Idempotent."""
        if self._httpd is None:
            return
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (chosen by the OS)."""
        if self._httpd is None:
            raise RuntimeError("FeedServer is not running: use `with FeedServer() as server:`")
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        """``"http://127.0.0.1:PORT/path"`` (a leading slash is added when missing)."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    # -- registration ----------------------------------------------------------------------------------------

    def serve(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/rss+xml; charset=utf-8",
        *,
        etag: bool = True,
        last_modified: datetime | None = FIXED_LAST_MODIFIED,
        gzip: bool = True,
    ) -> None:
        """A static resource at ``path`` (replacing whatever resource was there).

        ETag (when ``etag``): a quoted SHA-256 prefix of ``body``. Last-Modified: ``last_modified`` (aware; whole
        seconds), or none. A GET whose If-None-Match lists the ETag (or ``*``) answers 304; without If-None-Match,
        one whose If-Modified-Since is at or after ``last_modified`` answers 304. When ``gzip`` and the request's
        Accept-Encoding accepts gzip, the body goes gzip-compressed with Content-Encoding: gzip.
        """
        if last_modified is not None:
            if last_modified.tzinfo is None:
                raise ValueError("last_modified must be timezone-aware")
            last_modified = last_modified.astimezone(UTC).replace(microsecond=0)
        resource = _Static(
            body=bytes(body),
            gzipped=compress(body, mtime=0) if gzip else None,
            content_type=content_type,
            etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"' if etag else None,
            last_modified=last_modified,
        )
        with self._lock:
            self._resources[_route(path)] = resource

    def redirect(self, path: str, target: str, status: int = 301) -> None:
        """``path`` answers ``status`` (301, 302, 303, 307 or 308) with ``Location: target`` (a path or a full URL,
        sent as given) and an empty body."""
        if status not in (301, 302, 303, 307, 308):
            raise ValueError(f"not a redirect status: {status}")
        with self._lock:
            self._resources[_route(path)] = _Redirect(target, status)

    def fail(
        self, path: str, status: int, *, times: int | None = None, retry_after: str | None = None, body: bytes = b""
    ) -> None:
        """``path`` answers ``status`` with ``body`` (text/plain) — every time, or for the next ``times`` requests
        only, after which it answers what ``serve``/``redirect``/``huge`` registered there (or 404). ``retry_after``
        (seconds such as "1", or an HTTP date) is sent as Retry-After. Replaces an earlier ``fail`` on the path."""
        if times is not None and times < 0:
            raise ValueError("times must be >= 0")
        with self._lock:
            self._failures[_route(path)] = _Failure(status, times, retry_after, bytes(body))

    def slow(self, path: str, seconds: float) -> None:
        """Every request to ``path`` waits ``seconds`` before it is answered (with whatever is registered then)."""
        with self._lock:
            self._delays[_route(path)] = float(seconds)

    def huge(
        self, path: str, megabytes: int, *, content_length: bool = True, content_type: str = "application/rss+xml"
    ) -> None:
        """``path`` streams ``megabytes`` MiB (× 1,048,576 bytes) of ASCII filler, written in 64 KiB blocks and never
        held whole. With ``content_length`` it sends Content-Length; without, Transfer-Encoding: chunked. A client
        that disconnects early ends the stream quietly (counted in ``disconnects``)."""
        with self._lock:
            self._resources[_route(path)] = _Huge(int(megabytes) * 1024 * 1024, content_length, content_type)

    def hits(self, path: str) -> int:
        """How many requests arrived for ``path`` (query strings ignored on both sides)."""
        key = _route(path)
        with self._lock:
            return sum(1 for request in self.requests if _route(request.path) == key)

    # -- used by the handler ---------------------------------------------------------------------------------

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _delay(self, key: str) -> float:
        with self._lock:
            return self._delays.get(key, 0.0)

    def _take(self, key: str) -> tuple[_Failure | None, _Static | _Redirect | _Huge | None]:
        """The failure to answer with now (using up one of its ``times``), else None; and the resource."""
        with self._lock:
            failure, resource = self._failures.get(key), self._resources.get(key)
            if failure is None or failure.remaining is None:
                return failure, resource
            if failure.remaining <= 0:
                return None, resource
            failure.remaining -= 1
            return failure, resource

    def _track(self, connection: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _disconnected(self) -> None:
        with self._lock:
            self.disconnects += 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent connects
    feed: FeedServer

    def server_bind(self) -> None:
        TCPServer.server_bind(self)  # skips HTTPServer's getfqdn(), a reverse DNS lookup
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # a client that went away: not a test failure
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30  # seconds an idle keep-alive connection is kept
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no access log on stderr."""

    def setup(self) -> None:
        super().setup()
        self.server.feed._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.feed._track(self.connection, False)

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def _answer(self) -> None:
        feed = self.server.feed
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        feed._record(Request(self.command, self.path, headers, time.monotonic()))
        key = _route(self.path)
        try:
            length = int(headers.get("content-length", "0") or 0)
            if length > 0:
                self.rfile.read(length)  # a body on GET: read it, so keep-alive stays in step
            delay = feed._delay(key)
            if delay > 0 and feed._stop.wait(delay):
                self.close_connection = True
                return
            failure, resource = feed._take(key)
            if failure is not None:
                extra = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
                self._send(failure.status, failure.body, "text/plain; charset=utf-8", extra)
            elif isinstance(resource, _Static):
                self._static(resource, headers)
            elif isinstance(resource, _Redirect):
                self._send(resource.status, b"", "text/plain; charset=utf-8", {"Location": resource.target})
            elif isinstance(resource, _Huge):
                self._huge(resource)
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            feed._disconnected()

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _static(self, resource: _Static, headers: dict[str, str]) -> None:
        validators = {"Vary": "Accept-Encoding"}
        if resource.etag:
            validators["ETag"] = resource.etag
        if resource.last_modified:
            validators["Last-Modified"] = format_datetime(resource.last_modified, usegmt=True)
        if _not_modified(resource, headers):
            self._send(304, b"", None, validators)
            return
        if resource.gzipped is not None and _accepts_gzip(headers.get("accept-encoding", "")):
            self._send(200, resource.gzipped, resource.content_type, {**validators, "Content-Encoding": "gzip"})
        else:
            self._send(200, resource.body, resource.content_type, validators)

    def _huge(self, resource: _Huge) -> None:
        self.send_response(200)
        self.send_header("Content-Type", resource.content_type)
        if resource.content_length:
            self.send_header("Content-Length", str(resource.total))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        sent = 0
        while sent < resource.total and not self.server.feed._stop.is_set():
            block = _FILLER[: min(BLOCK_BYTES, resource.total - sent)]
            self.wfile.write(block if resource.content_length else b"%x\r\n%b\r\n" % (len(block), block))
            sent += len(block)
        if sent < resource.total:
            self.close_connection = True  # server closing: the body is cut short
        elif not resource.content_length:
            self.wfile.write(b"0\r\n\r\n")


def _route(path: str) -> str:
    """The key a request path or registered path is matched by: its path part, with a leading slash."""
    return "/" + urlsplit(path).path.lstrip("/")


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value lists gzip (or x-gzip) with a q-value above 0."""
    for part in accept_encoding.split(","):
        name, _, params = part.partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip"):
            continue
        q = params.strip().lower()
        if not q.startswith("q="):
            return True
        try:
            return float(q[2:]) > 0
        except ValueError:
            return True
    return False


def _not_modified(resource: _Static, headers: dict[str, str]) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; otherwise If-Modified-Since against Last-Modified."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or (resource.etag is not None and resource.etag in tags)
    since_text = headers.get("if-modified-since")
    if not since_text or resource.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(since_text)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return since >= resource.last_modified


# -- synthetic feeds -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One feed entry. ``published`` must be timezone-aware; ``guid`` None writes no <guid> (Atom: link as id)."""

    title: str
    link: str
    text: str
    published: datetime
    guid: str | None = None

    def __post_init__(self) -> None:
        if self.published.tzinfo is None:
            raise ValueError("FeedItem.published must be timezone-aware")


def _prolog(encoding_declared: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding_declared}"?>\n'


def rss_feed(
    title: str,
    items: list[FeedItem],
    *,
    link: str = "https://example.org/",
    encoding_declared: str = "utf-8",
    encoding: str = "utf-8",
) -> bytes:
    """An RSS 2.0 document: items in the order given, fields XML-escaped, RFC 822 pubDate, <guid
    isPermaLink="false"> where an item has a guid.

    ``encoding_declared`` only goes into the XML declaration; the bytes are encoded in ``encoding`` (characters it
    cannot hold become character references). Make them differ to test a feed that misdeclares its encoding.
    """
    lines = [
        _prolog(encoding_declared) + '<rss version="2.0">',
        "<channel>",
        f"<title>{escape(title)}</title>",
        f"<link>{escape(link)}</link>",
        f"<description>{escape(f'Synthetic test feed: {title}')}</description>",
    ]
    for item in items:
        lines += [
            "<item>",
            f"<title>{escape(item.title)}</title>",
            f"<link>{escape(item.link)}</link>",
            f"<description>{escape(item.text)}</description>",
            f"<pubDate>{format_datetime(item.published)}</pubDate>",
        ]
        if item.guid is not None:
            lines.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        lines.append("</item>")
    lines += ["</channel>", "</rss>", ""]
    return "\n".join(lines).encode(encoding, errors="xmlcharrefreplace")


def atom_feed(
    title: str,
    items: list[FeedItem],
    *,
    link: str = "https://example.org/",
    feed_id: str | None = None,
    encoding_declared: str = "utf-8",
    encoding: str = "utf-8",
) -> bytes:
    """An Atom 1.0 document of the same items: <id> is the guid (or link), <published> and <updated> are
    ``published`` in ISO 8601, the text is the <summary>. Feed <updated>: the newest item's time (or the epoch).
    ``feed_id`` defaults to ``link``; encodings as in ``rss_feed``."""
    updated = max((item.published for item in items), default=datetime(1970, 1, 1, tzinfo=UTC))
    lines = [
        _prolog(encoding_declared) + '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title>",
        f"<id>{escape(feed_id or link)}</id>",
        f"<link href={quoteattr(link)}/>",
        f"<updated>{updated.isoformat()}</updated>",
    ]
    for item in items:
        lines += [
            "<entry>",
            f"<title>{escape(item.title)}</title>",
            f"<link href={quoteattr(item.link)}/>",
            f"<id>{escape(item.guid or item.link)}</id>",
            f"<published>{item.published.isoformat()}</published>",
            f"<updated>{item.published.isoformat()}</updated>",
            f"<summary>{escape(item.text)}</summary>",
            "</entry>",
        ]
    lines += ["</feed>", ""]
    return "\n".join(lines).encode(encoding, errors="xmlcharrefreplace")


_TOWNS = (
    "Harrowmere", "Quillby", "Odderton", "Fenwick Hollow", "Brackenford", "Lower Tamsey", "Corrowick", "Ashby Vell",
    "Mirefield", "Dunlow Cross", "Pellingham", "Saltreach", "Wendlebury Moor", "Grisholt", "Kestermouth", "Yarrowdeen",
    "Thistlecombe", "Oxhaven", "Brindlewick", "Calder Rise", "Norrowgate", "Sedgecombe Quay", "Fallowmere",
    "Tibbersley",
)
_AGENCIES = (
    "Canal Trust", "Lantern Bureau", "Water Board", "Orchard Authority", "Bridge Commission", "Minor Roads Office",
    "Tram Cooperative", "Beekeeping Council", "Harbour Registry", "Fog Signal Department", "Library Guild",
    "Parks Directorate", "Kite Safety Panel", "Bell Tower Society", "Rural Post Agency", "Hedgerow Council",
    "Ferry Board", "Clock Standards Office", "Allotment Tribunal", "Weather Vane Institute",
)
_NAMES = (
    "Ilsa Marrowby", "Tobin Quaile", "Odile Fennick", "Pim Ashgrove", "Wren Colter", "Bastian Hollis", "Marit Osgood",
    "Cosmo Tredwell", "Hettie Vance", "Lorcan Pybus", "Saffi Drummle", "Edwin Carrow", "Juno Pettifer", "Rolf Amberley",
    "Nell Gorringe", "Tavish Brume",
)
_ROLES = (
    "a spokesperson", "the deputy clerk", "the chief surveyor", "a senior warden", "the night inspector",
    "the acting treasurer", "a district steward", "the records keeper", "the harbour master", "a volunteer liaison",
)
_NOUNS = (
    "footbridges", "lamp posts", "beehives", "ferry tickets", "rain gauges", "allotment plots", "signal buoys",
    "bicycle racks", "weather vanes", "bus shelters", "orchard ladders", "tide markers", "compost bins",
    "park benches", "tram switches", "library carrels", "fence panels", "sundials", "chimney cowls",
    "drinking fountains", "market stalls", "kite permits", "rowing boats", "hedge trimmers",
)
_ADJECTIVES = (
    "weathered", "repainted", "surplus", "leaking", "temporary", "renumbered", "oversized", "misplaced",
    "solar-powered", "borrowed", "cracked", "heritage", "unlicensed", "refurbished", "flood-damaged", "spare",
    "squeaking", "mislabelled", "half-finished", "lopsided",
)
_VERBS = (
    "approved", "counted", "replaced", "relocated", "inspected", "auctioned", "recalled", "catalogued", "repaired",
    "labelled", "measured", "sealed", "returned", "donated", "repainted", "withdrew",
)
_LANDMARKS = (
    "the old mill", "the north pier", "the market cross", "the ring road", "the cricket ground", "the pumping station",
    "the chapel lane", "the salt barns", "the upper weir", "the goods yard", "the bandstand", "the toll house",
)
_EVENTS = (
    "the spring fair", "the next council vote", "the autumn tides", "the harvest market", "the rowing regatta",
    "the lantern parade", "the winter closure", "the bell ringing trials", "the orchard census", "the kite festival",
)
_STATUSES = (
    "would stay closed", "had been moved twice", "needed fresh paint", "were running late", "failed a safety check",
    "remained under review", "were oddly popular", "had gone missing", "drew steady complaints", "passed inspection",
)
_GROUPS = (
    "shopkeepers", "ferry crews", "allotment holders", "retired teachers", "cyclists", "choir members",
    "dog walkers", "pupils", "fishmongers", "night nurses", "bell ringers", "market traders",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SLOTS: dict[str, Sequence[str]] = {
    "town": _TOWNS, "agency": _AGENCIES, "name": _NAMES, "role": _ROLES, "noun": _NOUNS, "adjective": _ADJECTIVES,
    "verb": _VERBS, "landmark": _LANDMARKS, "event": _EVENTS, "status": _STATUSES, "group": _GROUPS,
    "weekday": _WEEKDAYS,
}
"""Word list of each sentence slot; a slot name with suffix "2" or "3" is a second or third independent pick."""
_SENTENCES = (
    "{name}, {role}, said {noun2} near {landmark} {status}.",
    "{Group} in {town2} asked for {number2} {adjective2} {noun3} before {event}.",
    "{agency2} staff {verb2} {noun2} beside {landmark2} last {weekday2}.",
    "According to {name2}, {noun3} {status2} since {event2}.",
    "{number3} {group2} signed a letter about {adjective} {noun2} at {landmark}.",
    "A review by {agency2} found {number2} {noun3} {status} near {town2}.",
)


def _hash(feed: int, index: int, slot: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{feed}/{index}/{slot}".encode()).digest()[:8], "big")


def _pick(words: Sequence[str], feed: int, index: int, slot: str) -> str:
    return words[_hash(feed, index, slot) % len(words)]


def _synthetic_item(feed: int, index: int, published: datetime) -> FeedItem:
    suffixes = ("", "2", "3")
    slots: dict[str, str] = {}
    for name, words in _SLOTS.items():
        slots |= {name + suffix: _pick(words, feed, index, name + suffix) for suffix in suffixes}
    slots |= {f"number{suffix}": str(12 + _hash(feed, index, "number" + suffix) % 988) for suffix in suffixes}
    slots["weekday"] = _WEEKDAYS[published.weekday()]  # the day it is published
    slots["Group"] = slots["group"].capitalize()
    order = sorted(range(len(_SENTENCES)), key=lambda s: _hash(feed, index, f"sentence{s}"))
    extra = order[: 2 + _hash(feed, index, "count") % 2]  # 3 or 4 sentences in all
    lead = "{town} {agency} officials {verb} {number} {adjective} {noun} on {weekday} (notice {feed}-{index})."
    text = " ".join(s.format(feed=feed, index=index, **slots) for s in [lead, *(_SENTENCES[i] for i in extra)])
    title = "{town} {agency} {verb} {number} {noun} [{feed}-{index}]".format(feed=feed, index=index, **slots)
    link = f"https://feed{feed}.example.org/story/{index}"
    return FeedItem(title=title, link=link, text=text, published=published, guid=link)


def synthetic_items(feed: int, count: int, start: datetime, step: timedelta = timedelta(hours=1)) -> list[FeedItem]:
    """``count`` deterministic made-up items of feed number ``feed``, oldest first: item i is published at
    ``start + i * step`` (``start`` must be aware), links https://feed{feed}.example.org/story/{i}, guid = link.

    Titles and texts are unique across (feed, index): each text is 3–4 sentences (about 35–65 words) whose towns,
    agencies, people, objects and numbers are picked by a SHA-256 of (feed, index, slot), so two items share few
    word 3-grams (far below a near-duplicate threshold). Titles carry the tag ``[feed-index]``.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    return [_synthetic_item(feed, index, start + index * step) for index in range(count)]


def rolling_feed_days(days: int, per_day: int, keep: int, start: datetime, *, feed: int = 1) -> list[list[FeedItem]]:
    """The feed file on each of ``days`` days: ``per_day`` new items are published a day (evenly spaced from
    ``start + d days``), and day d's file holds the newest ``keep`` of all items published by then, newest first.
    Returns one list per day (outer index = day)."""
    items = synthetic_items(feed, days * per_day, start, timedelta(days=1) / max(per_day, 1))
    return [list(reversed(items[: (day + 1) * per_day]))[:keep] for day in range(days)]
