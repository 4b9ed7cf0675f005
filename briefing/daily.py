"""Daily briefs: one verified brief per topic over a day's window, written as md/json/html, marked
new or already reported against the previous brief, and listed in a static index.html."""

from __future__ import annotations

import html
import json
import re
import tomllib
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from briefing.brief import write_brief
from briefing.embeddings import Embedder
from briefing.errors import ConfigError, InputError
from briefing.llm import make_embedder
from briefing.models import Briefing, RetrievalFilter
from briefing.render import html_body, html_page, shown, to_markdown, write_atomic
from briefing.settings import Settings
from briefing.store import open_catalog
from briefing.text import text_key

REPEAT_SIMILARITY = 0.9  # cosine of two sentences' embeddings above which the later one is a repeat
NOTHING = "No articles in this window for this topic."
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")


class Topic(BaseModel):
    """One topic of a daily brief, from the topics TOML file."""

    model_config = {"extra": "forbid"}

    title: str
    query: str
    publishers: list[str] = Field(default_factory=list, description="Only these publishers.")
    keywords: list[str] = Field(default_factory=list, description="Only chunks mentioning one of these.")
    length: int = Field(6, ge=1, le=20, description="Most key developments.")


class TopicBrief(BaseModel):
    topic: Topic
    briefing: Briefing
    note: str | None = Field(None, description="Said instead of content when the window holds nothing.")


class DailyBrief(BaseModel):
    date: date
    since: AwareDatetime
    until: AwareDatetime
    timezone: str
    topics: list[TopicBrief]
    undated_left_out: int = Field(description="Articles without a publish date, which no daily window can hold.")
    previous: date | None = Field(None, description="The earlier brief sentences were compared with.")
    only_new: bool = False
    created_at: AwareDatetime


# --- topics and windows ------------------------------------------------------------------------


def example_topics_path() -> Path:
    return Path(str(resources.files("briefing.examples").joinpath("briefs.toml")))


def load_topics(path: Path) -> list[Topic]:
    """Topics from ``[[topic]]`` tables; errors name the file and the topic."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(str(path), f"cannot read topics file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"invalid TOML ({exc})") from None
    raw = data.get("topic")
    if not isinstance(raw, list) or not raw:
        raise InputError(str(path), "no [[topic]] tables")
    topics = []
    for index, item in enumerate(raw, start=1):
        try:
            topics.append(Topic.model_validate(item))
        except ValidationError as exc:
            problem = exc.errors()[0]
            field = ".".join(str(p) for p in problem["loc"]) or "topic"
            raise InputError(str(path), f"topic {index}: {field}: {problem['msg']}") from None
    return topics


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone '{name}' (BRIEFING_TIMEZONE), e.g. UTC or Europe/Kyiv") from None


def daily_window(day: date, tz: ZoneInfo, at: str = "24:00") -> tuple[datetime, datetime]:
    """The 24 hours before ``day`` at ``at`` (local time in ``tz``), as UTC bounds.

    The default "24:00" covers the calendar day; "07:00" covers 07:00 the day before until 07:00.
    """
    try:
        hours, minutes = (int(part) for part in at.split(":"))
        if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
            raise ValueError
    except ValueError:
        raise ConfigError(f"invalid daily time '{at}' (BRIEFING_DAILY_TIME): use HH:MM, 00:00 to 24:00") from None
    end = datetime.combine(day, time(), tz) + timedelta(hours=hours, minutes=minutes)
    return (end - timedelta(days=1)).astimezone(timezone.utc), (end - timedelta(microseconds=1)).astimezone(timezone.utc)


# --- the run ---------------------------------------------------------------------------------


def make_daily(
    day: date,
    topics: list[Topic],
    settings: Settings,
    *,
    out_dir: Path,
    since: datetime | None = None,
    until: datetime | None = None,
    only_new: bool = False,
    provider: str | None = None,
    judge: str | None = None,
    chat_model=None,
    embedder: Embedder | None = None,
) -> DailyBrief:
    """Brief every topic over the day's window and mark what the previous brief already reported."""
    start, end = daily_window(day, zone(settings.timezone), settings.daily_time)
    start, end = since or start, until or end
    embedder = embedder or make_embedder(settings)
    catalog = open_catalog(settings)
    undated = catalog.undated_count() if catalog else 0
    briefs = []
    for topic in topics:
        filters = RetrievalFilter(since=start, until=end, publishers=topic.publishers, keywords=topic.keywords)
        briefing = write_brief(topic.query, settings, provider=provider, judge=judge, filters=filters,
                               chat_model=chat_model, embedder=embedder, length=topic.length)  # fmt: skip
        briefing.hide_repeats = only_new
        briefs.append(TopicBrief(topic=topic, briefing=briefing, note=None if briefing.evidence else NOTHING))
    daily = DailyBrief(date=day, since=start, until=end, timezone=settings.timezone, topics=briefs,
                       undated_left_out=undated, only_new=only_new, created_at=datetime.now(timezone.utc))  # fmt: skip
    previous = previous_brief(out_dir, day)
    if previous is not None:
        daily.previous = previous.date
    mark_novelty(daily, previous, embedder)
    return daily


