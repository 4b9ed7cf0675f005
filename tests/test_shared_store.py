"""A team on one Chroma server: two homes (two machines' BRIEFING_HOME) point at the same server,
which is the store of record; each home's catalog, keyword index and side file are caches of it.

The homes run the real CLI against a real `chroma run` on loopback. The hashing fake embeds (see
conftest): these tests are about what the store holds and who sees it, not about embeddings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.daily import example_topics_path
from tests.conftest import CORPUS, ROOT, HashingEmbedder, _free_port
from tests.test_faults_store import ChromaServer

runner = CliRunner()
QUESTION = "How many North Korean troops are in Kursk?"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A Chroma server of this test's own (so it can be wiped and stopped), and the fake embedder."""
    chroma = ChromaServer(tmp_path / "chroma-data", _free_port()).start()
    monkeypatch.setenv("BRIEFING_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("BRIEFING_CHROMA_PORT", str(chroma.port))
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: HashingEmbedder())
    yield chroma
    chroma.stop()


@pytest.fixture
def halves(tmp_path):
    """The sample corpus in two folders: articles from October, and the rest."""
    first, second = tmp_path / "october", tmp_path / "later"
    for folder in (first, second):
        folder.mkdir()
    for path in sorted(CORPUS.glob("2024-*.md")):
        shutil.copy(path, first if path.name.startswith("2024-10") else second)
    return first, second


