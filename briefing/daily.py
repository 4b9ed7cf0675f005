"""Daily briefs: one verified brief per topic over a day's window, marked new or already reported
against the previous brief. ``run_daily`` settles the defaults (today in BRIEFING_TIMEZONE, the
topics file, the output folder); ``output.files.write_daily`` writes the result."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from pydantic import ValidationError

from briefing.answer.stories import Gathered
from briefing.dates import retrieval_filter
from briefing.embedding import Embedder
from briefing.errors import ConfigError, InputError, OptionError
from briefing.models import DailyBrief, Request, Topic, TopicBrief
from briefing.options import resolve_publisher
from briefing.output.files import DATED
from briefing.pipeline import Components, check_not_empty, gather_stories, run
from briefing.settings import Settings
from briefing.text import text_key

log = logging.getLogger(__name__)

REPEAT_SIMILARITY = 0.9  # cosine of two sentences' embeddings above which the later one is a repeat
NOTHING = "No article in this window is about this topic."
ELSEWHERE = "Its stories in this window fit another topic better and are shown there."


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
            field_name = ".".join(str(p) for p in problem["loc"]) or "topic"
            raise InputError(str(path), f"topic {index}: {field_name}: {problem['msg']}") from None
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
    return (end - timedelta(days=1)).astimezone(UTC), (end - timedelta(microseconds=1)).astimezone(UTC)


# --- the run ---------------------------------------------------------------------------------


@dataclass
class DailyRun:
    """A daily brief and the folder it belongs in."""

    daily: DailyBrief
    out_dir: Path


def run_daily(components: Components, *, day: str | None = None, topics: Path | None = None, out: Path | None = None,
              since: str | None = None, until: str | None = None, only_new: bool = False,
              notify: Callable[[str], None] = log.info) -> DailyRun:
    """The daily brief as a command asks for it: ``day`` YYYY-MM-DD (default: today in
    BRIEFING_TIMEZONE), ``topics`` a TOML file (default: BRIEFING_HOME/briefs.toml, else the
    example, said through ``notify``), ``out`` the briefs folder (default: BRIEFING_HOME/briefs)."""
    settings = components.settings
    when = _day(day, settings)  # options first: a usage error says nothing else
    window = retrieval_filter(since, until, zone=settings.zone)
    topics_file = _topics_file(topics, settings, notify)
    out_dir = out or settings.home / "briefs"
    topics_list = with_store_publishers(load_topics(topics_file), components.store.publishers(), topics_file)
    daily = make_daily(when, topics_list, components, out_dir=out_dir, since=window.since, until=window.until,
                       only_new=only_new)
    return DailyRun(daily=daily, out_dir=out_dir)


def with_store_publishers(topics: list[Topic], publishers: list[str], path: Path) -> list[Topic]:
    """The topics with each ``publishers`` entry as the store names it (``options.resolve_publisher``);
    InputError naming the file and topic for a name the store does not hold, rather than a topic
    that is silently empty. Unchanged when the store is empty."""
    if not publishers:
        return topics
    out = []
    for index, topic in enumerate(topics, start=1):
        try:
            names = [resolve_publisher(name, publishers) for name in topic.publishers]
        except ValueError as exc:
            raise InputError(str(path), f"topic {index}: publishers: {exc}") from None
        out.append(topic.model_copy(update={"publishers": names}))
    return out


def _day(value: str | None, settings: Settings) -> date:
    if value is None:
        return datetime.now(zone(settings.timezone)).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OptionError(f"invalid --date {value!r}: use YYYY-MM-DD") from None


def _topics_file(topics: Path | None, settings: Settings, notify: Callable[[str], None]) -> Path:
    if topics is not None:
        return topics
    own = settings.home / "briefs.toml"
    if own.exists():
        return own
    example = example_topics_path()
    notify(f"no {own}: using the example topics ({example}); copy that file there to edit")
    return example


def make_daily(day: date, topics: list[Topic], components: Components, *, out_dir: Path, since: datetime | None = None,
               until: datetime | None = None, only_new: bool = False) -> DailyBrief:
    """Brief every topic over the day's window (or ``since``/``until``) and mark what the previous
    brief in ``out_dir`` already reported. Each topic's stories are gathered first; a story that
    several topics found goes to the one it fits best, and stories the previous brief reported
    rank lower."""
    settings = components.settings
    start, end = daily_window(day, zone(settings.timezone), settings.daily_time)
    start, end = since or start, until or end
    previous = previous_brief(out_dir, day)
    check_not_empty(components.store)
    requests = [Request(kind="brief", query=topic.query, length=topic.length,
                        filters=retrieval_filter(start, end, publishers=topic.publishers, keywords=topic.keywords))
                for topic in topics]
    reported = reported_sentences(previous)
    found = [gather_stories(request, components, reported) for request in requests]
    briefs = []
    for topic, request, own, stories in zip(topics, requests, found, exclusive(found)):
        briefing = run(request, components, stories)
        briefing.hide_repeats = only_new
        note = None if briefing.evidence else ELSEWHERE if own.stories else NOTHING
        briefs.append(TopicBrief(topic=topic, briefing=briefing, note=note))
    undated = components.store.catalog.undated_count()
    daily = DailyBrief(date=day, since=start, until=end, timezone=settings.timezone, topics=briefs,
                       undated_left_out=undated, only_new=only_new, created_at=datetime.now(UTC))
    if previous is not None:
        daily.previous = previous.date
    mark_novelty(daily, previous, components.embedder)
    return daily


def reported_sentences(previous: DailyBrief | None) -> list[str]:
    """The sentences ``previous`` showed, every topic's: a story close to one is not news."""
    if previous is None:
        return []
    return [s.text for topic in previous.topics for s in topic.briefing.shown()]


def exclusive(gathered: list[Gathered]) -> list[Gathered]:
    """Each topic's stories less the articles that fit another topic better: an article found by
    several topics belongs to the one its chunks are closest to (their highest cosine to the query;
    then the gate's probability; then the earlier topic). A story keeps its other articles; one
    left with none goes."""
    best: dict[str, tuple[float, float, int]] = {}
    for index, found in enumerate(gathered):
        for story in found.stories:
            for article in story.article_ids:
                own = [c for c in found.chunks_of(story) if c.article_id == article]
                fit = (max((c.similarity or 0.0) for c in own), max(c.score for c in own), -index)
                if article not in best or fit > best[article]:
                    best[article] = fit
    return [found.without({a for s in found.stories for a in s.article_ids if -best[a][2] != index})
            for index, found in enumerate(gathered)]


def previous_brief(out_dir: Path, day: date) -> DailyBrief | None:
    """The most recent daily brief before ``day`` in ``out_dir``, if any."""
    earlier = sorted(p for p in out_dir.glob("*.json") if DATED.match(p.name) and p.stem < day.isoformat())
    for path in reversed(earlier):
        try:
            return DailyBrief.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            continue  # an unreadable or foreign file is not a previous brief
    return None


def mark_novelty(daily: DailyBrief, previous: DailyBrief | None, embedder: Embedder) -> None:
    """Set ``new`` on every sentence verification kept: False when it matches a sentence of ``previous``."""
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


def summary(daily: DailyBrief) -> str:
    sentences = [s for t in daily.topics for s in t.briefing.shown()]
    new = sum(s.new is True for s in sentences)
    empty = sum(t.note is not None for t in daily.topics)
    return (f"{_count(len(daily.topics), 'topic')} ({empty} with nothing in the window), "
            f"{_count(len(sentences), 'sentence')} shown, {new} new · {daily.undated_left_out} undated articles left out")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