def previous_brief(out_dir: Path, day: date) -> DailyBrief | None:
    """The most recent daily brief before ``day`` in ``out_dir``, if any."""
    earlier = sorted(p for p in out_dir.glob("*.json") if _DATED.match(p.name) and p.stem < day.isoformat())
    for path in reversed(earlier):
        try:
            return DailyBrief.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            continue  # an unreadable or foreign file is not a previous brief
    return None


def mark_novelty(daily: DailyBrief, previous: DailyBrief | None, embedder: Embedder) -> None:
    """Set ``new`` on every shown sentence: False when it matches a sentence of ``previous``."""
    today = [s for t in daily.topics for s in t.briefing.sentences() if s.shown]
    if not today:
        return
    before = [s.text for t in (previous.topics if previous else []) for s in t.briefing.sentences() if s.shown]
    if not before:
        for sentence in today:
            sentence.new = True
        return
    seen = {text_key(t) for t in before}
    similarity = embedder.embed([s.text for s in today]) @ embedder.embed(before).T
    for sentence, row in zip(today, np.atleast_2d(similarity)):
        sentence.new = not (text_key(sentence.text) in seen or float(row.max()) >= REPEAT_SIMILARITY)


# --- output ----------------------------------------------------------------------------------


def daily_markdown(daily: DailyBrief) -> str:
    lines = [f"# Daily brief · {daily.date.isoformat()}", "", f"_{_window_text(daily)}_", ""]
    for item in daily.topics:
        if item.note:
            lines += [f"## {item.topic.title}", "", item.note, ""]
            continue
        body = to_markdown(item.briefing, level=3)
        lines += [f"## {item.topic.title}", "", body]
    return "\n".join(lines).rstrip() + "\n"


def daily_html(daily: DailyBrief) -> str:
    esc = html.escape
    parts = ['<p><a href="index.html">All briefs</a></p>', f"<h1>Daily brief · {daily.date.isoformat()}</h1>",
             f'<p class="scope">{esc(_window_text(daily))}</p>']  # fmt: skip
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


def write_daily(daily: DailyBrief, out_dir: Path) -> list[Path]:
    """Write `<date>.md`, `.json` and `.html` atomically (replacing a re-run), then the index."""
    stem = out_dir / daily.date.isoformat()
    written = []
    for suffix, text in ((".md", daily_markdown(daily)), (".json", daily.model_dump_json(indent=2) + "\n"),
                         (".html", daily_html(daily))):  # fmt: skip
        write_atomic(stem.with_suffix(suffix), text)
        written.append(stem.with_suffix(suffix))
    write_atomic(out_dir / "index.html", index_html(out_dir))
    return written + [out_dir / "index.html"]


def index_html(out_dir: Path) -> str:
    """A static page listing every daily brief in ``out_dir``, newest first."""
    rows = []
    for path in sorted((p for p in out_dir.glob("*.json") if _DATED.match(p.name)), reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        topics = ", ".join(html.escape(t["topic"]["title"]) for t in data.get("topics", []))
        rows.append(f'<li><a href="{path.stem}.html">{path.stem}</a> — {topics}</li>')
    body = "<h1>Daily briefs</h1>" + (f"<ul>{''.join(rows)}</ul>" if rows else "<p>No briefs yet.</p>")
    return html_page("Daily briefs", body)


def summary(daily: DailyBrief) -> str:
    sentences = [s for t in daily.topics for s in shown(t.briefing)]
    new = sum(s.new is True for s in sentences)
    empty = sum(t.note is not None for t in daily.topics)
    return (f"{len(daily.topics)} topics ({empty} with nothing in the window), {len(sentences)} sentences shown, "
            f"{new} new · {daily.undated_left_out} undated articles left out")  # fmt: skip
