"""Readers for every input format. Each turns one file into RawArticles plus per-record problems.

A loader never raises for one bad record: it reports a ``Skipped`` and goes on. A file that cannot
be read at all raises ``InputError`` naming it. Bytes are decoded by ``briefing.ingest.decoding`` (BOM,
declared charset, UTF-8, detection), fields are mapped by ``briefing.ingest.records``, and HTML pages are
read by ``briefing.ingest.pages``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from briefing.errors import InputError, OptionError
from briefing.ingest.decoding import UNICODE_CODECS, Decoded, decode
from briefing.ingest.pages import fragment_text, page_record
from briefing.ingest.records import CLUSTER_FIELD, headline_cluster, record_to_article
from briefing.models import Notice, RawArticle, Skipped


@dataclass
class Loaded:
    """What a loader found in one file."""

    articles: list[RawArticle] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    unicode: bool = False  # the text was decoded from UTF-8 (or a BOM), not from a code page

    def add(self, record: Any, path: str, line: int | None = None, *, markup: bool | None = None,
            label: str | None = None) -> None:
        """Map one record; a record that cannot be used becomes a ``Skipped`` (``label`` prefixes its reason)."""
        try:
            self.articles.append(record_to_article(record, path, line, markup=markup, unicode_source=self.unicode))
        except InputError as exc:
            reason = f"{label}: {exc.reason}" if label else exc.reason
            self.skipped.append(Skipped(path=path, line=line, reason=reason))


# --- reading bytes -----------------------------------------------------------------------------


def read_text(path: Path, loaded: Loaded, markup: bool = False) -> str:
    """The decoded text of ``path``; a guessed encoding is noted in ``loaded.warnings``."""
    decoded = _decode_file(path, markup)
    loaded.unicode = decoded.encoding in UNICODE_CODECS
    if decoded.warning:
        loaded.warnings.append(Notice(path=str(path), text=decoded.warning))
    return decoded.text


def _decode_file(path: Path, markup: bool) -> Decoded:
    return decode(read_bytes(path), str(path), markup=markup)


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``, decompressed when it is gzip (``.gz``, as ``briefing pull`` keeps what it fetched)."""
    try:
        if is_compressed(path):
            with gzip.open(path, "rb") as handle:
                data = handle.read(GZIP_LIMIT + 1)
            if len(data) > GZIP_LIMIT:
                raise InputError(str(path), f"decompresses to more than {GZIP_LIMIT // 2**20} MB; not read")
            return data
        return path.read_bytes()
    except (OSError, EOFError) as exc:
        raise InputError(str(path), f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None


GZIP_LIMIT = 512 * 2**20  # bytes a .gz file is read to at most (a compressed bomb cannot fill memory)


def is_compressed(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def format_suffix(path: Path) -> str:
    """The suffix that names the format: ``.xml`` for ``feed.xml`` and for ``feed.xml.gz``."""
    return (Path(path.stem) if is_compressed(path) else path).suffix.lower()


# --- formats -----------------------------------------------------------------------------------


def load_jsonl(path: Path) -> Loaded:
    loaded = Loaded()
    try:
        handle = gzip.open(path, "rb") if is_compressed(path) else path.open("rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise InputError(str(path), f"cannot read file ({exc.strerror or exc})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                decoded = decode(raw, f"{path}:{number}")
            except InputError as exc:
                loaded.skipped.append(Skipped(path=str(path), line=number, reason=exc.reason))
                continue
            line, loaded.unicode = decoded.text.strip(), decoded.encoding in UNICODE_CODECS
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                loaded.skipped.append(Skipped(path=str(path), line=number, reason=f"invalid JSON ({exc.msg})"))
                continue
            loaded.add(record, str(path), number)
    return loaded


def load_json(path: Path) -> Loaded:
    """A JSON Feed, a news-API response (``articles``), ``{"items"|"entries"|...: [...]}``, a list, or one object."""
    loaded = Loaded()
    try:
        data = json.loads(read_text(path, loaded))
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON at line {exc.lineno} ({exc.msg})") from None
    records: list[tuple[Any, bool | None]]
    if is_json_feed(data):
        records = [(json_feed_record(item, data), False) for item in data["items"]]
    elif isinstance(data, dict):
        listed = next((data[k] for k in ("items", "articles", "entries", "data", "results") if isinstance(data.get(k), list)), None)
        records = [(r, None) for r in (listed if listed is not None else [data])]
    elif isinstance(data, list):
        records = [(r, None) for r in data]
    else:
        raise InputError(str(path), "expected a JSON object or a list of objects")
    for index, (record, markup) in enumerate(records):
        loaded.add(record, str(path), markup=markup, label=None if len(records) == 1 else f"item {index}")
    return loaded


def is_json_feed(data: Any) -> bool:
    """JSON Feed 1.0 or 1.1 (https://jsonfeed.org/version/1.1): a ``version`` URL and ``items``."""
    return isinstance(data, dict) and "jsonfeed.org/version/" in str(data.get("version", "")) \
        and isinstance(data.get("items"), list)


def json_feed_record(item: Any, feed: dict[str, Any]) -> Any:
    """A JSON Feed item as a plain-text record: ``content_text``, else ``content_html`` as text, else
    ``summary``; the feed title is the publisher."""
    if not isinstance(item, dict):
        return item
    html = item.get("content_html")
    text = item.get("content_text") or (fragment_text(html) if isinstance(html, str) else None) or item.get("summary")
    return {
        "id": item.get("id"),
        "title": item.get("title"),
        "url": item.get("url") or item.get("external_url"),
        "published": item.get("date_published"),
        "updated": item.get("date_modified"),
        "publisher": feed.get("title"),
        "text": text,
    }


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
    loaded = Loaded()
    meta, body = split_front_matter(read_text(path, loaded), str(path))
    title = meta.get("title")
    headline, body = _leading_heading(body)
    record = {**meta, "title": title or headline or _title_from_name(path), "text": markdown_to_text(body)}
    return _single(loaded, record, path, markup=False)


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

    loaded = Loaded()
    lines = read_text(path, loaded).strip().splitlines()
    while lines and (not lines[0].strip() or is_boilerplate(lines[0])):
        lines.pop(0)
    title = _title_from_name(path)
    first = lines[0].strip() if lines else ""
    if first and len(first) <= 150 and not first.endswith((".", "!", "?", ":")) and len(lines) > 1:
        title, lines = first, lines[1:]
    return _single(loaded, {"title": title, "text": "\n".join(lines)}, path, markup=False)


def load_html(path: Path) -> Loaded:
    loaded = Loaded()
    record = page_record(read_text(path, loaded, markup=True), str(path))
    record["title"] = record.get("title") or _title_from_name(path)
    warnings = record.pop("warnings")
    loaded.articles.append(record_to_article(record, str(path), markup=False, warnings=warnings,
                                             unicode_source=loaded.unicode))
    return loaded


EMPTY_FEED = "feed has no entries"


def load_feed(path: Path) -> Loaded:
    """RSS or Atom by feedparser, from text we decoded (feedparser is told it is UTF-8)."""
    import feedparser

    loaded = Loaded()
    text = read_text(path, loaded, markup=True)
    feed = feedparser.parse(_without_encoding_declaration(text).encode("utf-8"),
                            response_headers={"content-type": "application/xml; charset=utf-8"})
    if not feed.entries:
        problem = getattr(feed, "bozo_exception", None)
        reason = f"not an RSS or Atom feed ({problem})" if problem else EMPTY_FEED
        raise InputError(str(path), reason.splitlines()[0])
    publisher = detail_text(feed.feed.get("title_detail"))
    problem = getattr(feed, "bozo_exception", None)
    if problem is not None and "xml" in type(problem).__module__.lower():  # SAX: not well-formed, cut off
        loaded.warnings.append(Notice(path=str(path), text=(
            f"malformed XML ({str(problem).splitlines()[0]}): read the {len(feed.entries)} entries it could")))
    for index, entry in enumerate(feed.entries):
        loaded.add(feed_entry_record(entry, publisher), str(path), markup=False, label=f"entry {index}")
    return loaded


_XML_ENCODING = re.compile(r"""(<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


def _without_encoding_declaration(text: str) -> str:
    return _XML_ENCODING.sub(r"\1", text, count=1)


def feed_entry_record(entry: Any, publisher: str | None) -> dict[str, Any]:
    """A feedparser entry as a plain-text record.

    The body is the first inline ``<content>`` (an Atom ``<content src=...>`` points elsewhere and
    holds nothing), else the summary. HTML-typed fields become plain text; ``type="text"`` stays
    literal. Dates are the raw strings, read by our date parser (feedparser fills in missing
    fields of non-standard dates from today).
    """
    inline = [c for c in entry.get("content") or [] if c.get("value") and not c.get("src")]
    body = inline[0] if inline else entry.get("summary_detail")
    source = entry.get("source", {}) or {}
    html = body.get("value") if body and body.get("type") in ("text/html", "application/xhtml+xml") else None
    return {
        CLUSTER_FIELD: headline_cluster(html),
        "id": entry.get("id"),
        "title": detail_text(entry.get("title_detail")),
        "url": entry.get("link"),
        # An Atom entry may carry only <updated>: the time of the version we have.
        "published": _field(entry, "published") or _field(entry, "updated"),
        "updated": _field(entry, "updated"),
        "publisher": source.get("title") or publisher,
        "text": detail_text(body),
    }


def detail_text(detail: Any) -> str | None:
    """The plain text of a feedparser text construct: HTML types converted, plain text kept as is."""
    if not detail or not detail.get("value"):
        return None
    value = detail["value"]
    if detail.get("type") in ("text/html", "application/xhtml+xml"):
        value = fragment_text(value)
    return value.strip() or None


def _field(entry: Any, name: str) -> Any:
    """An entry field as the feed has it (feedparser maps a missing `updated` to `published`, with a warning)."""
    return dict.get(entry, name)


# --- dispatch ----------------------------------------------------------------------------------


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip() or path.name


def _single(loaded: Loaded, record: dict[str, Any], path: Path, markup: bool | None) -> Loaded:
    loaded.articles.append(record_to_article(record, str(path), markup=markup, unicode_source=loaded.unicode))
    return loaded


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
    ".rdf": load_feed,  # RSS 1.0 and 0.9 are RDF documents, often saved as index.rdf
    ".rss": load_feed,
    ".atom": load_feed,
}

# Files a folder walk leaves alone (they describe a folder rather than report news).
IGNORED_NAMES = re.compile(r"^(readme|license|licence|changelog|about)(\.[a-z]+)?$", re.IGNORECASE)


STREAMED = {load_jsonl}  # read a line at a time, so no size limit applies


def load_file(path: Path, max_bytes: int | None = None) -> Loaded:
    """Articles of one file. Formats read whole are refused above ``max_bytes``, before reading,
    so a huge file costs no memory; JSONL is streamed line by line and has no limit."""
    loader = LOADERS.get(format_suffix(path))
    if loader is None:
        supported = " ".join(sorted(LOADERS))
        raise InputError(str(path), f"unsupported format '{path.suffix or path.name}' (supported: {supported}, "
                         "each also gzipped as .gz)")
    if max_bytes is not None and loader not in STREAMED:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(str(path), f"cannot read file ({exc.strerror or exc})") from None
        if size > max_bytes:
            raise InputError(
                str(path), f"{size / 2**20:.1f} MB is over the {max_bytes / 2**20:g} MB limit for a file read whole "
                "(BRIEFING_MAX_FILE_MB); split it, or give it as JSONL, one article a line"
            )
    return loader(path)


_URL = re.compile(r"^[a-z][a-z0-9+.-]+:/", re.I)
"""A URL given as a path (``Path`` folds its ``//``), but not a Windows drive (``C:/``)."""


def check_inputs(paths: list[Path]) -> None:
    """Before an ingest reads or writes anything: OptionError for a URL of another scheme than
    http(s) (those are fetched by ``briefing.ingest.pull.ingest_inputs``), InputError for a path
    that does not exist."""
    for path in paths:
        if _URL.match(str(path)):
            url = re.sub(r"^([^:/]+:)/(?!/)", r"\1//", str(path))  # as typed: Path folded its "//"
            raise OptionError(f"{url}: `briefing ingest` fetches http and https URLs only; download it first and "
                              "ingest the file")
    for path in paths:
        if not path.exists():
            raise InputError(str(path), "no such file or folder")


def discover(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """Files to ingest, in a stable order. Folders are walked recursively; hidden entries are
    skipped, and so is a path gone since ``check_inputs`` saw it."""
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
        if format_suffix(path) in LOADERS and not IGNORED_NAMES.match(path.name):
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
