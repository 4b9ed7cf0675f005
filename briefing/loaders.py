"""Readers for every input format. Each turns one file into RawArticles plus per-record problems.

A loader never raises for one bad record: it reports a ``Skipped`` and goes on. A file that cannot
be read at all raises ``InputError`` naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from briefing.dates import parse_datetime
from briefing.errors import InputError
from briefing.models import RawArticle, Skipped

TEXT_FIELDS = ("text", "content", "body", "description", "summary", "article")
TITLE_FIELDS = ("title", "headline", "name")
URL_FIELDS = ("url", "link", "href", "permalink")
DATE_FIELDS = ("published", "date", "date_published", "published_at", "pubDate", "pub_date", "datetime", "created_at")
PUBLISHER_FIELDS = ("publisher", "source", "outlet", "site_name", "site", "feed_title")
ID_FIELDS = ("id", "guid", "uuid")


@dataclass
class Loaded:
    """What a loader found in one file."""

    articles: list[RawArticle] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# --- reading bytes -----------------------------------------------------------------------------


def decode(data: bytes, path: str) -> str:
    """Text from bytes: UTF-8 or UTF-16 by BOM, else UTF-8, else Latin-1. Binary data is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:8192]:
        raise InputError(path, "binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read file ({exc.strerror or exc})") from None
    return decode(data, str(path))


