"""HTML to article fields: main text and tables by trafilatura, metadata by trafilatura and htmldate.

Which metadata wins. Publish time: the JSON-LD article's ``datePublished``, then the
``article:published_time`` meta tag (the two a page declares as its publish time), then htmldate's
original date from the page (never a modified time), then trafilatura's (htmldate given the URL,
whose date has no time of day), and only when none of those is found, htmldate's extensive search
over the page without its story paragraphs (those over ``BYLINE_WORDS`` words), so it reads
bylines, datelines and sidebars but not a date the story mentions ("the law of 14 March 2019"):
its result comes with a warning, and a 1 January from it is taken for a year alone and refused.
Update time: JSON-LD ``dateModified``, then ``article:modified_time`` or ``og:updated_time``.
Headline: the one the page marks in its body (``MARKED``), the JSON-LD article's ``headline``, then
trafilatura's title as the page declares it; a site-wide <title> gives way (``_unwrapped``).
Publisher: the JSON-LD article's ``publisher.name``, the marked outlet, then trafilatura's site name
(JSON-LD, then ``og:site_name``), each an outlet's name only (``outlet_name``). URL: trafilatura's
(canonical link, ``og:url``), then the JSON-LD article's ``url``.
"""

from __future__ import annotations

import html as entities
import json
import re
from typing import Any

from briefing.dates import parse_datetime
from briefing.errors import InputError
from briefing.text import clean, word_count

MIN_PAGE_WORDS = 20
"""A page with less visible text than this is a caption or a script-rendered shell, not an article."""
HEADLINE_WORD_LETTERS = 5
"""Headline words this long carry its subject ("bridge", "closes"), not its grammar, in the check of
``_about``."""
HEADLINE_SHARE = 0.5
"""Share of the headline's content words a story's text holds; a block with less (a newsletter box
naming only the town) is not the story. A story restates its headline's subject."""
WRAPPER_WORDS = 3
"""Words a site-wide <title> holds besides the site's name ("Home", "Latest news", "News, Sport,
Weather"); a title with more is taken for the story's own."""
BYLINE_WORDS = 12
"""A paragraph of more words is story text, where a date is what the story mentions, not when it was published."""

