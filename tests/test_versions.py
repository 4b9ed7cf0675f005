"""Versions of one story (same URL, or same guid from one publisher): the newest is what is
retrieved and cited, the earlier ones stay in the catalog, and `briefing sources` shows them
(field case F12's kind, in other shapes). Uses the hashing embedder (see conftest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from briefing.ingest.run import ingest
from briefing.pipeline import Components
from briefing.settings import Settings
from briefing.store.store import Store
from briefing.text import embedded_text
from tests.conftest import CORPUS

BODY = ("A magnitude 5.8 earthquake struck the valley early on Tuesday, killing at least {n} people and injuring "
        "dozens, the civil protection agency said. Rescue teams were searching collapsed houses in two hill villages.")


def item(guid: str, n: int, published: str, url: str = "https://wire.example/quake", **extra) -> dict:
    return {"id": guid, "title": f"Quake kills at least {n}", "publisher": "Alpine Wire (sample)", "url": url,
            "published": published, "text": BODY.format(n=n), **extra}


def write_jsonl(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def current(settings: Settings, embedder) -> dict:
    with Store(settings, embedder) as store:
        return {a.title: a for a in store.catalog.list_articles()}


def stored_texts(settings: Settings, embedder) -> str:
    with Store(settings, embedder) as store:
        return " ".join(text for _, _, text in store.catalog.all_chunks())


def test_a_later_version_by_guid_in_one_feed_replaces_the_earlier(tmp_path, store_mode, fake_embedder):
    items = [item("q1", 8, "2024-11-05T10:00:00Z", url="https://wire.example/quake-8"),
             item("q1", 23, "2024-11-05T10:00:00Z", url="https://wire.example/quake-23", updated="2024-11-05T16:00:00Z")]
    settings = Settings()
    report = ingest([write_jsonl(tmp_path / "feed.jsonl", items)], Components(settings, embedder=fake_embedder))
    assert (report.articles, report.updates) == (1, 1)
    (article,) = current(settings, fake_embedder).values()
    assert article.title == "Quake kills at least 23" and [v.title for v in article.earlier_versions] == ["Quake kills at least 8"]
    texts = stored_texts(settings, fake_embedder)
    assert "at least 23 people" in texts and "at least 8 people" not in texts  # only the newer is retrievable
    with Store(settings, fake_embedder) as store:
        assert len(store.vector_index()) == store.collection.count() == 1
        (old_text,) = store.catalog.db.execute("SELECT text FROM articles WHERE superseded_by IS NOT NULL").fetchone()
    assert "at least 8 people" in old_text  # nothing is lost from the catalog's history


def test_an_older_version_read_later_stays_history(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "a-afternoon.jsonl", [item("q1", 23, "2024-11-05T16:00:00Z")])
    write_jsonl(folder / "b-morning.jsonl", [item("q1", 8, "2024-11-05T10:00:00Z")])
    settings = Settings()
    ingest([folder], Components(settings, embedder=fake_embedder))
    (article,) = current(settings, fake_embedder).values()
    assert article.title == "Quake kills at least 23" and len(article.earlier_versions) == 1
    assert "at least 8 people" not in stored_texts(settings, fake_embedder)


def test_versions_without_a_time_order_keep_the_stored_one_and_say_so(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [item("q1", 8, None)])
    write_jsonl(folder / "b.jsonl", [item("q1", 23, None)])
    settings = Settings()
    report = ingest([folder], Components(settings, embedder=fake_embedder))
    assert [a.title for a in current(settings, fake_embedder).values()] == ["Quake kills at least 8"]
    assert any("no later publish or update time" in w.text and w.path.endswith("b.jsonl") for w in report.warnings)


def test_different_guids_at_one_url_are_different_stories(tmp_path, fake_embedder):
    """A feed that links every item to the same page (a live blog, a front page) is not one story."""
    items = [item("post-1", 8, "2024-11-05T10:00:00Z", url="https://wire.example/live"),
             {**item("post-2", 3, "2024-11-05T11:00:00Z", url="https://wire.example/live"), "title": "Ferries cancelled",
              "text": "All ferries to the islands were cancelled on Tuesday afternoon because of the high winds."}]
    settings = Settings()
    report = ingest([write_jsonl(tmp_path / "live.jsonl", items)], Components(settings, embedder=fake_embedder))
    assert (report.articles, report.updates) == (2, 0)


def test_a_same_publisher_near_copy_that_is_newer_is_an_update_not_a_copy(tmp_path, fake_embedder):
    """A story re-published under a new URL (the slug follows the new headline) by its own outlet."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [item("", 8, "2024-11-05T10:00:00Z", url="https://wire.example/quake-kills-8")])
    write_jsonl(folder / "b.jsonl", [item("", 9, "2024-11-05T12:00:00Z", url="https://wire.example/quake-kills-9")])
    settings = Settings()
    report = ingest([folder], Components(settings, embedder=fake_embedder))
    assert (report.articles, report.updates, report.duplicates) == (1, 1, 0)
    assert list(current(settings, fake_embedder)) == ["Quake kills at least 9"]