# --- field mapping for JSON-like records -------------------------------------------------------


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def _as_text(value: Any) -> str | None:
    """A string from a field that may hold a string, a {name|title|value: ...} object or a list."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _as_text(_first(value, ("name", "title", "value", "href", "url")))
    if isinstance(value, list):
        parts = [t for v in value if (t := _as_text(v))]
        return "\n\n".join(parts) or None
    return str(value).strip() or None


def record_to_article(record: Any, path: str, line: int | None = None) -> RawArticle:
    """Map a JSON object with common field names onto a RawArticle; raises InputError when unusable."""
    where = path if line is None else f"{path}:{line}"
    if not isinstance(record, dict):
        raise InputError(where, f"expected a JSON object, got {type(record).__name__}")
    text = _as_text(_first(record, TEXT_FIELDS))
    if not text:
        raise InputError(where, f"no text (expected one of: {', '.join(TEXT_FIELDS[:4])})")
    if "<" in text and re.search(r"</?(p|div|br|span|a)\b", text, re.IGNORECASE):
        text = html_fragment_to_text(text)
    raw_date = _first(record, DATE_FIELDS)
    try:
        published = parse_datetime(raw_date)
    except ValueError:
        raise InputError(where, f"invalid publish date {raw_date!r}") from None
    return RawArticle(
        title=_as_text(_first(record, TITLE_FIELDS)),
        publisher=_as_text(_first(record, PUBLISHER_FIELDS)),
        url=_as_text(_first(record, URL_FIELDS)),
        published=published,
        text=text,
        source_path=path,
        source_id=_as_text(_first(record, ID_FIELDS)),
        line=line,
    )


# --- formats -----------------------------------------------------------------------------------


def load_jsonl(path: Path) -> Loaded:
    loaded = Loaded()
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(str(path), f"cannot read file ({exc.strerror or exc})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            line = decode(raw, f"{path}:{number}").strip()
            if not line:
                continue
            try:
                loaded.articles.append(record_to_article(json.loads(line), str(path), number))
            except json.JSONDecodeError as exc:
                loaded.skipped.append(Skipped(path=str(path), line=number, reason=f"invalid JSON ({exc.msg})"))
            except InputError as exc:
                loaded.skipped.append(Skipped(path=str(path), line=number, reason=exc.reason))
    return loaded


def load_json(path: Path) -> Loaded:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON at line {exc.lineno} ({exc.msg})") from None
    if isinstance(data, dict):
        listed = _first(data, ("items", "articles", "entries", "data", "results"))
        records = listed if isinstance(listed, list) else [data]
    elif isinstance(data, list):
        records = data
    else:
        raise InputError(str(path), "expected a JSON object or a list of objects")
    loaded = Loaded()
    for index, record in enumerate(records):
        try:
            loaded.articles.append(record_to_article(record, str(path)))
        except InputError as exc:
            reason = exc.reason if len(records) == 1 else f"item {index}: {exc.reason}"
            loaded.skipped.append(Skipped(path=str(path), reason=reason))
    return loaded


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 2}" if mark else ""
        raise InputError(path, f"invalid YAML front matter{at}") from None
    if not isinstance(meta, dict):
        raise InputError(path, "front matter is not a mapping of fields")
    return meta, text[match.end() :]


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_MD_QUOTE = re.compile(r"^>\s?", re.MULTILINE)


def markdown_to_text(body: str) -> str:
    body = _MD_IMAGE.sub("", body)
    body = _MD_LINK.sub(r"\1", body)
    body = _MD_HEADING.sub("", body)
    body = _MD_QUOTE.sub("", body)
    return _MD_EMPHASIS.sub(r"\2", body)


def load_markdown(path: Path) -> Loaded:
    meta, body = split_front_matter(read_text(path), str(path))
    title = meta.get("title")
    headline, body = _leading_heading(body)
    record = {**meta, "title": title or headline or _title_from_name(path), "text": markdown_to_text(body)}
    return _single(record, path)


def _leading_heading(body: str) -> tuple[str | None, str]:
    """Take out a level-1 heading that comes before any text but blank or boilerplate lines."""
    from briefing.text import is_boilerplate

    lines = body.split("\n")
    for index, line in enumerate(lines):
        if line.startswith("# "):
            return line[2:].strip(), "\n".join(lines[:index] + lines[index + 1 :])
        if line.strip() and not is_boilerplate(line):
            break
    return None, body


def load_text(path: Path) -> Loaded:
    from briefing.text import is_boilerplate

    lines = read_text(path).strip().splitlines()
    while lines and (not lines[0].strip() or is_boilerplate(lines[0])):
        lines.pop(0)
    title = _title_from_name(path)
    first = lines[0].strip() if lines else ""
    if first and len(first) <= 150 and not first.endswith((".", "!", "?", ":")) and len(lines) > 1:
        title, lines = first, lines[1:]
    return _single({"title": title, "text": "\n".join(lines)}, path)


def load_html(path: Path) -> Loaded:
    html = read_text(path)
    meta = html_metadata(html)
    text = html_main_text(html)
    first, _, rest = text.partition("\n")
    if meta.get("title") and first.strip().casefold() == meta["title"].strip().casefold():
        text = rest  # trafilatura repeats the headline as the first line
    return _single({**meta, "text": text, "title": meta.get("title") or _title_from_name(path)}, path)


def load_feed(path: Path) -> Loaded:
    import feedparser

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read file ({exc.strerror or exc})") from None
    feed = feedparser.parse(data)
    if not feed.entries:
        problem = getattr(feed, "bozo_exception", None)
        reason = f"not an RSS or Atom feed ({problem})" if problem else "feed has no entries"
        raise InputError(str(path), reason.splitlines()[0])
    publisher = feed.feed.get("title")
    loaded = Loaded()
    for index, entry in enumerate(feed.entries):
        try:
            loaded.articles.append(record_to_article(_feed_entry(entry, publisher), str(path)))
        except InputError as exc:
            loaded.skipped.append(Skipped(path=str(path), reason=f"entry {index}: {exc.reason}"))
    return loaded


def _feed_entry(entry: Any, publisher: str | None) -> dict[str, Any]:
    import calendar

    content = entry.get("content") or []
    body = content[0].get("value") if content else entry.get("summary")
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    source = entry.get("source", {}) or {}
    return {
        "id": entry.get("id"),
        "title": entry.get("title"),
        "url": entry.get("link"),
        "published": calendar.timegm(parsed) if parsed else None,
        "publisher": source.get("title") or publisher,
        "text": html_fragment_to_text(body) if body else None,
    }


# --- HTML helpers ------------------------------------------------------------------------------


def html_fragment_to_text(fragment: str) -> str:
    """Visible text of an HTML snippet (feed summaries), one paragraph per block element."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return fragment
    for bad in root.xpath("//script|//style|//iframe|//noscript"):
        bad.drop_tree()
    for block in root.xpath("//p|//div|//br|//li|//h1|//h2|//h3|//h4|//blockquote"):
        block.tail = "\n\n" + (block.tail or "")
    return root.text_content()


def html_main_text(html: str) -> str:
    """Main article text: trafilatura drops navigation, scripts, styles, comments and boilerplate."""
    import trafilatura

    text = trafilatura.extract(
        html, include_comments=False, include_tables=False, include_images=False, favor_precision=True
    )
    return text or ""


