"""Render a Briefing or a daily brief as Markdown (footnotes), JSON (the whole audit record) or one
HTML page; ``FORMATS`` maps each format to its file suffix and renderers.

Rendering is pure: text in, text out, nothing read or written. This module imports only
``briefing.models``, and that inside the functions that need it at run time, so that reading
``FORMATS`` (the command line's ``--format`` help) stays instant.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefing.models import Briefing, CheckedSentence, Citation, DailyBrief, Evidence

NO_EVIDENCE = "No articles match this query in the selected window and sources."
NOTHING_VERIFIED = "No sentence passed the check against the evidence; nothing is shown (the footer counts what was removed)."
FROM_SOURCES = "Written from the sources' own sentences (no language model)."
DRAFTED_BY = "Drafted by {model}; every sentence checked against its sources."
NONE_KEPT = "The sources' own sentences: none that {model} drafted passed the check against its sources."


def nothing_verified(briefing: Briefing) -> bool:
    """Evidence was found and no abstention given, yet no sentence is shown: say so, never print an empty brief."""
    return bool(briefing.evidence) and not briefing.abstained and not any(s.shown for s in briefing.sentences())


@dataclass
class Footnotes:
    """Footnote numbers by article, in order of first citation."""

    numbers: dict[str, int]
    articles: list[Evidence]

    @classmethod
    def of(cls, briefing: Briefing) -> Footnotes:
        by_key = {e.key: e for e in briefing.evidence}
        numbers: dict[str, int] = {}
        articles: list[Evidence] = []
        for sentence in briefing.shown():
            for citation in valid(sentence):
                evidence = by_key[citation.key]
                if evidence.article_id not in numbers:
                    numbers[evidence.article_id] = len(numbers) + 1
                    articles.append(evidence)
        return cls(numbers, articles)

    def markers(self, sentence: CheckedSentence, by_key: dict[str, Evidence]) -> list[int]:
        return list(dict.fromkeys(self.numbers[by_key[c.key].article_id] for c in valid(sentence)))

    def keys_of(self, article_id: str, briefing: Briefing) -> list[str]:
        cited = {c.key for s in briefing.shown() for c in valid(s)}
        return [e.key for e in briefing.evidence if e.article_id == article_id and e.key in cited]


def novelty(sentence: CheckedSentence) -> str:
    return "" if sentence.new is None else "(new) " if sentence.new else "(reported) "


def valid(sentence: CheckedSentence) -> list[Citation]:
    return [c for c in sentence.citations if c.valid]


def without_model(briefing: Briefing) -> bool:
    """Written by the extractive provider: every sentence is a source's own."""
    return briefing.provider == "extractive"


def provenance(briefing: Briefing) -> str | None:
    """How the shown text was written, in words; None when nothing is shown."""
    if not briefing.shown():
        return None
    if without_model(briefing):
        return FROM_SOURCES
    return (DRAFTED_BY if briefing.counts()["checked"] else NONE_KEPT).format(model=briefing.model)


def footer(briefing: Briefing) -> str:
    """What verification did, in words that tell quoted source sentences from checked model sentences."""
    n = briefing.counts()
    removed = f"{n['dropped']} removed (unsupported, uncited or a repeat)" if n["dropped"] else ""
    if without_model(briefing):
        kept = f"{_count(n['quoted'], 'sentence')}, each quoted word for word from its source" if n["quoted"] else "no sentence shown"
        return " · ".join(p for p in (kept, removed, f"judge={briefing.judge}", "no language model") if p)
    parts = []
    if n["checked"]:
        rewritten = f" ({n['repaired']} rewritten after failing the check)" if n["repaired"] else ""
        parts.append(f"{n['checked']} written by {briefing.model} and checked against their sources{rewritten}")
    if n["quoted"]:
        instead = f" ({n['replaced']} in place of drafted sentences that failed the check)" if n["replaced"] else ""
        parts.append(f"{n['quoted']} quoted word for word from the sources{instead}")
    kept = _count(n["quoted"] + n["checked"], "sentence") + (": " + "; ".join(parts) if parts else " shown")
    return " · ".join(p for p in (kept, removed, f"judge={briefing.judge}", f"model={briefing.model}") if p)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def is_quote(sentence: CheckedSentence, briefing: Briefing) -> bool:
    """Shown as a quotation: a source's own sentence in a brief a model drafted (in an extractive
    brief every sentence is one, and the provenance line says so)."""
    return sentence.quotation or (sentence.origin == "source" and not without_model(briefing))


def title(briefing: Briefing) -> str:
    if briefing.kind == "answer":
        return f"Q: {briefing.query}"
    head = briefing.headline
    return head.text if head and briefing.is_shown(head) else f"Briefing: {briefing.query}"