def test_removing_the_newer_version_brings_back_the_earlier_one_in_the_same_run(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [item("q1", 8, "2024-11-05T10:00:00Z")])
    newer = write_jsonl(folder / "b.jsonl", [item("q1", 23, "2024-11-05T16:00:00Z")])
    settings = Settings()
    ingest([folder], Components(settings, embedder=fake_embedder))
    newer.unlink()
    report = ingest([folder], Components(settings, embedder=fake_embedder), prune=True)
    assert report.removed_articles == 1
    (article,) = current(settings, fake_embedder).values()
    assert article.title == "Quake kills at least 8" and article.earlier_versions == []
    assert "at least 8 people" in stored_texts(settings, fake_embedder)


def test_a_store_made_under_the_first_ingest_rules_is_upgraded_in_place(tmp_path, monkeypatch, fake_embedder):
    """Simulates a store made before ingest format 2 (article ids from the body alone, no format
    mark): the next ingest reads every file again, gives the articles their new ids, loses and
    duplicates nothing, and takes the vectors of unchanged chunks from the side file."""
    from briefing.ingest import run as ingest_module
    from briefing.ingest.dedupe import content_hash

    settings = Settings()
    with monkeypatch.context() as old:
        old.setattr(ingest_module, "article_hash", lambda title, text: content_hash(text))
        ingest([CORPUS], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        store.catalog.db.execute("DELETE FROM meta WHERE key = 'ingest_format'")
        old_keys = {a.key for a in store.catalog.list_articles()}
        before = {a.title: a.published for a in store.catalog.list_articles()}
    calls = len(fake_embedder.calls)
    report = ingest([CORPUS / "2024-10-08-kursk-incursion-two-months.md"], Components(settings, embedder=fake_embedder))
    assert any("read again under the current ingest rules" in w.text for w in report.warnings)
    assert report.embedded == 0 and len(fake_embedder.calls) == calls  # every vector reused
    with Store(settings, fake_embedder) as store:
        after = {a.title: a.published for a in store.catalog.list_articles()}
        new_keys = {a.key for a in store.catalog.list_articles()}
        chunk_ids = store.catalog.chunk_ids()
        assert set(store.collection.get(include=[])["ids"]) == chunk_ids == set(store.vector_index().ids.tolist())
        assert store.catalog.get_meta("ingest_format") == ingest_module.INGEST_FORMAT
        vectors = store.vectors_of(sorted(chunk_ids))
        stored = store.catalog.chunks_with_articles(chunk_ids)
        texts = {chunk.id: embedded_text(article.title, chunk.text, chunk.overlap) for chunk, article in stored}
    assert after == before and not (old_keys & new_keys)
    expected = fake_embedder.embed([texts[cid] for cid in sorted(chunk_ids)])
    assert np.allclose(np.stack([vectors[cid] for cid in sorted(chunk_ids)]), expected, atol=1e-6)


def test_a_page_republished_at_its_url_with_a_later_modified_time_replaces_it(tmp_path, fake_embedder):
    def page(title: str, body: str, modified: str) -> str:
        return (f'<html><head><title>{title}</title><link rel="canonical" href="https://fp.example/dam">'
                f'<meta property="article:published_time" content="2024-11-12T07:00:00Z">'
                f'<meta property="article:modified_time" content="{modified}"></head>'
                f"<body><article><h1>{title}</h1><p>{body}</p></article></body></html>")

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "v1.html").write_text(page("Dam inspection ordered", "The regulator ordered an urgent inspection of the "
                                         "Storvatn dam on Tuesday after engineers found a crack in the spillway wall.",
                                         "2024-11-12T07:00:00Z"))
    (folder / "v2.html").write_text(page("Dam crack not dangerous", "Inspectors said on Wednesday that the crack in the "
                                         "Storvatn dam spillway was not dangerous and could be repaired within weeks.",
                                         "2024-11-13T15:00:00Z"))
    settings = Settings()
    report = ingest([folder], Components(settings, embedder=fake_embedder))
    assert report.updates == 1
    assert list(current(settings, fake_embedder)) == ["Dam crack not dangerous"]