_META_KEYS = {
    "title": ("og:title", "twitter:title", "headline", "dc.title"),
    "publisher": ("og:site_name", "application-name", "publisher", "dc.publisher", "article:publisher"),
    "url": ("og:url",),
    "published": (
        "article:published_time", "og:published_time", "datepublished", "date", "pubdate",
        "publish-date", "dc.date", "dc.date.issued", "sailthru.date", "parsely-pub-date",
    ),
}  # fmt: skip


def html_metadata(html: str) -> dict[str, Any]:
    """Title, publisher, canonical URL and publish time from meta tags (then <title>, <link>, <time>)."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except Exception:  # lxml raises several unrelated types on junk input
        return {}
    tags = {}
    for meta in root.xpath("//meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if name and meta.get("content") and name not in tags:
            tags[name] = meta.get("content").strip()
    found: dict[str, Any] = {}
    for field_name, keys in _META_KEYS.items():
        value = next((tags[k] for k in keys if k in tags), None)
        if value:
            found[field_name] = value
    found.setdefault("title", _xpath_text(root, "//title"))
    found.setdefault("url", _xpath_attr(root, "//link[@rel='canonical']", "href"))
    found.setdefault("published", _xpath_attr(root, "//time[@datetime]", "datetime"))
    return {k: v for k, v in found.items() if v}


def _xpath_text(root: Any, path: str) -> str | None:
    nodes = root.xpath(path)
    return nodes[0].text_content().strip() if nodes else None


def _xpath_attr(root: Any, path: str, attr: str) -> str | None:
    nodes = root.xpath(path)
    return nodes[0].get(attr) if nodes else None


# --- dispatch ----------------------------------------------------------------------------------


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip() or path.name


def _single(record: dict[str, Any], path: Path) -> Loaded:
    return Loaded(articles=[record_to_article(record, str(path))])


LOADERS: dict[str, Callable[[Path], Loaded]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".json": load_json,
    ".jsonl": load_jsonl,
    ".ndjson": load_jsonl,
    ".xml": load_feed,
    ".rss": load_feed,
    ".atom": load_feed,
}

# Files a folder walk leaves alone (they describe a folder rather than report news).
IGNORED_NAMES = re.compile(r"^(readme|license|licence|changelog|about)(\.[a-z]+)?$", re.IGNORECASE)


STREAMED = {load_jsonl}  # read a line at a time, so no size limit applies


def load_file(path: Path, max_bytes: int | None = None) -> Loaded:
    """Articles of one file. Formats read whole are refused above ``max_bytes``, before reading,
    so a huge file costs no memory; JSONL is streamed line by line and has no limit."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        supported = " ".join(sorted(LOADERS))
        raise InputError(str(path), f"unsupported format '{path.suffix or path.name}' (supported: {supported})")
    if max_bytes is not None and loader not in STREAMED:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(str(path), f"cannot read file ({exc.strerror or exc})") from None
        if size > max_bytes:
            raise InputError(
                str(path), f"{size / 2**20:.1f} MB is over the {max_bytes / 2**20:g} MB limit for a file read whole "
                "(BRIEFING_MAX_FILE_MB); split it, or give it as JSONL, one article a line"
            )  # fmt: skip
    return loader(path)


def discover(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """Files to ingest, in a stable order. Folders are walked recursively; hidden entries are skipped."""
    found: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        if not path.exists():
            skipped.append(Skipped(path=str(path), reason="no such file or folder"))
        elif path.is_dir():
            found.extend(_walk(path, skipped))
        else:
            found.append(path)
    return _unique(found), skipped


def _walk(folder: Path, skipped: list[Skipped]) -> Iterator[Path]:
    seen_dirs: set[Path] = set()
    for path in _walk_dirs(folder, seen_dirs, skipped):
        if path.suffix.lower() in LOADERS and not IGNORED_NAMES.match(path.name):
            yield path
        elif not IGNORED_NAMES.match(path.name):
            skipped.append(Skipped(path=str(path), reason=f"unsupported format '{path.suffix or path.name}'"))


def _walk_dirs(folder: Path, seen: set[Path], skipped: list[Skipped]) -> Iterator[Path]:
    real = folder.resolve()
    if real in seen:
        skipped.append(Skipped(path=str(folder), reason="symlink loop, folder already visited"))
        return
    seen.add(real)
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        skipped.append(Skipped(path=str(folder), reason=f"cannot list folder ({exc.strerror or exc})"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk_dirs(entry, seen, skipped)
        elif entry.is_file():
            yield entry


def _unique(paths: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out
