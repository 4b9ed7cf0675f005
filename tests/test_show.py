"""`briefing show`: one stored article as the store keeps it (the embedder is the hashing fake: what
is asserted is what was stored, not retrieval)."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from briefing.cli import app
from tests.conftest import HashingEmbedder
from tests.feed_server import FeedItem, rss_feed
from tests.test_feeds import START

runner = CliRunner()


def test_show_prints_an_article_as_stored_with_its_copies_and_earlier_versions(tmp_path, monkeypatch):
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: HashingEmbedder())
    first = FeedItem(title="Ferry fares rise in spring", link="https://post.example.org/ferry", guid="ferry-1",
                     text="Ferry fares on the Saltmere crossing will rise by five percent from April.", published=START)
    fixed = FeedItem(title=first.title, link=first.link, guid=first.guid, published=START + timedelta(hours=2),
                     text="Ferry fares on the Saltmere crossing will rise by four percent from April, the operator said.")
    copy = FeedItem(title=fixed.title, link="https://coast.example.net/ferry", text=fixed.text, published=fixed.published)
    (tmp_path / "a.xml").write_bytes(rss_feed("Harbour Post (sample)", [first]))
    (tmp_path / "b.xml").write_bytes(rss_feed("Harbour Post (sample)", [fixed]))
    (tmp_path / "c.xml").write_bytes(rss_feed("Coast Daily (sample)", [copy]))
    assert runner.invoke(app, ["ingest", str(tmp_path)]).exit_code == 0
    key = json.loads(runner.invoke(app, ["sources", "--json"]).stdout)[0]["key"]
    shown = json.loads(runner.invoke(app, ["show", f"{key}-0", "--json"]).stdout)
    assert shown["text"].startswith("Ferry fares rise in spring\n\nFerry fares on the Saltmere crossing will rise by four")
    assert [c["publisher"] for c in shown["alternates"]] == ["Coast Daily (sample)"] and shown["current"]
    assert [v["text"].split("\n\n")[1] for v in shown["earlier_versions"]] == [first.text]
    assert "text as stored" in runner.invoke(app, ["show", key]).stdout
    missing = runner.invoke(app, ["show", "ffffffff"])
    assert missing.exit_code == 2 and "no stored article has the id or key 'ffffffff'" in missing.stderr
