"""Subscriptions and the archive of fetched bytes, both under the home folder.

``<home>/feeds.json`` lists the subscribed feeds with what the last pull learned of each
(validators for a conditional GET, status, the last problem). ``<home>/fetched/`` keeps every
distinct body a pull or ``ingest URL`` fetched, gzip-compressed, and the store ingests those files,
so a rebuild (``briefing ingest <home>/fetched``) or an upgrade that reads files again needs no
network. Hidden folders there (``.raw``, ``.pages``) hold what the walk must not ingest twice: a
full-text feed's raw snapshots and the pages its items were completed from.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from briefing.errors import InputError, OptionError
from briefing.models import Feed
from briefing.settings import Settings

FEEDS_FILE = "feeds.json"
ARCHIVE = "fetched"
GONE_AFTER = 3
"""Pulls in a row that must answer 404 before a feed is marked gone (a 410 marks it at once)."""


def feeds_path(settings: Settings) -> Path:
    return settings.home / FEEDS_FILE


def load_feeds(settings: Settings) -> list[Feed]:
    """The subscribed feeds; none when nothing was ever added. Raises InputError naming the file
    when it cannot be read."""
    path = feeds_path(settings)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Feed.model_validate(item) for item in data["feeds"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(str(path), f"cannot read the subscriptions ({str(exc).splitlines()[0]})") from None


def save_feeds(settings: Settings, feeds: list[Feed]) -> None:
    """Write the subscriptions atomically (a crash leaves the old file or the new one)."""
    path = feeds_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"feeds": [f.model_dump(mode="json") for f in feeds]}, indent=1, ensure_ascii=False),
                         encoding="utf-8")
    os.replace(temporary, path)


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host; OptionError naming it otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OptionError(f"'{url}' is not an http or https URL")
    return url.strip()


def is_url(value: str) -> bool:
    return bool(re.match(r"^https?://", value.strip(), re.IGNORECASE))


# --- the archive ------------------------------------------------------------------------------------


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def feed_folder(settings: Settings, url: str) -> Path:
    """Where the snapshots of the feed at ``url`` are kept: readable host and path, and a hash
    that keeps two URLs apart."""
    parts = urlsplit(url)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.path}{'-' + parts.query if parts.query else ''}").strip("-")[:60]
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", parts.netloc.lower()) or "local"
    return settings.home / ARCHIVE / "feeds" / host / f"{slug or 'feed'}-{_short(url)}"


def page_file(settings: Settings, url: str, hidden: bool) -> Path:
    """Where the page at ``url`` is kept: ``.pages`` (hidden from a walk) when it completes a feed item."""
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", urlsplit(url).netloc.lower()) or "local"
    return settings.home / ARCHIVE / (".pages" if hidden else "pages") / host / f"{_short(url, 16)}.html.gz"


def keep(path: Path, body: bytes) -> Path:
    """Write ``body`` gzip-compressed at ``path`` (atomically) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(gzip.compress(body, mtime=0))
    os.replace(temporary, path)
    return path


def keep_snapshot(folder: Path, body: bytes, suffix: str) -> Path:
    """Keep a feed's body in its folder as ``<UTC time>-<8 hex of its SHA-256><suffix>.gz``; the
    same bytes kept before (a pull whose ingest did not finish) are that file again."""
    same = sorted(folder.glob(f"*-{digest(body)[:8]}{suffix}.gz")) if folder.exists() else []
    if same:
        return same[0]
    return keep(folder / snapshot_name(body, suffix), body)


def snapshot_name(body: bytes, suffix: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{digest(body)[:8]}{suffix}.gz"


def _short(text: str, length: int = 10) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]
