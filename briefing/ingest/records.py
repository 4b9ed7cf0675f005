"""One JSON-like record (from JSON, JSONL, a feed entry or a page) to a RawArticle, or a reason not to.

Field names are mapped from the common ones (RSS exports, JSON Feed, news-API responses). The
text is cleaned of what such sources add (HTML entities, news-API truncation markers) and refused
when it is a bot-check or paywall page, or garbled. A date that cannot be read never drops an
article: it is stored undated, with a warning.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC
from typing import Any

from briefing.dates import parse_datetime
from briefing.errors import InputError
from briefing.ingest.decoding import garbled, mojibake, repaired
from briefing.ingest.pages import fragment_text, plain_text
from briefing.models import RawArticle
from briefing.text import text_key, word_count

TEXT_FIELDS = ("text", "content", "body", "description", "summary", "article", "content_text", "content_html", "articleBody")
TITLE_FIELDS = ("title", "headline", "name")
URL_FIELDS = ("url", "link", "href", "permalink", "external_url", "canonical", "alternate")
DATE_FIELDS = (
    "published", "date", "date_published", "datePublished", "published_at", "publishedAt", "pubDate",
    "pub_date", "datetime", "created_at",
)
UPDATED_FIELDS = ("updated", "date_modified", "dateModified", "modified", "updated_at", "updatedAt")
PUBLISHER_FIELDS = ("publisher", "source", "outlet", "site_name", "site", "feed_title", "origin")
# "origin", "alternate"/"canonical" and {"content": ...} bodies: the Google Reader API's JSON, as Feedly,
# Inoreader, FreshRSS and Miniflux export a stream.
ID_FIELDS = ("id", "guid", "uuid")

# News APIs cut `content` at about 200 characters and append "… [+1210 chars]".
_TRUNCATION = re.compile(r"\s*(…|\.\.\.)?\s*\[\+\d+\s*char(acter)?s?\]\s*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s|$)")

@functools.cache
def _placeholder() -> re.Pattern[str]:
    """A phrase of a bot-check, paywall or cookie-consent page (``lexicon/pages.toml``, ``[placeholder]``).
    Only short texts are tested, so an article that reports on captchas is not mistaken for one."""
    from briefing import lexicon

    return re.compile("|".join(f"(?:{phrase})" for phrase in lexicon.pages()["placeholder"]["phrases"]), re.IGNORECASE)


LOST = "\ufffd"  # the replacement character: a letter some earlier program could not decode
_PLACEHOLDER_WORDS = 80
_WALL_TAIL = 300  # characters at the end of a page's text where a paywall or consent prompt sits


def record_to_article(
    record: Any, path: str, line: int | None = None, *, markup: bool | None = None, warnings: list[str] | None = None,
    unicode_source: bool = False,
) -> RawArticle:
    """Map a record with common field names onto a RawArticle.

    ``markup``: True when the text is HTML, False when it is plain text to keep literally, None to
    tell from the text itself (JSON). ``warnings``: what the loader was already unsure of. Raises
    InputError, naming the path (and line), for a record with no text, a placeholder page, or
    garbled text. ``unicode_source``: the file was valid UTF-8 (or had a BOM), so mojibake in it is
    its own and is repaired where ftfy can, and mixed scripts are no sign of a wrong code page.
    """
    where = path if line is None else f"{path}:{line}"
    if not isinstance(record, dict):
        raise InputError(where, f"expected a JSON object, got {type(record).__name__}")
    warnings = list(warnings or [])
    title = _plain(_as_text(_first(record, TITLE_FIELDS)), markup)
    publisher = _plain(_as_text(_first(record, PUBLISHER_FIELDS)), markup)
    title, text, publisher = _headline_text_outlet(record, title, publisher, markup, where)
    if unicode_source:
        title, text = _mended(title, text, warnings)
    both = f"{title or ''}\n{text}"
    problem = placeholder(title, text) or garbled(both.replace(LOST, "") if unicode_source else both, unicode_source)
    if problem:
        raise InputError(where, f"{problem}; not stored")
    return RawArticle(
        title=title,
        publisher=publisher,
        url=_first_url(_first(record, URL_FIELDS)),
        published=_date(record, DATE_FIELDS, "publish date", "stored undated", warnings),
        updated=_date(record, UPDATED_FIELDS, "update time", "ignored", warnings),
        text=text,
        source_path=path,
        source_id=_as_text(_first(record, ID_FIELDS)),
        line=line,
        warnings=warnings,
    )


def _headline_text_outlet(record: dict[str, Any], title: str | None, publisher: str | None, markup: bool | None,
                          where: str) -> tuple[str | None, str, str | None]:
    """Headline, text and outlet of a record. An aggregator's item (its body a list of outlets'
    headlines) is its own outlet's headline alone; a " - Outlet" suffix naming the publisher is
    dropped from the headline, and a body that is only headline and outlet is the headline."""
    cluster = record.get(CLUSTER_FIELD) or headline_cluster(_as_text(_first(record, TEXT_FIELDS))) \
        or headline_cluster(_as_text(record.get("description")))
    if cluster and title:
        title, outlet = outlet_suffix(title, [publisher, cluster[0]])
        return title, title, outlet or publisher
    text = _body(record, markup, where)
    if not title:
        return title, text, publisher
    headline, outlet = outlet_suffix(title, [publisher])
    if outlet is None:  # the body repeats the headline and names the outlet: an aggregator's item
        headline, outlet = outlet_suffix(title, [text])
        if outlet is not None and " ".join(text.split())[: -len(outlet)].strip() == headline:
            return headline, headline, outlet
        headline = title
    if publisher and text.endswith(publisher) and text[: -len(publisher)].strip() == headline:
        text = headline
    return headline, text, publisher


def _mended(title: str | None, text: str, warnings: list[str]) -> tuple[str | None, str]:
    """Title and text of a Unicode source with the mojibake it holds itself repaired by ftfy where
    it can be (said in ``warnings``), and its replacement characters noted."""
    if not mojibake(f"{title or ''}\n{text}"):
        return title, text
    fixed_text, fixed_title = repaired(text) or text, (repaired(title) if title else None) or title
    if not mojibake(f"{fixed_title or ''}\n{fixed_text}"):
        warnings.append("mojibake in the file itself ('Ã©' for 'é') repaired")
        return fixed_title, fixed_text
    if not mojibake(f"{title or ''}\n{text}".replace(LOST, "")):
        warnings.append(f"the file itself holds {text.count(LOST)} replacement characters ({LOST}) where its "
                        "letters were lost; stored as it is")
    return title, text


CLUSTER_FIELD = "headline_cluster"
"""Set by a loader that found an item's body to be a list of headlines (``headline_cluster``)."""
_LIST_START = re.compile(r"^\s*<(ol|ul)\b[^>]*>\s*<li\b", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s+[-–—|]\s+")  # between a headline and the outlet an aggregator appends


def headline_cluster(body: str | None) -> list[str] | None:
    """The items of a body that is only an HTML list of headlines (a news aggregator's cluster:
    one story as several outlets headlined it), as plain text; None for any other body. Such a
    list is no article text, and only its first item is the item's own outlet's."""
    if not body or not _LIST_START.match(body):
        return None
    items = [fragment_text(part) for part in re.split(r"<li\b[^>]*>", body, flags=re.IGNORECASE)[1:]]
    items = [" ".join(re.sub(r"<[^>]*$", "", item).split()) for item in items]  # a cut tail: "</li><…"
    return [item for item in items if item] or None


def outlet_suffix(title: str, outlets: list[str | None]) -> tuple[str, str | None]:
    """``title`` without a trailing " - Outlet" (or " | Outlet") when that outlet is one of
    ``outlets`` or ends one of them (an aggregator's list item "Headline  Outlet"), and the outlet;
    the title as it is and None otherwise. The longest such suffix wins, so an outlet whose name
    holds " - " itself is cut whole, and a headline holding " - " keeps its own part."""
    known = [" ".join(o.split()).casefold() for o in outlets if o]
    for separator in _SEPARATOR.finditer(title):
        outlet = title[separator.end():].strip()
        key = " ".join(outlet.split()).casefold()
        if key and any(o == key or o.endswith(" " + key) for o in known):
            return title[: separator.start()].strip(), outlet
    return title, None


def walled(text: str) -> str | None:
    """Why a page's text stops at a paywall or consent wall (a wall phrase in its last
    ``_WALL_TAIL`` characters, however long the teaser before it), or None."""
    match = _placeholder().search(text[-_WALL_TAIL:])
    return f"a paywall or consent page, not the whole article ('{match.group(0)}')" if match else None


def placeholder(title: str | None, text: str) -> str | None:
    """Why a short text is a bot-check or paywall page rather than an article, or None."""
    if word_count(text) > _PLACEHOLDER_WORDS:
        return None
    match = _placeholder().search(f"{title or ''}\n{text}")
    return f"a bot-check or paywall page, not the article ('{match.group(0)}')" if match else None


def _body(record: dict[str, Any], markup: bool | None, where: str) -> str:
    raw = _as_text(_first(record, TEXT_FIELDS))
    if not raw:
        raise InputError(where, f"no text (expected one of: {', '.join(TEXT_FIELDS[:4])})")
    text, truncated = strip_truncation(_plain(raw, markup) or "")
    summary = _plain(_as_text(record.get("description")), markup)
    if truncated and summary and text_key(summary) not in text_key(text):
        text = f"{summary}\n\n{text}"  # what was cut is gone; the summary keeps some of it
    return text


def strip_truncation(text: str) -> tuple[str, bool]:
    """``text`` without a news-API truncation marker and the sentence it cut; whether there was one."""
    match = _TRUNCATION.search(text, max(0, len(text) - 80)) if text.rstrip().endswith("]") else None
    if not match:
        return text, False
    kept = text[: match.start()]
    ends = list(_SENTENCE_END.finditer(kept))
    if match.group(1) or not (ends and ends[-1].end() == len(kept.rstrip())):
        kept = kept[: ends[-1].end()] if ends else ""
    return kept.strip(), True


def _plain(value: str | None, markup: bool | None) -> str | None:
    """Plain text from a field. ``markup`` True: HTML converted. False: kept literally. None (JSON):
    converted when it looks like HTML, else HTML entities decoded, since JSON exports often keep
    them ("S&amp;P 500")."""
    if value is None:
        return None
    if markup:
        value = fragment_text(value)
    elif markup is None:
        value = plain_text(value)
    return value.strip() or None


def _date(record: dict[str, Any], names: tuple[str, ...], what: str, outcome: str, warnings: list[str]):
    raw = _first(record, names)
    try:
        parsed = parse_datetime(raw)
        return parsed.astimezone(UTC) if parsed else None
    except ValueError as exc:
        warnings.append(f"{what} {raw!r} not understood ({getattr(exc, 'reason', exc)}); {outcome}")
        return None


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def _first_url(value: Any) -> str | None:
    """A URL field's value; of a list of links (``[{"href": ...}]``), the first."""
    return _as_text(value[0] if isinstance(value, list) and value else value)


def _as_text(value: Any) -> str | None:
    """A string from a field that may hold a string, a {name|title|value: ...} object or a list."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _as_text(_first(value, ("name", "title", "value", "content", "href", "url")))
    if isinstance(value, list):
        parts = [t for v in value if (t := _as_text(v))]
        return "\n\n".join(parts) or None
    return str(value).strip() or None