def scope(briefing: Briefing) -> str:
    parts = [f"“{briefing.query}”"]
    if briefing.filters.since or briefing.filters.until:
        read = briefing.question
        origin = f" (from the question: “{read.window_phrase}”)" if read and read.window_applied else ""
        parts.append(f"published {_utc(briefing.filters.since)} – {_utc(briefing.filters.until)} UTC{origin}")
    if briefing.filters.source:
        parts.append(f"source: {briefing.filters.source}")
    parts.append(_count(len(briefing.evidence), "evidence chunk"))
    return " · ".join(parts)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "…"


def _sentence_text(sentence: CheckedSentence, by_key: dict[str, Evidence], quote: bool) -> str:
    if not quote:
        return sentence.text
    publisher = by_key[valid(sentence)[0].key].publisher or "source"
    return f"“{sentence.text}” ({publisher})"


def _date(evidence: Evidence) -> str:
    return evidence.published.strftime("%Y-%m-%d") if evidence.published else "undated"


# --- Markdown --------------------------------------------------------------------------------


def to_markdown(briefing: Briefing, level: int = 1) -> str:
    """Markdown; ``level`` sets the top heading level (daily briefs nest topics one level down)."""
    h1, h2 = "#" * level, "#" * (level + 1)
    notes = Footnotes.of(briefing)
    by_key = {e.key: e for e in briefing.evidence}
    head = briefing.headline
    heading = f"{h1} {title(briefing)}" + (_md_markers(notes.markers(head, by_key)) if head and briefing.is_shown(head) else "")
    lines = [heading, "", f"_{scope(briefing)}_", ""]
    if how := provenance(briefing):
        lines += [how, ""]
    if not briefing.evidence and not briefing.abstained:
        lines += [NO_EVIDENCE, ""]
    if nothing_verified(briefing):
        lines += [NOTHING_VERIFIED, ""]
    if briefing.abstained:
        lines += _md_abstention(briefing, h2)
    for section in briefing.sections:
        rows = [s for s in section.sentences if briefing.is_shown(s)]
        if not rows:
            continue
        lines += [f"{h2} {section.title}", ""]
        lines += [f"- {novelty(s)}{_sentence_text(s, by_key, is_quote(s, briefing))}{_md_markers(notes.markers(s, by_key))}"
                  for s in rows]
        lines.append("")
    if briefing.unanswered and not briefing.abstained:
        lines += [*not_stated(briefing), ""]
    if notes.articles:
        lines += [f"{h2} Sources", ""]
        for number, evidence in enumerate(notes.articles, start=1):
            keys = ", ".join(notes.keys_of(evidence.article_id, briefing))
            url = f" <{evidence.url}>" if evidence.url else ""
            lines.append(f"{number}. {evidence.publisher or 'Unknown'}, “{evidence.title}”, {_date(evidence)}.{url} (keys: {keys})")
        lines.append("")
    lines += ["---", footer(briefing), ""]
    return "\n".join(lines)


def not_stated(briefing: Briefing) -> list[str]:
    """What the reader is told no source states: why an answer abstained, or each part of the
    question no source answers."""
    if briefing.abstained and briefing.abstain_reason:
        return [briefing.abstain_reason[0].upper() + briefing.abstain_reason[1:] + "."]
    return [f"The sources don't say: {part}" for part in briefing.unanswered]


def _md_abstention(briefing: Briefing, h2: str) -> list[str]:
    from briefing.models import ABSTAIN

    lines = [ABSTAIN, "", *(f"_{line}_" for line in not_stated(briefing)), ""]
    if briefing.evidence:
        lines += [f"{h2} Closest sources found", ""]
        for number, evidence in enumerate(_closest(briefing), start=1):
            url = f" <{evidence.url}>" if evidence.url else ""
            lines.append(f"{number}. {evidence.publisher or 'Unknown'}, “{evidence.title}”, {_date(evidence)}.{url}")
        lines.append("")
    return lines


def _closest(briefing: Briefing, limit: int = 3) -> list[Evidence]:
    """One chunk per article, best first: the sources nearest to an unanswered question."""
    seen: dict[str, Evidence] = {}
    for evidence in sorted(briefing.evidence, key=lambda e: -(e.similarity or 0.0)):
        seen.setdefault(evidence.article_id, evidence)
    return list(seen.values())[:limit]


def _md_markers(numbers: list[int]) -> str:
    return "".join(f" [{n}]" for n in numbers)


# --- JSON ------------------------------------------------------------------------------------


def to_json(briefing: Briefing) -> str:
    return briefing.model_dump_json(indent=2) + "\n"


