"""Parsing publish dates and time-window bounds (ISO dates or relative spans like ``24h``, ``7d``)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime

_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware datetime from what inputs carry: ISO 8601, RFC 2822, a date, epoch seconds.

    Naive values are taken as UTC. Empty values give None; anything unparseable raises ValueError.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = datetime.fromtimestamp(float(value), tz=timezone.utc)
    elif isinstance(value, str):
        parsed = _parse_string(value.strip())
    else:
        raise ValueError(f"not a date: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _parse_string(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    raise ValueError(f"not a date: {text!r}")


def parse_bound(value: str | None, *, now: datetime | None = None, end: bool = False) -> datetime | None:
    """A window bound from the CLI: ``2024-11-01``, a full ISO timestamp, or ``24h``/``7d`` before now.

    A bare date used as an upper bound (``end=True``) covers that whole day.
    """
    if value is None:
        return None
    match = _RELATIVE.match(value)
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2).lower()]
        return (now or datetime.now(timezone.utc)) - timedelta(**{unit: amount})
    try:
        parsed = parse_datetime(value)
    except ValueError:
        raise ValueError(f"invalid date {value!r}: use YYYY-MM-DD, an ISO timestamp, or 24h / 7d") from None
    if end and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        parsed += timedelta(days=1) - timedelta(microseconds=1)
    return parsed
