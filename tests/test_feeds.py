"""Feeds by URL against a real HTTP server on loopback (``tests/feed_server.py``): subscriptions,
pulls, the faults a feed server shows, full text, the archive, and nothing lost over many days.

The embedder is the hashing fake (``conftest.HashingEmbedder``): what is asserted is what was
fetched, kept and stored, not retrieval quality. ``sleep`` is faked where a retry would wait, and
the waits asked for are asserted instead.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.errors import OptionError
from briefing.ingest.feeds import load_feeds
from briefing.ingest.fetch import USER_AGENT, Fetcher
from briefing.ingest.pull import add_feeds, import_opml, ingest_inputs, pull, remove_feed
from briefing.locking import exclusive_lock
from briefing.pipeline import Components
from briefing.settings import Settings
from briefing.store.store import open_catalog
from tests.conftest import HashingEmbedder
from tests.feed_server import FeedItem, FeedServer, rolling_feed_days, rss_feed, synthetic_items

START = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
runner = CliRunner()


class Waits:
    """Stands in for ``time.sleep`` in the fetcher: records each wait instead of sleeping."""

    def __init__(self):
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


def components(**settings) -> Components:
    return Components(Settings(**settings), embedder=HashingEmbedder())


def pulled(server: FeedServer, paths: list[str], waits: Waits | None = None, **settings):
    """Subscribe to the paths (without the check fetch) and pull once."""
    subscribe(server, paths)
    return pull(components(**settings), fetcher_factory=lambda s: Fetcher(s, sleep=waits or Waits()))


def subscribe(server: FeedServer, paths: list[str], full_text: bool = False) -> None:
    opml = Path("subscriptions.opml")
    outlines = "".join(f'<outline type="rss" text="{p}" xmlUrl="{server.url(p)}"/>' for p in paths)
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>')
    import_opml(Settings(), opml, full_text=full_text)


def titles() -> list[str]:
    catalog = open_catalog(Settings())
    return [a.title for a in catalog.list_articles()] if catalog else []


def feed_bytes(feed: int, count: int = 3, **options) -> bytes:
    return rss_feed(f"Sample feed {feed} (sample)", synthetic_items(feed, count, START), **options)


def one(report, url: str):
    return next(o for o in report.feeds if o.url == url)


def test_a_pull_stores_every_feed_and_an_unchanged_second_pull_is_all_304(server):
    for n in range(3):
        server.serve(f"/f{n}.xml", feed_bytes(n))
    first = pulled(server, [f"/f{n}.xml" for n in range(3)])
    assert [o.status for o in first.feeds] == ["new"] * 3 and first.ingest.articles == 9
    assert len(titles()) == 9
    second = pull(components())
    assert [o.status for o in second.feeds] == ["not-modified"] * 3
    assert second.ingest.files == 0 and len(titles()) == 9
    last = [r for r in server.requests if r.path == "/f0.xml"][-1]
    assert last.headers["if-none-match"] and last.headers["user-agent"] == USER_AGENT
    assert "gzip" in last.headers["accept-encoding"]
    assert "briefing" in USER_AGENT


def test_fetched_bytes_are_kept_compressed_and_rebuild_the_store_without_network(server, isolated_home):
    server.serve("/f.xml", feed_bytes(1, 4))
    pulled(server, ["/f.xml"])
    kept = sorted((isolated_home / "fetched").rglob("*.xml.gz"))
    assert len(kept) == 1 and gzip.decompress(kept[0].read_bytes()) == feed_bytes(1, 4)
    before = sorted(titles())
    Path("other-home").mkdir()
    rebuilt = Components(Settings(home=Path("other-home").resolve()), embedder=HashingEmbedder())
    report = ingest_inputs([str(isolated_home / "fetched")], rebuilt)
    assert report.articles == 4 and not report.skipped
    assert sorted(a.title for a in open_catalog(rebuilt.settings).list_articles()) == before


def test_a_permanent_redirect_updates_the_subscription_and_a_temporary_one_does_not(server):
    server.serve("/new.xml", feed_bytes(1))
    server.serve("/other.xml", feed_bytes(2))
    server.redirect("/old.xml", "/new.xml", 301)
    server.redirect("/moved.xml", "/new-308.xml", 308)
    server.serve("/new-308.xml", feed_bytes(3))
    server.redirect("/temp.xml", "/other.xml", 302)
    report = pulled(server, ["/old.xml", "/moved.xml", "/temp.xml"])
    assert [o.status for o in report.feeds] == ["new"] * 3
    urls = [feed.url for feed in load_feeds(Settings())]
    assert urls == [server.url("/new.xml"), server.url("/new-308.xml"), server.url("/temp.xml")]
    assert report.feeds[0].notes == [f"moved permanently from {server.url('/old.xml')} to {server.url('/new.xml')}: "
                                     "subscription updated"]
    assert load_feeds(Settings())[0].moved_from == [server.url("/old.xml")]


def test_each_fault_is_one_line_naming_it(server):
    server.redirect("/a.xml", "/b.xml", 302)
    server.redirect("/b.xml", "/a.xml", 302)
    server.slow("/slow.xml", 2.0)
    server.serve("/slow.xml", feed_bytes(1))
    server.fail("/error.xml", 500)
    server.fail("/busy.xml", 429, retry_after="3600")
    server.serve("/broken.xml", b"<?xml version='1.0'?><rss><channel><item><title>Cut off", content_type="text/xml")
    server.huge("/huge.xml", 60)
    server.huge("/huge-chunked.xml", 60, content_length=False)
    server.serve("/page.html", b'<!doctype html><html><head><link rel="alternate" type="application/rss+xml" '
                 b'href="/real.xml"></head><body><p>Welcome</p></body></html>', content_type="text/html")
    paths = ["/a.xml", "/slow.xml", "/error.xml", "/busy.xml", "/broken.xml", "/huge.xml", "/huge-chunked.xml", "/page.html"]
    waits = Waits()
    report = pulled(server, paths, waits, fetch_timeout=0.5, fetch_retries=2)
    problems = {o.url.rsplit("/", 1)[1]: o.problem for o in report.feeds}
    assert all(o.status == "failed" for o in report.feeds if not o.url.endswith("broken.xml")), problems
    assert all(problem and "\n" not in problem for problem in problems.values())
    assert "redirect loop" in problems["a.xml"]
    assert "timed out after 0.5 s (BRIEFING_FETCH_TIMEOUT) (3 tries)" in problems["slow.xml"]
    assert problems["error.xml"].startswith("HTTP 500") and "(3 tries)" in problems["error.xml"]
    assert "asks to wait 3600 s" in problems["busy.xml"] and "next pull" in problems["busy.xml"]
    assert problems["broken.xml"].startswith("malformed XML (") and "read the 1 entries it could" in problems["broken.xml"]
    assert "over the 20 MB limit" in problems["huge.xml"] and "BRIEFING_MAX_FILE_MB" in problems["huge-chunked.xml"]
    assert problems["page.html"] == f"an HTML page, not a feed (the page names the feed {server.url('/real.xml')}: " \
                                    "`briefing feeds add` it)"
    assert waits.asked == [0.5, 1.0, 0.5, 1.0]  # backoff for the timeouts and the 500s, nothing for 3600 s
    assert server.hits("/error.xml") == 3


def test_a_429_with_retry_after_is_waited_out_and_gzip_is_decoded(server):
    server.serve("/f.xml", feed_bytes(1))
    server.fail("/f.xml", 429, times=1, retry_after="1")
    waits = Waits()
    report = pulled(server, ["/f.xml"], waits)
    assert report.feeds[0].status == "new" and waits.asked == [1.0]
    assert report.feeds[0].notes == ["HTTP 429 Too Many Requests: waited 1 s and tried again"]
    assert report.feeds[0].bytes == len(feed_bytes(1)) and len(titles()) == 3


def test_a_charset_header_that_contradicts_the_xml_declaration_is_noted_and_the_text_read_right(server):
    item = FeedItem(title="Brücke in Großdorf gesperrt", link="https://example.org/b", published=START,
                    text="Die Brücke über die Ühle in Großdorf bleibt wegen Schäden bis März gesperrt.")
    server.serve("/de.xml", rss_feed("Beispiel (sample)", [item]), content_type="text/xml; charset=ISO-8859-1")
    report = pulled(server, ["/de.xml"])
    assert report.feeds[0].status == "new"
    assert "the server says charset iso-8859-1, the feed declares utf-8" in report.feeds[0].notes[0]
    assert titles() == ["Brücke in Großdorf gesperrt"]


def test_a_gone_feed_is_marked_and_no_longer_fetched(server):
    server.fail("/410.xml", 410)
    server.fail("/404.xml", 404)
    subscribe(server, ["/410.xml", "/404.xml"])
    first = pull(components())
    assert [o.status for o in first.feeds] == ["gone", "failed"]  # a 404 is gone only three pulls in a row
    assert first.feeds[1].problem == "HTTP 404 Not Found (1 of 3 in a row mark it gone)"
    for _ in range(3):
        report = pull(components())
    assert server.hits("/410.xml") == 1 and server.hits("/404.xml") == 3
    gone = {feed.url.rsplit("/", 1)[1]: feed.gone for feed in load_feeds(Settings())}
    assert gone == {"410.xml": True, "404.xml": True}
    assert report.skipped_gone == 2 and not report.feeds
    assert [feed.status for feed in load_feeds(Settings())] == ["gone", "gone"]


def test_feeds_add_checks_each_url_and_finds_a_page_s_feed(server):
    server.serve("/feed.xml", feed_bytes(1))
    server.serve("/site.html", b'<html><head><title>Site</title><link rel="alternate" type="application/atom+xml" '
                 b'href="feed.xml"></head><body></body></html>', content_type="text/html")
    server.serve("/plain.html", b"<html><body><p>No feed here.</p></body></html>", content_type="text/html")
    server.serve("/notes.txt", b"just some notes", content_type="text/plain")
    server.fail("/gone.xml", 410)
    asked = ["/site.html", "/feed.xml", "/plain.html", "/notes.txt", "/gone.xml"]
    lines = add_feeds(Settings(), [server.url(path) for path in asked])
    assert lines[0] == f"{server.url('/feed.xml')}: added (the feed the page {server.url('/site.html')} names)"
    assert lines[1] == f"{server.url('/feed.xml')}: already subscribed"
    assert "an HTML page that names no feed: not added" in lines[2]
    assert lines[3] == f"{server.url('/notes.txt')}: not a feed (content type 'text/plain'): not added"
    assert lines[4] == f"{server.url('/gone.xml')}: not added: HTTP 410 Gone: the server says it is gone"
    assert add_feeds(Settings(), [server.url("/feed.xml")], full_text=True) == [
        f"{server.url('/feed.xml')}: already subscribed; full text turned on"]
    assert [feed.url for feed in load_feeds(Settings())] == [server.url("/feed.xml")]
    with pytest.raises(OptionError, match=re.escape("'ftp://example.org/x' is not an http or https URL")):
        add_feeds(Settings(), ["ftp://example.org/x"])
    assert remove_feed(Settings(), server.url("/feed.xml")).endswith("the articles it brought stay in the store")
    with pytest.raises(OptionError, match="not subscribed"):
        remove_feed(Settings(), server.url("/feed.xml"))


def test_the_feeds_commands_from_the_command_line(server, monkeypatch):
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: HashingEmbedder())
    server.serve("/f.xml", feed_bytes(1))
    assert runner.invoke(app, ["feeds", "add", server.url("/f.xml"), "--full-text"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["feeds", "list", "--json"]).stdout)
    assert [(f["url"], f["full_text"], f["title"]) for f in listed] == [(server.url("/f.xml"), True, "Sample feed 1 (sample)")]
    result = runner.invoke(app, ["pull", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["feeds"][0]["status"] == "new"
    bad = runner.invoke(app, ["feeds", "import", "missing.opml"])
    assert bad.exit_code == 1 and bad.stderr.strip().startswith("Error: missing.opml: cannot read file")


def test_ingest_url_takes_a_feed_or_a_page_once(server):
    page = (b"<html><head><title>Harbour wall repaired</title>"
            b'<meta property="article:published_time" content="2024-03-02T08:00:00Z"></head><body><article>'
            + b"<p>" + b"The harbour wall at Saltmere was repaired over the winter by the county works team. " * 8
            + b"</p></article></body></html>")
    server.serve("/story.html", page, content_type="text/html; charset=utf-8")
    server.serve("/f.xml", feed_bytes(4, 2))
    report = ingest_inputs([server.url("/f.xml"), server.url("/story.html"), server.url("/missing.xml")], components())
    assert report.articles == 3
    assert [(s.path, s.reason) for s in report.skipped] == [
        (server.url("/missing.xml"), "HTTP 404 Not Found")]
    assert "Harbour wall repaired" in titles()
    again = ingest_inputs([server.url("/f.xml")], components())
    assert again.unchanged_files == 1 and again.embedded == 0


def test_full_text_feeds_take_the_page_text_and_keep_their_own_behind_a_paywall(server):
    body = "The county opened a new ferry route from Saltmere to Kelby on Monday, with four crossings a day. " * 6
    server.serve("/p1.html", f"<html><head><title>Ferry</title></head><body><article><p>{body}</p></article></body></html>"
                 .encode(), content_type="text/html")
    teaser = "The council met on Tuesday evening to set next year's budget for roads, schools and the library. " * 6  # over 80 words
    server.serve("/p2.html", f"<html><head><title>Budget</title></head><body><article><p>{teaser}</p><p>This article "
                 "is only available to subscribers. Subscribe now to continue reading.</p></article></body></html>"
                 .encode(), content_type="text/html")
    server.serve("/p3.html", b"<html><head><title>Privacy</title></head><body><article><p>We value your privacy. "
                 b"We and our partners use cookies. Accept all cookies or manage your privacy settings.</p></article>"
                 b"</body></html>", content_type="text/html")
    items = [FeedItem(title="New ferry route", link=server.url("/p1.html"), text="A new ferry route opens.", published=START),
             FeedItem(title="Council budget", link=server.url("/p2.html"), text="The council set its budget.",
                      published=START + timedelta(hours=1)),
             FeedItem(title="Library hours", link=server.url("/p3.html"), text="The library opens on Sundays now.",
                      published=START + timedelta(hours=2))]
    server.serve("/thin.xml", rss_feed("Thin feed (sample)", items))
    subscribe(server, ["/thin.xml"], full_text=True)
    report = pull(components())
    assert report.feeds[0].status == "new"
    notes = report.feeds[0].notes
    assert sum("a paywall or consent page, not the whole article" in note and "the feed's text is kept" in note for note in notes) == 1, notes
    assert any("p3.html" in note and "the feed's text is kept" in note for note in notes), notes
    catalog = open_catalog(Settings())
    texts = dict(catalog.db.execute("SELECT title, text FROM articles"))
    assert "four crossings a day" in texts["New ferry route"]
    assert texts["Council budget"].endswith("The council set its budget.")
    assert texts["Library hours"].endswith("The library opens on Sundays now.")
    assert {a.publisher for a in catalog.list_articles()} == {"Thin feed (sample)"}
    pull(components())
    assert server.hits("/p1.html") == 1  # a page is fetched once


def test_sixty_days_of_a_rolling_feed_keep_every_item_once(server):
    days = rolling_feed_days(60, per_day=3, keep=20, start=START)
    subscribe(server, ["/rolling.xml"])
    for day in days:
        server.serve("/rolling.xml", rss_feed("Rolling (sample)", day))
        pull(components())
    seen = {item.title for day in days for item in day}
    listed = titles()
    assert len(listed) == len(seen) == 180 and set(listed) == seen
    assert open_catalog(Settings()).counts()["alternates"] == 0


def test_retention_removes_old_articles_and_leaves_older_items_out(server):
    server.serve("/f.xml", rss_feed("Old and new (sample)", synthetic_items(1, 2, datetime.now(UTC) - timedelta(days=40))
                                    + synthetic_items(2, 2, datetime.now(UTC) - timedelta(hours=3))))
    report = pulled(server, ["/f.xml"], retention_days=30)
    assert report.ingest.too_old == 2 and len(titles()) == 2


def test_retention_set_later_removes_what_is_older_and_counts_it(tmp_path):
    now = datetime.now(UTC)
    items = synthetic_items(1, 2, now - timedelta(days=40)) + synthetic_items(2, 3, now - timedelta(hours=5))
    (tmp_path / "feed.xml").write_bytes(rss_feed("Mixed ages (sample)", items))
    assert ingest_inputs([str(tmp_path / "feed.xml")], components()).articles == 5
    later = ingest_inputs([str(tmp_path / "feed.xml")], components(retention_days=30))
    assert (later.expired, later.removed_articles) == (2, 2) and len(titles()) == 3


def test_a_second_pull_waits_for_the_lock_of_the_first(server):
    server.serve("/f.xml", feed_bytes(1))
    subscribe(server, ["/f.xml"])
    done = threading.Event()
    with exclusive_lock(Settings().store_dir / "ingest.lock", on_wait=print):
        worker = threading.Thread(target=lambda: (pull(components()), done.set()))
        worker.start()
        time.sleep(0.5)
        assert not done.is_set()
    worker.join(30)
    assert done.is_set() and len(titles()) == 3


def test_requests_to_one_host_take_turns(server):
    for n in range(4):
        server.slow(f"/s{n}.xml", 0.3)
        server.serve(f"/s{n}.xml", feed_bytes(n, 1))
    pulled(server, [f"/s{n}.xml" for n in range(4)], fetch_per_host=1)
    starts = sorted(r.at for r in server.requests if r.path.startswith("/s"))
    assert len(starts) == 4 and all(later - earlier >= 0.29 for earlier, later in itertools.pairwise(starts))


def test_the_field_cases_served_over_http(server):
    """F19 (an .rdf feed), F20 (a rolling feed whose day 2 dropped an item) and F21 (one placeholder
    guid on every item) fetched from the server, as `briefing pull` would."""
    cases = Path(__file__).parent / "fixtures" / "field-cases"
    server.serve("/index.rdf", (cases / "F19-rdf-feed-extension" / "index.rdf").read_bytes(), content_type="application/rdf+xml")
    server.serve("/techticker.xml", (cases / "F21-shared-placeholder-guid" / "feed.xml").read_bytes())
    server.serve("/rolling.xml", (cases / "F20-rolling-feed-overwritten" / "day1.xml").read_bytes())
    pulled(server, ["/index.rdf", "/techticker.xml", "/rolling.xml"])
    server.serve("/rolling.xml", (cases / "F20-rolling-feed-overwritten" / "day2.xml").read_bytes())
    report = pull(components())
    assert [o.status for o in report.feeds] == ["not-modified", "not-modified", "new"]
    listed = open_catalog(Settings()).list_articles()
    by_publisher: dict[str | None, int] = {}
    for article in listed:
        by_publisher[article.publisher] = by_publisher.get(article.publisher, 0) + 1
    assert by_publisher["Lakeshore Ledger (sample)"] == 2
    # F20's items are F21's items again (without the placeholder guid): the same items from the same outlet
    assert by_publisher["Techticker News (sample)"] == 4 and len(listed) == 6
    assert not any(a.earlier_versions for a in listed) and not any(a.alternates for a in listed)


def test_a_file_read_again_keeps_what_left_it_and_a_changed_marked_file_keeps_its_items(tmp_path):
    """Reading files again (an upgrade, a story freed) never drops the items a file no longer holds;
    nor does a file that changed while it was marked to be read again."""
    days = rolling_feed_days(3, per_day=2, keep=2, start=START)
    work = tmp_path / "feeds"
    work.mkdir()
    run = components()
    for day in days[:2]:
        (work / "feed.xml").write_bytes(rss_feed("Rolling (sample)", day))
        ingest_inputs([str(work)], run)
    with run.open_store(writer=True) as store:
        store.read_all_again()
    (work / "feed.xml").write_bytes(rss_feed("Rolling (sample)", days[2]))
    report = ingest_inputs([str(work)], run)
    assert report.left_articles == 2 and report.removed_articles == 0
    assert sorted(titles()) == sorted({item.title for day in days for item in day})


def test_a_correction_in_a_later_download_becomes_current_and_older_copies_stay_history(server):
    """The outlet's item downloaded again with other text and no later time replaces what was read
    before; two identical older copies of a stored story are one earlier version, not an error."""
    def item(text: str, day: int) -> FeedItem:
        return FeedItem(title="Floods displace valley residents", link="https://example.org/floods", guid="floods-1",
                        text=f"Floods in the valley displaced {text} residents on Monday, officials said.",
                        published=START + timedelta(days=day))
    server.serve("/f.xml", rss_feed("Valley (sample)", [item("12,000", 1)]))
    subscribe(server, ["/f.xml"])
    pull(components())
    server.serve("/f.xml", rss_feed("Valley (sample)", [item("14,500", 1)]))  # corrected, same pubDate
    corrected = pull(components())
    assert corrected.ingest.updates == 1
    assert [w.text.split(": ")[-1] for w in corrected.ingest.warnings] == [
        "'Floods displace valley residents' is current now; the earlier one stays in the catalog as history"]
    catalog = open_catalog(Settings())
    assert "14,500" in catalog.db.execute("SELECT text FROM articles WHERE superseded_by IS NULL").fetchone()[0]
    server.serve("/old1.xml", rss_feed("Valley (sample)", [item("9,000", 0)]))
    server.serve("/old2.xml", rss_feed("Valley (sample)", [item("9,000", 0)]))
    report = ingest_inputs([server.url("/old1.xml"), server.url("/old2.xml")], components())
    assert (report.updates, report.repeats) == (1, 1)
    assert [len(a.earlier_versions) for a in open_catalog(Settings()).list_articles()] == [2]


def test_a_copy_is_a_repeat_of_its_outlet_even_renamed_and_another_outlet_counts_once(tmp_path):
    """The same items under a renamed channel title are the site's own items again (same links); a
    second outlet's copy of a story is one alternate however often that outlet is saved."""
    wire = FeedItem(title="Ferry fares rise in spring", link="https://wire.example.org/ferry", published=START,
                    text="Ferry fares on the Saltmere crossing will rise by five percent from April, the operator said.")
    own = synthetic_items(7, 2, START)
    days = [("Harbour Post (sample)", "Harbour Post - Latest (sample)"), ("Coast Daily (sample)", "Coast Daily (sample)")]
    for day, (first, second) in enumerate(zip(*days)):
        folder = tmp_path / f"2024-03-0{day + 1}"
        folder.mkdir()
        (folder / "post.xml").write_bytes(rss_feed(first, [*own, wire]))
        relinked = FeedItem(title=wire.title, link="https://coast.example.net/ferry", text=wire.text, published=START)
        (folder / "coast.xml").write_bytes(rss_feed(second, [relinked]))
    report = ingest_inputs([str(tmp_path)], components())
    listed = open_catalog(Settings()).list_articles()
    assert len(listed) == 3 and report.duplicates == 1 and report.repeats == 4
    assert {a.title: a.alternates for a in listed}[wire.title] == 1


def test_a_file_read_again_keeps_the_alternate_it_gives(tmp_path):
    """Another outlet's copy stays an alternate when its file changes and is read again."""
    story = FeedItem(title="Ferry fares rise in spring", link="https://post.example.org/ferry", published=START,
                     text="Ferry fares on the Saltmere crossing will rise by five percent from April, the operator said.")
    (tmp_path / "1-post.xml").write_bytes(rss_feed("Harbour Post (sample)", [story]))
    copy = FeedItem(title=story.title, link="https://coast.example.net/ferry", text=story.text, published=START)
    (tmp_path / "2-coast.xml").write_bytes(rss_feed("Coast Daily (sample)", [copy]))
    assert ingest_inputs([str(tmp_path)], components()).duplicates == 1
    (tmp_path / "2-coast.xml").write_bytes(rss_feed("Coast Daily (sample)", [copy, *synthetic_items(3, 1, START)]))
    ingest_inputs([str(tmp_path)], components())
    assert {a.title: a.alternates for a in open_catalog(Settings()).list_articles()}[story.title] == 1

