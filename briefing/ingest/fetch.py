"""Fetching feeds and pages over HTTP (httpx), as a polite client.

One ``Fetcher`` serves a whole pull: requests run in parallel across hosts (``fetch_concurrency``)
and at most ``fetch_per_host`` at a time to one host. Each request is conditional when a validator
is known (ETag, Last-Modified), so an unchanged feed costs a 304; bodies may be gzip-compressed;
redirects are followed by hand (at most ``MAX_REDIRECTS``) so a permanent one can update the
subscription and a loop is named; connection errors, timeouts, 429, 500, 502, 503 and 504 are retried with
backoff, waiting as long as ``Retry-After`` asks up to ``fetch_max_wait``; a body over
``max_file_mb`` is refused before it is read whole. Every outcome is one ``Fetched`` with a one-line
``problem`` when there is one.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from briefing import __version__
from briefing.settings import Settings

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"briefing/{__version__} (sourced news briefings; feed reader)"
MAX_REDIRECTS = 5
PERMANENT = {301, 308}
REDIRECTS = {301, 302, 303, 307, 308}
RETRIED = {429, 500, 502, 503, 504}
GONE = {404, 410}
BACKOFF_SECONDS = 0.5  # first wait before a retry without Retry-After; doubled each time


@dataclass
class Validators:
    """What the server said identifies the version we have (for a conditional GET)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Fetched:
    """The outcome of one fetch.

    ``status``: ``ok`` (``body`` holds the decoded bytes), ``not-modified`` (304), ``gone`` (404 or
    410: the feed or page may be no more; a pull marks a feed gone at once on 410 only),
    ``failed`` (``problem`` says why); one hop of ``fetch`` may also be ``redirect``, with the
    target in ``moved_to``. ``url`` is the URL the body came from after redirects; ``moved_to`` is
    set on the result when every redirect on the way was permanent and the new URL answered.
    """

    requested: str
    status: str
    url: str
    body: bytes = b""
    content_type: str = ""
    validators: Validators = field(default_factory=Validators)
    moved_to: str | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    """What went wrong on the way and was overcome (a retried 503), one line each."""
    http_status: int | None = None
    transient: bool = False  # a failure worth trying again (timeout, connection, 429, 5xx)
    retry_after: float | None = None  # seconds the server asked to wait

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type header names, if any."""
        for part in self.content_type.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip("\"' ").lower()
        return None


class Fetcher:
    """A polite HTTP client for one pull; use as a context manager. ``sleep`` is injectable for tests."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        import httpx

        self.settings = settings
        self.sleep = sleep
        self.max_bytes = int(settings.max_file_mb * 2**20)
        self.client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate",
                     "Accept": "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
                               "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"},
            timeout=httpx.Timeout(settings.fetch_timeout, connect=min(10.0, settings.fetch_timeout)),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=settings.fetch_concurrency * 2,
                                max_keepalive_connections=settings.fetch_concurrency),
        )
        self._hosts: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def fetch_all(self, requests: Iterable[tuple[str, Validators | None]]) -> list[Fetched]:
        """Fetch every (url, validators) in parallel; results in the order given."""
        items = list(requests)
        with ThreadPoolExecutor(max_workers=max(1, min(self.settings.fetch_concurrency, len(items) or 1))) as pool:
            return list(pool.map(lambda item: self.fetch(*item), items))

    def fetch(self, url: str, validators: Validators | None = None) -> Fetched:
        """Fetch ``url``, conditionally when ``validators`` are given (sent on every hop, so a feed
        behind a temporary redirect still answers 304), following redirects. Never raises."""
        try:
            return self._follow(url, _ascii_only(validators))
        except Exception as exc:  # one feed's surprise must not stop a pull of all the others
            return _failed(url, f"{type(exc).__name__}: {_reason(exc)}")

    def _follow(self, url: str, validators: Validators | None) -> Fetched:
        current, permanent, seen = url, True, [url]
        for _ in range(MAX_REDIRECTS + 1):
            result = self._with_retries(url, current, validators)
            if result.status != "redirect":
                if current != url:
                    result.url = current
                    usable = result.status in ("ok", "not-modified")
                    result.moved_to = current if permanent and usable else None
                return result
            target = result.moved_to
            if target is None or urlsplit(target).scheme not in ("http", "https"):
                return _failed(url, f"redirect {result.http_status} to {target or 'nowhere (no Location)'}: "
                                    "not an http or https URL")
            permanent = permanent and result.http_status in PERMANENT
            if target in seen:
                return _failed(url, f"redirect loop ({' -> '.join([*seen, target])})")
            seen.append(target)
            current = target
        return _failed(url, f"more than {MAX_REDIRECTS} redirects ({' -> '.join(seen)})")

    def _with_retries(self, requested: str, url: str, validators: Validators | None) -> Fetched:
        """One URL, tried again after a transient failure: ``fetch_retries`` more times, waiting as
        ``Retry-After`` asks or with doubling backoff, never more than ``fetch_max_wait`` in all."""
        notes: list[str] = []
        waited, tries = 0.0, self.settings.fetch_retries + 1
        for attempt in range(tries):
            result = self._once(requested, url, validators)
            result.notes = notes
            if not result.transient:
                return result
            if attempt == tries - 1:
                break
            wait = result.retry_after if result.retry_after is not None else BACKOFF_SECONDS * 2**attempt
            if waited + wait > self.settings.fetch_max_wait:
                result.problem = (f"{result.problem}, and it asks to wait {wait:g} s, over BRIEFING_FETCH_MAX_WAIT "
                                  f"({self.settings.fetch_max_wait:g} s): tried again on the next pull")
                return result
            notes.append(f"{result.problem}: waited {wait:g} s and tried again")
            self.sleep(wait)
            waited += wait
        if tries > 1:
            result.problem = f"{result.problem} ({tries} tries)"
        return result

    def _once(self, requested: str, url: str, validators: Validators | None) -> Fetched:
        import httpx

        headers = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        try:
            with self._host(url), self.client.stream("GET", url, headers=headers) as response:
                return self._read(requested, url, response)
        except httpx.TimeoutException:
            return Fetched(requested, "failed", url, transient=True,
                           problem=f"timed out after {self.settings.fetch_timeout:g} s (BRIEFING_FETCH_TIMEOUT)")
        except httpx.DecodingError as exc:
            return Fetched(requested, "failed", url, problem=f"the compressed body cannot be decoded ({_reason(exc)})")
        except (httpx.HTTPError, OSError) as exc:
            return Fetched(requested, "failed", url, transient=True, problem=f"cannot connect ({_reason(exc)})")

    def _read(self, requested: str, url: str, response: httpx.Response) -> Fetched:
        code = response.status_code
        result = Fetched(requested, "failed", url, http_status=code, content_type=response.headers.get("content-type", ""))
        if code in REDIRECTS:
            location = response.headers.get("location")
            result.status, result.moved_to = "redirect", urljoin(url, location) if location else None
            return result
        if code == 304:
            result.status = "not-modified"
            return result
        if code in GONE:
            said = ": the server says it is gone" if code == 410 else ""
            result.status, result.problem = "gone", f"HTTP {code} {response.reason_phrase}{said}"
            return result
        if code >= 400:
            result.problem = f"HTTP {code} {response.reason_phrase}".strip()
            result.transient = code in RETRIED
            result.retry_after = retry_after(response.headers.get("retry-after"))
            return result
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            result.problem = _too_big(int(declared), self.max_bytes)
            return result
        body = bytearray()
        for block in response.iter_bytes():
            body.extend(block)
            if len(body) > self.max_bytes:
                result.problem = _too_big(None, self.max_bytes)
                return result
        result.status, result.body = "ok", bytes(body)
        result.validators = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        return result

    def _host(self, url: str) -> threading.Semaphore:
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = threading.Semaphore(self.settings.fetch_per_host)
            return self._hosts[host]


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _too_big(size: int | None, limit: int) -> str:
    said = f"{size / 2**20:.1f} MB" if size is not None else "more than that"
    return f"response over the {limit / 2**20:g} MB limit ({said}; BRIEFING_MAX_FILE_MB): not read"


def _ascii_only(validators: Validators | None) -> Validators | None:
    """Validators that can be sent back in a header (a server's non-ASCII ETag cannot)."""
    if validators is None:
        return None
    usable = [v if v is not None and v.isascii() else None for v in (validators.etag, validators.last_modified)]
    return Validators(*usable)


def _failed(url: str, problem: str) -> Fetched:
    return Fetched(url, "failed", url, problem=problem)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