def on(home, *args: str):
    """Run a command as the machine whose BRIEFING_HOME is ``home``."""
    result = runner.invoke(app, list(args), env={"BRIEFING_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return result


def articles(home) -> list[tuple[str, str]]:
    return sorted((a["id"], a["title"]) for a in json.loads(on(home, "sources", "--json").stdout))


def test_a_second_home_answers_as_the_first(server, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    on(a, "ingest", str(CORPUS))
    first = on(b, "stats", "--json")
    assert "local cache built from the server" in first.stderr
    stats_a, stats_b = json.loads(on(a, "stats", "--json").stdout), json.loads(first.stdout)
    for field in ("articles", "chunks", "vectors", "alternates", "publishers", "earliest", "latest"):
        assert stats_b[field] == stats_a[field], field
    assert stats_b["articles"] == 20 and stats_b["chunks"] == 42  # the sample corpus
    assert articles(b) == articles(a)
    for args in (["ask", QUESTION, "--provider", "extractive"], ["brief", "North Korean troops in Kursk", "--provider", "extractive"],
                 ["daily", "--date", "2024-11-05", "--dry-run", "--provider", "extractive"]):
        assert on(b, *args).stdout == on(a, *args).stdout, args
    assert "Pentagon" in on(b, "ask", QUESTION, "--provider", "extractive").stdout
    assert "local cache built" not in on(b, "stats").stderr  # the cache is current: no second build


def test_what_one_home_writes_the_other_sees_next(server, tmp_path, halves):
    a, b = tmp_path / "a", tmp_path / "b"
    october, later = halves
    on(a, "ingest", str(october))
    seen_first = articles(b)
    assert seen_first == articles(a) and len(seen_first) == 6
    on(a, "ingest", str(later))
    assert articles(b) == articles(a) and len(articles(b)) == 20  # B's next command sees A's second ingest
    extra = tmp_path / "b-files"
    extra.mkdir()
    (extra / "frost.md").write_text("---\ntitle: Early frost closes the Alder County market\npublished: 2024-12-20\n"
                                    "publisher: Sample Gazette (sample)\n---\nThe Alder County market closed early "
                                    "on Friday after a hard frost damaged the last vegetable stalls.\n")
    on(b, "ingest", str(extra))
    assert articles(a) == articles(b) and len(articles(a)) == 21  # and A sees what B ingested
    on(b, "ingest", str(extra), "--prune")
    assert len(articles(a)) == 21  # B's prune leaves A's files alone: B cannot see them on its disk


def test_a_copy_ingested_on_one_home_is_an_alternate_source_on_both(server, tmp_path):
    body = ("The Alder County market closed early on Friday after a hard frost damaged the last vegetable "
            "stalls, the market board said. Traders expect to reopen on Tuesday if the weather allows.")
    for home, publisher in (("a", "Sample Gazette (sample)"), ("b", "Valley Courier (sample)")):
        folder = tmp_path / f"{home}-files"
        folder.mkdir()
        (folder / "frost.md").write_text(f"---\ntitle: Frost closes the Alder County market\npublished: 2024-12-20\n"
                                         f"publisher: {publisher}\n---\n{body}\n")
    on(tmp_path / "a", "ingest", str(tmp_path / "a-files"))
    on(tmp_path / "b", "ingest", str(tmp_path / "b-files"))  # B's copy folds into A's article
    for home in ("a", "b"):
        listed = json.loads(on(tmp_path / home, "sources", "--json").stdout)
        assert [(a["publisher"], a["alternates"]) for a in listed] == [("Sample Gazette (sample)", 1)], home


def test_two_homes_ingesting_at_once_end_with_the_union(server, tmp_path, halves):
    code = ("import sys; from pathlib import Path; from tests.conftest import HashingEmbedder; "
            "from briefing.ingest import ingest; from briefing.pipeline import Components; "
            "from briefing.settings import Settings; "
            "ingest([Path(sys.argv[1])], Components(Settings(), embedder=HashingEmbedder()))")
    homes = [tmp_path / "a", tmp_path / "b"]
    children = [
        subprocess.Popen([sys.executable, "-c", code, str(folder)], cwd=ROOT, env={**os.environ, "BRIEFING_HOME": str(home)},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for home, folder in zip(homes, halves)
    ]
    for child in children:
        assert child.wait(timeout=300) == 0, child.stdout.read()
    union = articles(homes[0])
    assert union == articles(homes[1]) and len(union) == 20
    assert len({article_id for article_id, _ in union}) == 20  # no article twice
    for home in homes:
        stats = json.loads(on(home, "stats", "--json").stdout)
        assert stats["chunks"] == stats["vectors"] == 42


def test_a_wiped_server_is_an_error_on_every_home_until_an_ingest_restores_it(server, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    on(a, "ingest", str(CORPUS))
    on(b, "stats")
    server.stop()
    shutil.rmtree(server.path)  # the server's data is gone
    server.start()
    for home in (a, b):
        for args in (["ask", QUESTION, "--provider", "extractive"], ["sources"], ["stats"]):
            result = runner.invoke(app, args, env={"BRIEFING_HOME": str(home)})
            assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
            assert result.stderr.startswith("Error: the Chroma server at http://127.0.0.1:") and "wiped" in result.stderr
    restored = on(a, "ingest", str(CORPUS))  # the machine that holds the articles uploads them again
    assert "uploaded this home's 20 articles" in restored.stderr
    assert "local cache built from the server" in on(b, "stats").stderr  # B rebuilds from the restored store
    assert articles(b) == articles(a) and len(articles(b)) == 20


def test_a_stopped_server_is_one_error_line_on_every_home(server, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    on(a, "ingest", str(CORPUS))
    on(b, "stats")
    server.stop()
    for home in (a, b):
        daily = ["daily", "--dry-run", "--topics", str(example_topics_path())]
        for args in (["ask", QUESTION, "--provider", "extractive"], ["sources"], ["stats"], daily):
            result = runner.invoke(app, args, env={"BRIEFING_HOME": str(home)})
            assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
            assert f"127.0.0.1:{server.port}" in result.stderr


def test_a_store_filled_by_the_earlier_version_is_upgraded_by_its_next_ingest(server, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    on(a, "ingest", str(CORPUS))
    collection = os.environ.get("BRIEFING_COLLECTION", "articles")
    _drop_collections(server.port, [f"{collection}.articles", f"{collection}.files", f"{collection}.log"])
    from briefing.settings import Settings
    from briefing.store.catalog import Catalog

    settings = Settings(home=a)
    with Catalog(settings.store_dir / "catalog.sqlite") as catalog:  # as the earlier version left it
        catalog.db.execute("DELETE FROM meta WHERE key = 'server_revision'")
        catalog.db.execute("UPDATE files SET origin = NULL")
    refused = runner.invoke(app, ["stats"], env={"BRIEFING_HOME": str(b)})
    assert refused.exit_code == 1 and "earlier version of briefing" in refused.stderr
    upgraded = on(a, "ingest", str(CORPUS))
    assert "uploaded this home's 20 articles" in upgraded.stderr
    assert articles(b) == articles(a)
    (tmp_path / "nothing").mkdir()
    on(b, "ingest", str(tmp_path / "nothing"), "--prune")  # A's files are A's, though its old catalog did not say so
    assert len(articles(a)) == 20


def _drop_collections(port: int, names: list[str]) -> None:
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    for name in names:
        client.delete_collection(name)


def test_empty_variables_mean_unset(monkeypatch):
    monkeypatch.setenv("BRIEFING_CHROMA_HOST", "")
    monkeypatch.setenv("BRIEFING_JUDGE", "")
    monkeypatch.setenv("OPENAI_API_KEY", "")
    from briefing.settings import Settings

    settings = Settings()
    assert (settings.chroma_host, settings.judge, settings.has_openai_key) == (None, "auto", False)
    assert settings.store_dir.name.startswith("local-")


def test_an_ingest_cut_off_before_the_server_has_it_is_finished_by_the_next(server, tmp_path, halves, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    october, later = halves
    on(a, "ingest", str(october))
    from briefing.store.record import ServerRecord

    real = ServerRecord.publish
    with monkeypatch.context() as patch:  # the server goes away after B's local commit, before its upload
        patch.setattr(ServerRecord, "publish", lambda *args, **kwargs: (_ for _ in ()).throw(ConnectionError("gone")))
        assert runner.invoke(app, ["ingest", str(later)], env={"BRIEFING_HOME": str(b)}).exit_code == 1
    assert ServerRecord.publish is real
    on(a, "ingest", str(CORPUS / "README.md"))  # another machine writes meanwhile
    refused = runner.invoke(app, ["sources"], env={"BRIEFING_HOME": str(b)})
    assert refused.exit_code == 1 and "stopped before its articles reached" in refused.stderr
    finished = on(b, "ingest", str(later))
    assert "an earlier ingest here stopped before it reached the server" in finished.stderr
    assert articles(a) == articles(b) and len(articles(a)) == 21  # 20 articles and the corpus README