def test_an_upgrade_keeps_what_a_file_it_can_no_longer_read_stored(tmp_path, monkeypatch, fake_embedder):
    """A file the current rules refuse (an undeclared legacy encoding that two code pages read
    cleanly, which the first rules read as Latin-1) keeps its article through the upgrade, is
    reported once, and is tried again by the next ingest."""
    from briefing.ingest import loaders
    from briefing.ingest.decoding import Decoded

    folder = tmp_path / "in"
    folder.mkdir()
    french = folder / "conseil.txt"
    french.write_bytes("Budget voté\n\nLe conseil a voté le budget, selon le maire. Les travaux commenceront à l'été.".encode("cp1252"))
    write_jsonl(folder / "b.jsonl", [item("q1", 8, "2024-11-05T10:00:00Z")])
    settings = Settings()
    with monkeypatch.context() as old:
        old.setattr(loaders, "decode", lambda data, path, markup=False: Decoded(data.decode("latin-1"), "latin-1", "utf-8"))
        ingest([folder], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        store.catalog.db.execute("DELETE FROM meta WHERE key = 'ingest_format'")
    report = ingest([folder / "b.jsonl"], Components(settings, embedder=fake_embedder))
    assert [s.path for s in report.skipped] == [str(french.resolve())]
    assert "encoding could not be determined" in report.skipped[0].reason
    assert set(current(settings, fake_embedder)) == {"Quake kills at least 8", "Budget voté"}
    again = ingest([folder / "b.jsonl"], Components(settings, embedder=fake_embedder))
    assert [s.path for s in again.skipped] == [str(french.resolve())]  # still tried, still kept


def test_a_store_made_before_headlines_were_citable_is_upgraded_on_the_next_ingest(tmp_path, fake_embedder):
    """Format 2 stored the body alone; the next ingest re-reads the files, puts each headline at the
    start of its article's text, and keeps every vector (what is embedded did not change)."""
    from briefing.ingest import run as ingest_module

    feed = write_jsonl(tmp_path / "items.jsonl", [
        {"id": "m1", "title": "Ferry operator suspends night crossings to Alder Island", "publisher": "Coastal Times (sample)",
         "url": "https://coastal-times.example/1", "published": "2024-11-20T09:00:00Z",
         "text": "The decision follows two incidents in high winds last week, the company said on Wednesday."},
        item("q1", 8, "2024-11-19T08:00:00Z"),
    ])
    settings = Settings()
    with monkeypatch_context() as old:
        old.setattr(ingest_module, "citable_text", lambda title, body: body)
        ingest([feed], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        store.catalog.set_meta("ingest_format", "2")
        assert not any(t.startswith("Ferry operator") for (t,) in store.catalog.db.execute("SELECT text FROM articles"))
    calls = len(fake_embedder.calls)
    report = ingest([feed], Components(settings, embedder=fake_embedder))
    assert any("read again under the current ingest rules" in w.text for w in report.warnings)
    assert report.embedded == 0 and len(fake_embedder.calls) == calls
    with Store(settings, fake_embedder) as store:
        texts = dict(store.catalog.db.execute("SELECT title, text FROM articles"))
        documents = store.collection.get(include=["documents"])["documents"]
    assert texts["Ferry operator suspends night crossings to Alder Island"].startswith(
        "Ferry operator suspends night crossings to Alder Island\n\nThe decision follows")
    assert all(text.startswith(title + "\n\n") for title, text in texts.items())
    assert sorted(documents) == sorted(texts.values())  # Chroma's chunk documents carry the headline too


def monkeypatch_context():
    import pytest

    return pytest.MonkeyPatch.context()
