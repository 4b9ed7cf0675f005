"""Parsing publish dates and time-window bounds (ISO dates or relative spans like ``24h``, ``7d``)."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from email.utils import parsedate_to_datetime

from briefing.errors import OptionError
from briefing.models import RetrievalFilter

_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class DateError(ValueError):
    """A value that is not a complete, unambiguous date; ``reason`` says why in a few words."""

    def __init__(self, reason: str, value: object):
        self.reason = reason
        super().__init__(f"{reason}: {value!r}")


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware datetime from what inputs carry: ISO 8601, RFC 2822, epoch seconds (or
    milliseconds), a date, or a written date in any common format or language.

    Naive values are taken as UTC. Empty values give None. Raises ValueError, with the reason,
    for a value that is not a complete date (a missing year, month or day is never filled in from
    today), a day/month order that cannot be told ("04/05/2024"), or an unknown time zone name
    (``DateError``, a ValueError with a short ``reason``).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) >= _EPOCH_MILLISECONDS else value
        parsed = datetime.fromtimestamp(float(seconds), tz=UTC)
    elif isinstance(value, str):
        parsed = _parse_string(value.strip())
    else:
        raise DateError("not a date", value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_EPOCH_MILLISECONDS = 10**11  # epoch values this large are milliseconds (10**11 s is the year 5138)
_HAS_YEAR = re.compile(r"(?<!\d)(1[89]|2\d)\d\d(?!\d)")
_DAY_FIRST = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}\b")  # 12.11.2024: dotted dates put the day first

@functools.cache
def _zones() -> dict[str, int]:
    """Zone abbreviations with one meaning, in seconds east of UTC (``lexicon/zones.toml``)."""
    from briefing import lexicon

    return dict(lexicon.zones()["one_meaning"])


@functools.cache
def _ambiguous_zones() -> dict[str, tuple[int, ...]]:
    """Abbreviations with several meanings, each reading in seconds east of UTC, most common first."""
    from briefing import lexicon

    return {name: tuple(readings) for name, readings in lexicon.zones()["several_meanings"].items()}


# An explicit offset followed by a redundant zone name ("2020-09-26T12:07:40+02:00CET"): the offset wins.
_OFFSET_THEN_NAME = re.compile(r"([+-]\d{2}:?\d{2})\s*[A-Z]{2,5}$")


def _parse_string(text: str) -> datetime:
    text = _OFFSET_THEN_NAME.sub(r"\1", text)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed
    return _parse_written(text)  # also RFC 2822 with a zone name the email module does not know


# "GMT+2" in a news feed means two hours east of UTC; dateutil reads it the POSIX way, as west.
_ZONE_OFFSET = re.compile(r"\b(?:GMT|UTC|UT)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b")


def _offset(match: re.Match) -> str:
    sign, hours, minutes = match.group(1), int(match.group(2)), match.group(3) or "00"
    return f"{sign}{hours:02d}:{minutes}"


@functools.lru_cache(maxsize=4096)
def _parse_written(text: str) -> datetime:
    """A non-standard date by dateutil, then (for other languages) dateparser; never guessed."""
    text = _ZONE_OFFSET.sub(_offset, text)
    if not _HAS_YEAR.search(text):
        raise DateError("not a complete date (no year)", text)
    try:
        return _by_dateutil(text)
    except _Unreadable:
        pass
    parsed = _by_dateparser(text)
    if parsed is None:
        raise DateError("not a date", text)
    return parsed


class _Unreadable(Exception):
    """dateutil cannot read the string at all (as opposed to reading it and finding it incomplete)."""


def _by_dateutil(text: str) -> datetime:
    import warnings

    from dateutil import parser
    from dateutil.parser import UnknownTimezoneWarning

    day_first = bool(_DAY_FIRST.match(text))
    readings = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownTimezoneWarning)
        try:
            # Two different defaults: a field the string lacks shows up as a difference.
            for default in (datetime(2000, 1, 1), datetime(2001, 2, 2)):
                readings.append(parser.parse(text, default=default, dayfirst=day_first, tzinfos=_zones()))
            other_order = parser.parse(text, default=readings[0], dayfirst=not day_first, tzinfos=_zones())
        except UnknownTimezoneWarning as warning:
            zone = str(warning).split("tzname ")[-1].split(" ")[0]
            if zone in _ambiguous_zones():
                return _ambiguous(text, zone, day_first)
            raise DateError(f"unknown time zone {zone}", text) from None
        except (ValueError, OverflowError, parser.ParserError):
            raise _Unreadable from None
    if readings[0] != readings[1]:
        raise DateError("not a complete date (no day or month)", text)
    if other_order != readings[0] and not day_first and "/" in text:
        raise DateError(f"day and month order unknown: {readings[0]:%Y-%m-%d} or {other_order:%Y-%m-%d}", text)
    return readings[0]


def _ambiguous(text: str, zone: str, day_first: bool) -> datetime:
    """A time in a zone abbreviation of several meanings: its first reading when every reading
    falls on one UTC day (the day is certain), else an error naming the readings."""
    from dateutil import parser

    readings = [parser.parse(text, dayfirst=day_first, tzinfos={zone: offset}) for offset in _ambiguous_zones()[zone]]
    if len({reading.astimezone(UTC).date() for reading in readings}) > 1:
        hours = ", ".join(f"{offset / 3600:+g}h" for offset in _ambiguous_zones()[zone])
        raise DateError(f"time zone {zone} is ambiguous ({hours}) and the UTC day differs", text)
    return readings[0]


def _by_dateparser(text: str) -> datetime | None:
    import dateparser

    settings = {
        "REQUIRE_PARTS": ["day", "month", "year"],
        "PARSERS": ["absolute-time"],  # no "yesterday" or "2 hours ago": those depend on today
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": "UTC",
        "TO_TIMEZONE": "UTC",
    }
    return dateparser.parse(text, settings=settings)


def parse_bound(value: str | date | None, *, now: datetime | None = None, end: bool = False,
                zone: tzinfo = UTC) -> datetime | None:
    """A window bound: ``2024-11-01``, a full ISO timestamp, ``24h``/``7d`` before now, or a date
    or datetime. A date, or a time without an offset, is in ``zone`` (``BRIEFING_TIMEZONE`` for
    the command line, as `daily` reads its day). A bare date used as an upper bound (``end=True``)
    covers that whole day. Raises ValueError naming the value."""
    if value is None:
        return None
    match = _RELATIVE.match(value) if isinstance(value, str) else None
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2).lower()]
        return (now or datetime.now(UTC)) - timedelta(**{unit: amount})
    try:
        # A bound is ISO 8601 only: the lenient readers of article dates would take 2024-13-01 as 13 January.
        given = datetime.fromisoformat(value.strip()) if isinstance(value, str) else value
        if not isinstance(given, datetime):
            given = datetime.combine(given, time())
        parsed = parse_datetime(given if given.tzinfo else given.replace(tzinfo=zone))
    except ValueError:
        raise ValueError(f"invalid date {value!r}: use YYYY-MM-DD, an ISO timestamp, or 24h / 7d") from None
    whole_day = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) if isinstance(value, str) else not isinstance(value, datetime)
    if end and whole_day and parsed is not None:
        parsed += timedelta(days=1) - timedelta(microseconds=1)
    return parsed


def retrieval_filter(since: str | date | None = None, until: str | date | None = None, *, source: str | None = None,
                     publishers: list[str] | None = None, keywords: list[str] | None = None,
                     names: tuple[str, str] = ("--since", "--until"), zone: tzinfo = UTC) -> RetrievalFilter:
    """The one constructor of a ``RetrievalFilter`` from window bounds as users give them
    (``parse_bound``: ``--since``/``--until`` in ``zone``, topic and eval-case dates). Raises
    OptionError, naming the bound by ``names``, for a bound that is not a date or a window that
    ends before it starts."""
    bounds = []
    for name, value, end in ((names[0], since, False), (names[1], until, True)):
        try:
            bounds.append(parse_bound(value, end=end, zone=zone))
        except ValueError as exc:
            raise OptionError(f"{name}: {exc}") from None
    start, stop = bounds
    if start is not None and stop is not None and start > stop:
        raise OptionError(f"{names[0]} {since} is after {names[1]} {until}: the window is empty")
    return RetrievalFilter(since=start, until=stop, source=source, publishers=publishers or [], keywords=keywords or [])
