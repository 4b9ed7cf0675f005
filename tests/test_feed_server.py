"""Self-tests of tests/feed_server.py: the fault server's behaviours and the synthetic feed generators."""

from __future__ import annotations

import gzip
import http.client
import itertools
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from tests.feed_server import (
    FIXED_LAST_MODIFIED,
    FeedItem,
    FeedServer,
    atom_feed,
    rolling_feed_days,
    rss_feed,
    synthetic_items,
)

START = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)
BODY = rss_feed("Synthetic feed", synthetic_items(1, 3, START))


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """(status, lower-cased headers, body) of a GET; HTTP errors are answers too, not exceptions."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_serves_body_with_validators_and_length(server):
    server.serve("/feed.xml", BODY)
    status, headers, body = get(server.url("feed.xml"))
    assert (status, body) == (200, BODY)
    assert headers["content-length"] == str(len(BODY))
    assert headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert headers["etag"].startswith('"') and headers["etag"].endswith('"')
    assert parsedate_to_datetime(headers["last-modified"]) == FIXED_LAST_MODIFIED


def test_conditional_get_answers_304_on_etag_and_on_if_modified_since(server):
    server.serve("/feed.xml", BODY)
    etag = get(server.url("/feed.xml"))[1]["etag"]
    assert get(server.url("/feed.xml"), {"If-None-Match": etag})[0] == 304
    assert get(server.url("/feed.xml"), {"If-None-Match": f'"other", W/{etag}'})[0] == 304
    assert get(server.url("/feed.xml"), {"If-None-Match": '"other"'})[0] == 200
    same = format_datetime(FIXED_LAST_MODIFIED, usegmt=True)
    assert get(server.url("/feed.xml"), {"If-Modified-Since": same})[0] == 304
    later = format_datetime(FIXED_LAST_MODIFIED + timedelta(days=1), usegmt=True)
    earlier = format_datetime(FIXED_LAST_MODIFIED - timedelta(seconds=1), usegmt=True)
    assert get(server.url("/feed.xml"), {"If-Modified-Since": later})[0] == 304
    status, _, body = get(server.url("/feed.xml"), {"If-Modified-Since": earlier})
    assert (status, body) == (200, BODY)
    # A new body gets a new ETag, so the old one no longer matches.
    server.serve("/feed.xml", BODY + b"\n", last_modified=None)
    status, headers, _ = get(server.url("/feed.xml"), {"If-None-Match": etag, "If-Modified-Since": later})
    assert status == 200 and headers["etag"] != etag and "last-modified" not in headers


def test_gzip_when_asked_and_allowed(server):
    server.serve("/feed.xml", BODY)
    server.serve("/plain.xml", BODY, gzip=False)
    status, headers, body = get(server.url("/feed.xml"), {"Accept-Encoding": "br, gzip;q=0.8"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["content-length"] == str(len(body)) and gzip.decompress(body) == BODY
    assert "content-encoding" not in get(server.url("/feed.xml"), {"Accept-Encoding": "gzip;q=0"})[1]
    assert "content-encoding" not in get(server.url("/plain.xml"), {"Accept-Encoding": "gzip"})[1]
    assert get(server.url("/feed.xml"))[2] == BODY  # urllib asks for identity


def test_redirect_chain_and_loop(server):
    server.serve("/final.xml", BODY)
    server.redirect("/old", "/middle", 302)
    server.redirect("/middle", server.url("/final.xml"), 307)
    with urllib.request.urlopen(server.url("/old"), timeout=5) as response:
        assert response.url == server.url("/final.xml") and response.read() == BODY
    assert [request.path for request in server.requests] == ["/old", "/middle", "/final.xml"]

    server.redirect("/a", "/b")
    server.redirect("/b", "/a", 308)
    status = get(server.url("/a"))[0]
    assert status in (301, 308)  # urllib gives up on the loop
    assert server.hits("/a") >= 2 and server.hits("/b") >= 2
    raw = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    raw.request("GET", "/b")
    response = raw.getresponse()
    assert (response.status, response.getheader("Location"), response.read()) == (308, "/a", b"")
    raw.close()


def test_fail_times_then_falls_through_with_retry_after(server):
    server.serve("/feed.xml", BODY)
    server.fail("/feed.xml", 503, times=2, retry_after="1", body=b"busy")
    first, second, third = (get(server.url("/feed.xml")) for _ in range(3))
    assert (first[0], first[1]["retry-after"], first[2]) == (503, "1", b"busy")
    assert second[0] == 503 and second[1]["content-length"] == "4"
    assert (third[0], third[2]) == (200, BODY) and "retry-after" not in third[1]
    server.fail("/limited", 429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    assert [get(server.url("/limited"))[:2] for _ in range(2)] == [(429, get(server.url("/limited"))[1])] * 2
    assert get(server.url("/limited"))[1]["retry-after"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    server.fail("/gone", 410)
    assert get(server.url("/gone"))[0] == 410


def test_unknown_path_is_404_and_keep_alive_survives_errors(server):
    server.serve("/feed.xml", BODY)
    assert get(server.url("/nothing-here"))[0] == 404
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for path, status in [("/nothing", 404), ("/feed.xml?x=1", 200), ("/nothing", 404), ("/feed.xml", 200)]:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == status
        response.read()
    connection.request("HEAD", "/feed.xml")
    response = connection.getresponse()
    assert response.getheader("Content-Length") == str(len(BODY)) and response.read() == b""
    connection.close()
    assert server.hits("/feed.xml") == 3  # the query string is ignored


def test_slow_path_delays_and_times_out_a_client(server):
    server.serve("/feed.xml", BODY)
    server.slow("/feed.xml", 0.3)
    began = time.monotonic()
    assert get(server.url("/feed.xml"))[0] == 200
    assert time.monotonic() - began >= 0.3
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(server.url("/feed.xml"), timeout=0.1)


def test_many_concurrent_slow_requests_overlap(server):
    server.serve("/feed.xml", BODY)
    server.slow("/feed.xml", 0.3)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(get(server.url("/feed.xml"))[0])) for _ in range(30)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 30 and time.monotonic() - began < 1.5


@pytest.mark.parametrize("content_length", [True, False])
def test_huge_streams_every_byte(server, content_length):
    server.huge("/big.xml", 3, content_length=content_length)
    with urllib.request.urlopen(server.url("/big.xml"), timeout=5) as response:
        assert (response.headers["Content-Length"] is not None) == content_length
        assert (response.headers["Transfer-Encoding"] == "chunked") != content_length
        total = sum(len(block) for block in iter(lambda: response.read(100_000), b""))
    assert total == 3 * 1024 * 1024


@pytest.mark.parametrize("content_length", [True, False])
def test_huge_survives_an_early_client_close(server, content_length, capfd):
    server.huge("/big.xml", 50, content_length=content_length)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(b"GET /big.xml HTTP/1.1\r\nHost: test\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + 3
    while server.disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.disconnects == 1
    server.serve("/feed.xml", BODY)
    assert get(server.url("/feed.xml"))[0] == 200
    assert "Traceback" not in capfd.readouterr().err


def test_request_log_records_method_path_headers_and_time(server):
    server.serve("/feed.xml", BODY)
    before = time.monotonic()
    get(server.url("/feed.xml?since=1"), {"User-Agent": "briefing-test/1.0", "X-Trace": "abc"})
    (request,) = server.requests
    assert (request.method, request.path) == ("GET", "/feed.xml?since=1")
    assert request.headers["user-agent"] == "briefing-test/1.0" and request.headers["x-trace"] == "abc"
    assert before <= request.at <= time.monotonic()
    assert server.hits("/feed.xml") == 1 and server.hits("/other") == 0


def test_server_binds_loopback_only_and_closes():
    with FeedServer() as server:
        assert server.url("x").startswith(f"http://127.0.0.1:{server.port}/")
        assert server._httpd is not None and server._httpd.server_address[0] == "127.0.0.1"
        port = server.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_rss_feed_is_well_formed_and_escaped():
    item = FeedItem("A & B <c>", "https://example.org/?a=1&b=2", "Text with <tags> & “quotes”.", START, guid="id-1")
    document = rss_feed("Feed & co", [item, FeedItem("No guid", "https://example.org/2", "x", START)])
    channel = ET.fromstring(document).find("channel")
    assert channel is not None and channel.findtext("title") == "Feed & co"
    first, second = channel.findall("item")
    assert first.findtext("title") == "A & B <c>" and first.findtext("link") == "https://example.org/?a=1&b=2"
    assert first.findtext("description") == "Text with <tags> & “quotes”."
    guid = first.find("guid")
    assert guid is not None and guid.text == "id-1" and guid.get("isPermaLink") == "false"
    assert parsedate_to_datetime(first.findtext("pubDate") or "") == START
    assert second.find("guid") is None
    misdeclared = rss_feed("é", [], encoding_declared="iso-8859-1")
    assert misdeclared.startswith(b'<?xml version="1.0" encoding="iso-8859-1"?>') and "é".encode() in misdeclared
    with pytest.raises(ValueError):
        FeedItem("t", "l", "x", datetime(2024, 1, 1))


def test_feeds_parse_with_feedparser():
    feedparser = pytest.importorskip("feedparser")
    items = synthetic_items(2, 3, START)
    for document in (rss_feed("Synthetic", items), atom_feed("Synthetic", items)):
        parsed = feedparser.parse(document)
        assert not parsed.bozo
        assert [entry.title for entry in parsed.entries] == [item.title for item in items]
        assert [entry.id for entry in parsed.entries] == [item.guid for item in items]
        assert [entry.link for entry in parsed.entries] == [item.link for item in items]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def test_synthetic_items_are_deterministic_distinct_and_not_near_duplicates():
    items = [item for feed in (1, 2, 3) for item in synthetic_items(feed, 40, START)]
    assert items[:40] == synthetic_items(1, 40, START)
    for field in ("title", "text", "link"):
        assert len({getattr(item, field) for item in items}) == 120, field
    first = items[0]
    assert first.link == first.guid == "https://feed1.example.org/story/0"
    assert items[5].published == START + timedelta(hours=5)
    assert all(20 <= len(_words(item.text)) <= 70 for item in items)
    assert all(re.search(r"\b(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b", item.text) for item in items)
    shingles = [_trigrams(item.text) for item in items]
    worst_text = max(_jaccard(a, b) for a, b in itertools.combinations(shingles, 2))
    titles = [set(_words(item.title)) for item in items]
    worst_title = max(_jaccard(a, b) for a, b in itertools.combinations(titles, 2))
    assert worst_text < 0.3 and worst_title < 0.5, (worst_text, worst_title)


def test_rolling_feed_days_keeps_the_newest():
    days = rolling_feed_days(days=5, per_day=3, keep=4, start=START)
    assert [len(day) for day in days] == [3, 4, 4, 4, 4]
    everything = synthetic_items(1, 15, START, timedelta(hours=8))
    for number, day in enumerate(days):
        published = everything[: (number + 1) * 3]
        assert day == list(reversed(published))[:4]
        assert [item.published for item in day] == sorted((item.published for item in day), reverse=True)
    assert days[4][0].published == START + timedelta(days=4, hours=16)
    assert days[1][-1] == everything[2] and everything[2] not in days[2]  # old items drop off
