"""Publish dates from what inputs carry, never filled in from today (field case F13's kind)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from briefing.dates import parse_bound, parse_datetime, retrieval_filter

UTC = UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-11-05T10:00:00Z", datetime(2024, 11, 5, 10, tzinfo=UTC)),
        ("Tue, 05 Nov 2024 10:00:00 +0000", datetime(2024, 11, 5, 10, tzinfo=UTC)),
        ("Tue, 12 Nov 2024 09:00:00 EST", datetime(2024, 11, 12, 14, tzinfo=UTC)),
        ("2016/6/29 15:07:41", datetime(2016, 6, 29, 15, 7, 41, tzinfo=UTC)),
        ("14/01/2020", datetime(2020, 1, 14, tzinfo=UTC)),  # only one reading: 14 is no month
        ("12.11.2024 09:00", datetime(2024, 11, 12, 9, tzinfo=UTC)),  # dotted dates put the day first
        ("29 June 2016 15:07 MSK", datetime(2016, 6, 29, 12, 7, tzinfo=UTC)),
        ("Wednesday, November 6, 2024 at 3:15 PM PST", datetime(2024, 11, 6, 23, 15, tzinfo=UTC)),
        ("5 ноября 2024, 14:30", datetime(2024, 11, 5, 14, 30, tzinfo=UTC)),
        ("mardi 12 novembre 2024", datetime(2024, 11, 12, tzinfo=UTC)),
        ("2024年11月5日", datetime(2024, 11, 5, tzinfo=UTC)),
        (1730800800, datetime(2024, 11, 5, 10, tzinfo=UTC)),
        (1730800800000, datetime(2024, 11, 5, 10, tzinfo=UTC)),  # epoch milliseconds
    ],
)
def test_dates_in_the_formats_feeds_and_pages_use(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("June 29", "no year"),
        ("Nov 2024", "no day or month"),
        ("the day after tomorrow", "no year"),
        ("04/05/2024", "day and month order unknown"),
        ("12 Nov 2024 03:00 IST", "IST is ambiguous"),  # India: 11 Nov in UTC; Ireland or Israel: 12 Nov
        ("12 Nov 2024 10:00 XYZT", "unknown time zone"),
        ("not a date 2024", "not a date"),
    ],
)
def test_incomplete_or_ambiguous_dates_are_refused_not_completed(value, why):
    with pytest.raises(ValueError, match=why):
        parse_datetime(value)


def test_an_ambiguous_zone_is_read_when_every_reading_gives_one_day():
    """"IST" is India (+05:30), Irish summer (+01:00) or Israel (+02:00): 16:25 falls on 8 April in
    UTC under each, so the time is kept in the first reading; an explicit offset beats a zone name
    written after it."""
    assert parse_datetime("04:25:06 PM IST Apr 08, 2020") == datetime(2020, 4, 8, 10, 55, 6, tzinfo=UTC)
    assert parse_datetime("2020-09-26T12:07:40+02:00CET") == datetime(2020, 9, 26, 10, 7, 40, tzinfo=UTC)
    assert parse_datetime("Nov 2, 2020 9:05 PM ET").astimezone(UTC).date().isoformat() == "2020-11-03"  # EST or EDT: one UTC day


def test_window_bounds_are_days_in_the_configured_zone():
    from zoneinfo import ZoneInfo

    window = retrieval_filter("2020-02-15", "2020-02-15", zone=ZoneInfo("Asia/Tokyo"))
    assert window.since == datetime(2020, 2, 14, 15, 0, tzinfo=UTC)
    assert window.until == datetime(2020, 2, 15, 14, 59, 59, 999999, tzinfo=UTC)


def test_a_year_or_month_is_never_taken_from_today(monkeypatch):
    """feedparser fills the month of "2016/6/29" from the current date; the value here must not
    depend on the day the ingest runs, whatever that day is."""
    assert parse_datetime("2016/6/29 15:07:41").month == 6
    with pytest.raises(ValueError):
        parse_datetime("29 June")


def test_window_bounds_from_the_command_line():
    now = datetime(2024, 11, 10, 12, tzinfo=UTC)
    assert parse_bound("7d", now=now) == now - timedelta(days=7)
    assert parse_bound("2024-11-05", end=True) == datetime(2024, 11, 5, 23, 59, 59, 999999, tzinfo=UTC)
    with pytest.raises(ValueError, match="invalid date"):
        parse_bound("soon")


@pytest.mark.parametrize("value", ["29-Jun-2016 15:07:41 GMT+2", "Wed Jun 29 2016 15:07:41 GMT+0200 (CEST)",
                                   "29 June 2016 15:07:41 UTC+02:00"])
def test_gmt_plus_offsets_mean_east_of_utc(value):
    """dateutil reads "GMT+2" the POSIX way (west of UTC); in news it means two hours east."""
    assert parse_datetime(value) == datetime(2016, 6, 29, 13, 7, 41, tzinfo=UTC)