_DATE_CONFIG: dict[str, Any] = {"original_date": True, "extensive_search": False, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_ENTITY = re.compile(r"&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG = re.compile(r"</?(p|div|br|span|a|b|i|em|strong)\b[^>]*>", re.IGNORECASE)


def page_record(html: str, path: str) -> dict[str, Any]:
    """Title, publisher, URL, publish and update times, text and ``warnings`` (what was unsure) of
    one HTML page, as a record.

    The text is the main text with tables as rows; when that is under ``MIN_PAGE_WORDS`` words, or
    a third of the page's JSON-LD ``articleBody``, the ``articleBody`` is used. Raises InputError
    naming ``path`` when neither holds enough text.
    """
    import trafilatura

    meta = trafilatura.extract_metadata(html, date_config=_DATE_CONFIG)
    page = _Declared.read(html)
    title = page.marked.get("headline") or _string(page.article("headline")) \
        or _as_written(meta.title if meta else None, page.meta("og:title", "twitter:title"))
    title = _unwrapped(title, page, meta.sitename if meta else None)
    warnings: list[str] = []
    text = _main_text(html, title)
    body = page.article_body()
    if body and (_words(text) < MIN_PAGE_WORDS or _words(body) >= 3 * _words(text)):
        text = body
    if _words(text) < MIN_PAGE_WORDS:
        raise InputError(path, f"too little text ({_words(text)} words), not an article page")
    published = page.article("datePublished") or page.meta("article:published_time") or _page_date(html) \
        or (meta.date if meta else None) or _searched_date(html, warnings)
    return {
        "title": title,
        "publisher": outlet_name(page.publisher(), title) or outlet_name(page.marked.get("outlet"), title)
        or outlet_name(_as_written(meta.sitename if meta else None, page.meta("og:site_name")), title),
        "url": (meta.url if meta else None) or page.article_url(),
        "text": text,
        "published": _time(published, "publish date", warnings, missing="no publish date found in the page"),
        "updated": _time(page.article("dateModified") or page.meta("article:modified_time", "og:updated_time"),
                         "update time", warnings),
        "warnings": warnings,
    }


def _page_date(html: str) -> str | None:
    """htmldate's original publish time from the page itself (not its URL)."""
    from htmldate import find_date

    return find_date(html, **_DATE_CONFIG)


def _searched_date(html: str, warnings: list[str]) -> str | None:
    """htmldate's extensive search, the last resort (see the module docstring)."""
    from htmldate import find_date

    found = find_date(_without_story_paragraphs(html), **{**_DATE_CONFIG, "extensive_search": True, "outputformat": "%Y-%m-%d"})
    if not found or found.endswith("-01-01"):  # htmldate completes a year alone with 1 January
        return None
    warnings.append(f"publish date {found} found only in the page's text (htmldate's extensive search)")
    return found


def _without_story_paragraphs(html: str) -> str:
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except Exception:  # lxml raises several unrelated types on junk input
        return ""
    for block in root.xpath("//p|//blockquote|//li"):
        if len(block.text_content().split()) > BYLINE_WORDS:
            block.drop_tree()
    return lxml.html.tostring(root, encoding="unicode")


def _time(value: Any, what: str, warnings: list[str], missing: str | None = None):
    """A datetime from a page's value; a missing or unreadable one is None, with a warning where it matters."""
    if not value:
        if missing:
            warnings.append(f"{missing}; stored undated")
        return None
    try:
        return parse_datetime(value if isinstance(value, str) else str(value))
    except ValueError as exc:
        outcome = "stored undated" if missing else "ignored"
        warnings.append(f"{what} {value!r} in the page not understood ({getattr(exc, 'reason', exc)}); {outcome}")
        return None


def _string(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _unwrapped(title: str | None, page: _Declared, sitename: str | None) -> str | None:
    """The story's headline where ``title`` is a host's wrapper ("Host - Home", "Latest news |
    Host"): once the site's name is taken out, at most ``WRAPPER_WORDS`` words are left, and the
    page names a longer headline in ``<meta name="title">`` or its first ``<h1>``."""
    site = page.meta("og:site_name") or page.publisher() or sitename
    if not title or not site or site.casefold() not in title.casefold():
        return title
    rest = re.sub(re.escape(site), " ", title, flags=re.IGNORECASE)
    if len(re.findall(r"\w+", rest)) > WRAPPER_WORDS:
        return title
    for candidate in (page.meta("title"), page.marked.get("h1")):
        if candidate and site.casefold() not in candidate.casefold() and len(candidate.split()) > WRAPPER_WORDS:
            return candidate
    return title


def _as_written(value: str | None, declared: str | None) -> str | None:
    """trafilatura's ``value`` as the page declares it, when the two are the same text but for case
    and invisible format characters (trafilatura title-cases a site name in a caseless script and
    drops the zero-width non-joiners Persian writes inside words)."""
    if value and declared and _same_text(value, declared):
        return declared.strip()
    return value


def _same_text(first: str, second: str) -> bool:
    import unicodedata

    def key(text: str) -> str:
        return " ".join("".join(ch for ch in text if unicodedata.category(ch) != "Cf").casefold().split())

    return key(first) == key(second)


def _has_class(name: str) -> str:
    return f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


MARKED = {
    "headline": (_has_class("entry-title"), "//*[@itemprop='headline']"),  # hNews / hAtom, schema.org microdata
    "outlet": (_has_class("source-org"), "//*[@itemprop='publisher']//*[@itemprop='name']"),
    "h1": ("//h1",),  # the page's first top heading, for a wrapper <title> (``_unwrapped``)
}
"""Where a page marks its story's headline and outlet in its body: the hNews microformat and
schema.org microdata, each a published standard for news pages."""
_COPYRIGHT = re.compile(r"\bcopyright\b|\(c\)|©|\ball rights reserved\b|\b(19|20)\d\d\b", re.IGNORECASE)


def outlet_name(candidate: str | None, title: str | None) -> str | None:
    """A page's publisher candidate as an outlet's name: a copyright line keeps only the name
    ("Copyright (c) CondéNet 2015" is CondéNet); a bare year, the headline itself or a URL is none."""
    if not candidate:
        return None
    name = " ".join(_COPYRIGHT.sub(" ", candidate).split()).strip(" .,;:-|") if _COPYRIGHT.search(candidate) else candidate.strip()
    if not name or not re.search(r"[^\W\d_]", name) or name.startswith(("http://", "https://")):
        return None
    if title and name.casefold() == title.strip().casefold():
        return None
    return name


class _Declared:
    """What a page declares about itself: its JSON-LD blocks and its meta tags."""

    def __init__(self, blocks: list[Any], metas: dict[str, str], marked: dict[str, str] | None = None):
        self.blocks = blocks
        self.metas = metas
        self.marked = marked or {}
        """The headline and outlet the page marks in its body (``MARKED``): a wire page's real headline
        under a site-wide <title>."""

    @classmethod
    def read(cls, html: str) -> _Declared:
        import lxml.html

        try:
            root = lxml.html.document_fromstring(html)
        except Exception:  # lxml raises several unrelated types on junk input
            return cls([], {})
        blocks = []
        for script in root.xpath("//script[@type='application/ld+json']"):
            try:
                blocks.append(json.loads(script.text_content(), strict=False))
            except ValueError:
                continue
        metas: dict[str, str] = {}
        for tag in root.xpath("//meta[@content]"):
            name = (tag.get("property") or tag.get("name") or "").strip().lower()
            metas.setdefault(name, tag.get("content").strip())
        marked = {}
        for field, paths in MARKED.items():
            found = next((hit for path in paths for hit in root.xpath(path)), None)
            text = " ".join(found.text_content().split()) if found is not None else ""
            if text:
                marked[field] = text
        return cls(blocks, metas, marked)

    def meta(self, *names: str) -> str | None:
        return next((self.metas[n] for n in names if self.metas.get(n)), None)

    def article(self, key: str) -> Any:
        """``key`` of the first article object (NewsArticle, Article, BlogPosting...) in the
        JSON-LD, also inside ``@graph``, which htmldate does not look into."""
        for item in _objects(self.blocks):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and (k.endswith("Article") or k == "BlogPosting") for k in kinds) and item.get(key):
                return item[key]
        return None

    def article_body(self) -> str | None:
        """The longest ``articleBody`` in the JSON-LD, as plain text; None if there is none."""
        bodies = [b for b in (i["articleBody"] for i in _objects(self.blocks) if "articleBody" in i)
                  if isinstance(b, str) and b.strip()]
        return plain_text(max(bodies, key=len)) if bodies else None

    def publisher(self) -> str | None:
        """``publisher.name`` of the page's article object."""
        publisher = self.article("publisher")
        publisher = publisher[0] if isinstance(publisher, list) and publisher else publisher
        name = publisher.get("name") if isinstance(publisher, dict) else publisher
        return name.strip() if isinstance(name, str) and name.strip() else None

    def article_url(self) -> str | None:
        """The article object's ``url`` or ``mainEntityOfPage`` (a URL or ``{"@id": URL}``)."""
        for key in ("url", "mainEntityOfPage"):
            value = self.article(key)
            value = value.get("@id") if isinstance(value, dict) else value
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                return value
        return None


def _objects(data: Any):
    """Every JSON object in nested JSON-LD (lists, ``@graph``)."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _objects(value)
    elif isinstance(data, list):
        for item in data:
            yield from _objects(item)


def _main_text(html: str, title: str | None) -> str:
    """The page's story: trafilatura favouring precision, read again favouring recall when what
    precision kept is no story: too short once boilerplate is dropped, or a block (a newsletter
    box, a comment policy) holding too few of the headline's words (``_about``) while recall's text
    holds enough."""
    text = _extract(html, precision=True)
    if word_count(clean(text)) < MIN_PAGE_WORDS or not _about(text, title):
        recalled = _extract(html, precision=False)
        if word_count(clean(text)) < MIN_PAGE_WORDS or _about(recalled, title):
            text = recalled
    first, _, rest = text.partition("\n")
    if title and first.strip().casefold() == title.strip().casefold():
        text = rest  # trafilatura repeats the headline as the first line
    return table_rows_as_text(text)


def _about(text: str, title: str | None) -> bool:
    """Whether ``text`` holds at least ``HEADLINE_SHARE`` of the headline's content words (words of
    ``HEADLINE_WORD_LETTERS`` letters or more); True when the headline has too few such words to
    tell (or none, in a script written without spaces)."""
    words = {w for w in re.findall(r"[^\W\d_]+", (title or "").casefold()) if len(w) >= HEADLINE_WORD_LETTERS}
    if len(words) < 3:
        return True
    return len(words & set(re.findall(r"[^\W\d_]+", text.casefold()))) >= HEADLINE_SHARE * len(words)


def _extract(html: str, precision: bool) -> str:
    """trafilatura's main text, favouring precision (less boilerplate) or recall (less lost)."""
    import trafilatura

    return trafilatura.extract(html, include_comments=False, include_tables=True, include_images=False,
                               favor_precision=precision, favor_recall=not precision) or ""


def table_rows_as_text(text: str) -> str:
    """trafilatura's table rows (``| a | b |``) as one line each: ``header: cell; header: cell``.

    Without a header row (no ``|---|`` rule under the first row) the cells are joined by "; ".
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith("|"):
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].lstrip().startswith("|"):
            j += 1
        out.extend(_table_lines(lines[i:j]))
        i = j
    return "\n".join(out)


def _table_lines(rows: list[str]) -> list[str]:
    header: list[str] | None = None
    if len(rows) > 1 and _TABLE_RULE.match(rows[1].strip()):
        header, rows = _cells(rows[0]), rows[2:]
    lines = []
    for row in rows:
        cells = _cells(row)
        if header and len(header) == len(cells):
            pairs = [f"{name}: {cell}" if name else cell for name, cell in zip(header, cells) if cell]
        else:
            pairs = [cell for cell in cells if cell]
        if pairs and not _TABLE_RULE.match(row.strip()):
            lines.append("; ".join(pairs))
    return lines


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def fragment_text(fragment: str) -> str:
    """Visible text of an HTML snippet (feed summaries), one paragraph per block element."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return fragment
    for bad in root.xpath("//script|//style|//iframe|//noscript"):
        bad.drop_tree()
    for block in root.xpath("//p|//div|//br|//li|//h1|//h2|//h3|//h4|//blockquote|//tr"):
        block.tail = "\n\n" + (block.tail or "")
    return root.text_content()


def plain_text(value: str) -> str:
    """Plain text from a string that may hold HTML tags or entities (JSON-LD, JSON exports)."""
    if _TAG.search(value):
        return fragment_text(value).strip()
    return _ENTITY.sub(lambda m: entities.unescape(m.group(0)), value).strip()


def _words(text: str | None) -> int:
    return word_count(text) if text else 0