def json_schema() -> str:
    from briefing.models import Briefing

    return json.dumps(Briefing.model_json_schema(), indent=2) + "\n"


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font:16px/1.55 Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.6rem;line-height:1.25}h2{font-size:1.1rem;margin-top:1.8rem;border-bottom:1px solid #ddd}
.scope,.footer,.provenance{color:#666;font-size:.9rem}.quote{font-style:italic}
a.cite{position:relative;text-decoration:none;font-size:.75em;vertical-align:super;color:#0a58ca;cursor:pointer}
a.cite .tip{display:none;position:absolute;left:0;top:1.6em;z-index:9;width:22rem;background:#fffbe6;
border:1px solid #e0c97a;padding:.5rem .6rem;font:13px/1.4 system-ui,sans-serif;color:#222;box-shadow:0 2px 8px #0002}
a.cite:hover .tip,a.cite:focus .tip{display:block}
ol.sources li{margin-bottom:.4rem}ol.sources li:target{background:#fffbe6}
details{margin-top:1.5rem;color:#555;font-size:.9rem}li.reported{color:#666}img{max-width:100%}
"""


def to_html(briefing: Briefing) -> str:
    return html_page(title(briefing), html_body(briefing))


def html_page(page_title: str, body: str, extra_css: str = "") -> str:
    """A whole page around ``body``; ``extra_css`` follows the house style (evaluation reports widen it)."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(page_title)}</title>"
        f"<style>{_CSS}{extra_css}</style></head><body>{body}</body></html>\n"
    )


def html_body(briefing: Briefing, level: int = 1, anchor: str = "source") -> str:
    """The brief as HTML; ``anchor`` prefixes source ids so several briefs can share one page."""
    notes = Footnotes.of(briefing)
    by_key = {e.key: e for e in briefing.evidence}
    esc = html.escape
    h1, h2 = f"h{level}", f"h{level + 1}"
    head = briefing.headline
    marks = _html_markers(head, notes, by_key, anchor) if head and briefing.is_shown(head) else ""
    body = [f"<{h1}>{esc(title(briefing))}{marks}</{h1}>", f'<p class="scope">{esc(scope(briefing))}</p>']
    if how := provenance(briefing):
        body.append(f'<p class="provenance">{esc(how)}</p>')
    if not briefing.evidence and not briefing.abstained:
        body.append(f"<p>{esc(NO_EVIDENCE)}</p>")
    if nothing_verified(briefing):
        body.append(f"<p>{esc(NOTHING_VERIFIED)}</p>")
    if briefing.abstained:
        from briefing.models import ABSTAIN

        closest = "".join(f"<li>{esc(e.publisher or 'Unknown')}, “{esc(e.title)}”, {_date(e)}</li>" for e in _closest(briefing))
        body.append(f"<p>{esc(ABSTAIN)}</p>" + (f"<{h2}>Closest sources found</{h2}><ol>{closest}</ol>" if closest else ""))
    body += [f'<p class="unanswered">{esc(line)}</p>' for line in not_stated(briefing)]
    for section in briefing.sections:
        rows = [s for s in section.sentences if briefing.is_shown(s)]
        if rows:
            items = "".join(f"<li{_novelty_class(s)}>{esc(novelty(s))}{_html_sentence(s, by_key, is_quote(s, briefing))}"
                            f"{_html_markers(s, notes, by_key, anchor)}</li>" for s in rows)
            body.append(f"<{h2}>{esc(section.title)}</{h2}><ul>{items}</ul>")
    if notes.articles:
        sources = "".join(_html_source(n, e, anchor) for n, e in enumerate(notes.articles, start=1))
        body.append(f'<{h2}>Sources</{h2}><ol class="sources">{sources}</ol>')
    dropped = [s for s in briefing.sentences() if not s.shown]
    if dropped:
        removed = "".join(f"<li>{esc(s.text)} — <em>{esc(s.verdict.reason)}</em></li>" for s in dropped)
        body.append(f"<details><summary>{len(dropped)} sentences removed by the check</summary><ul>{removed}</ul></details>")
    body.append(f'<p class="footer">{esc(footer(briefing))}</p>')
    return "".join(body)


def _novelty_class(sentence: CheckedSentence) -> str:
    return "" if sentence.new is None else ' class="new"' if sentence.new else ' class="reported"'


def _html_sentence(sentence: CheckedSentence, by_key: dict[str, Evidence], quote: bool) -> str:
    text = html.escape(_sentence_text(sentence, by_key, quote))
    return f'<span class="quote">{text}</span>' if quote else text


def _html_markers(sentence: CheckedSentence, notes: Footnotes, by_key: dict[str, Evidence], anchor: str = "source") -> str:
    out = []
    for citation in valid(sentence):
        evidence = by_key[citation.key]
        number = notes.numbers[evidence.article_id]
        tip = f"“{citation.quote}” — {evidence.publisher or 'Unknown'}, {_date(evidence)} ({citation.key})"
        out.append(f'<a class="cite" href="#{anchor}-{number}" data-key="{html.escape(citation.key)}">[{number}]'
                   f'<span class="tip">{html.escape(tip)}</span></a>')
    return "".join(dict.fromkeys(out))


def _html_source(number: int, evidence: Evidence, anchor: str = "source") -> str:
    esc = html.escape
    link = f' <a href="{esc(evidence.url)}">{esc(evidence.url)}</a>' if evidence.url else ""
    return f'<li id="{anchor}-{number}">{esc(evidence.publisher or "Unknown")}, “{esc(evidence.title)}”, {_date(evidence)}.{link}</li>'


# --- daily briefs --------------------------------------------------------------------------


def daily_markdown(daily: DailyBrief) -> str:
    lines = [f"# Daily brief · {daily.date.isoformat()}", "", f"_{_window_text(daily)}_", ""]
    for item in daily.topics:
        lines += [f"## {item.topic.title}", ""]
        lines += [item.note, ""] if item.note else [to_markdown(item.briefing, level=3)]
    return "\n".join(lines).rstrip() + "\n"


def daily_json(daily: DailyBrief) -> str:
    return daily.model_dump_json(indent=2) + "\n"


def daily_html(daily: DailyBrief) -> str:
    esc = html.escape
    parts = ['<p><a href="index.html">All briefs</a></p>', f"<h1>Daily brief · {daily.date.isoformat()}</h1>",
             f'<p class="scope">{esc(_window_text(daily))}</p>']
    for number, item in enumerate(daily.topics, start=1):
        parts.append(f'<section id="topic-{number}"><h2>{esc(item.topic.title)}</h2>')
        parts.append(f"<p>{esc(item.note)}</p>" if item.note else html_body(item.briefing, level=3, anchor=f"t{number}-source"))
        parts.append("</section>")
    return html_page(f"Daily brief {daily.date.isoformat()}", "".join(parts))


def _window_text(daily: DailyBrief) -> str:
    fmt = "%Y-%m-%d %H:%M"
    text = f"Published {daily.since.strftime(fmt)} – {daily.until.strftime(fmt)} UTC"
    if daily.previous:
        text += f" · compared with the brief of {daily.previous.isoformat()}"
    if daily.undated_left_out:
        text += f" · {daily.undated_left_out} undated articles left out"
    return text


def index_html(entries: list[tuple[str, list[str]]]) -> str:
    """The static page listing daily briefs: ``entries`` are (date stem, topic titles), newest first."""
    rows = [f'<li><a href="{stem}.html">{stem}</a> — {", ".join(html.escape(t) for t in titles)}</li>' for stem, titles in entries]
    body = "<h1>Daily briefs</h1>" + (f"<ul>{''.join(rows)}</ul>" if rows else "<p>No briefs yet.</p>")
    return html_page("Daily briefs", body)


# --- the format table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """An output format: the suffix it writes, the suffixes that name it (``-o FILE`` alone picks
    the format by them) and how it renders a briefing and a daily brief."""

    suffix: str
    briefing: Callable[[Briefing], str]
    daily: Callable[[DailyBrief], str]
    aliases: tuple[str, ...] = ()

    @property
    def suffixes(self) -> tuple[str, ...]:
        return (self.suffix, *self.aliases)


FORMATS: dict[str, Format] = {
    "md": Format(".md", to_markdown, daily_markdown, aliases=(".markdown",)),
    "json": Format(".json", to_json, daily_json),
    "html": Format(".html", to_html, daily_html, aliases=(".htm",)),
}
"""Every output format. Adding one is a row here and its two renderers; the CLI help, ``render``
and the daily writer read this table."""


def format_help() -> str:
    return " | ".join(FORMATS)


def unknown_format(fmt: str) -> str | None:
    """Why ``fmt`` is not a format, or None when it is one."""
    return None if fmt in FORMATS else f"unknown format '{fmt}' (choose {', '.join(FORMATS)})"


def render(briefing: Briefing, fmt: str) -> str:
    """``briefing`` as ``fmt``, a key of ``FORMATS``; ValueError naming the choices otherwise."""
    return _format(fmt).briefing(briefing)


def render_daily(daily: DailyBrief, fmt: str) -> str:
    return _format(fmt).daily(daily)


def _format(fmt: str) -> Format:
    if problem := unknown_format(fmt):
        raise ValueError(problem)
    return FORMATS[fmt]
