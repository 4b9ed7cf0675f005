"""Chroma server faults: unreachable, stopped between runs, or stopped in the middle of an ingest.
Each gives one clear error line and never an answer from some other store. A real `chroma run`
server is started and stopped here (the session server in conftest stays up for other tests)."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.ingest.run import ingest
from briefing.pipeline import Components
from briefing.settings import Settings
from briefing.store.store import Store
from tests.conftest import CORPUS, HashingEmbedder, _chroma_executable, _free_port, _wait_for_heartbeat

runner = CliRunner()


class ChromaServer:
    def __init__(self, path, port: int):
        self.path, self.port, self.process = path, port, None

    def start(self) -> ChromaServer:
        self.process = subprocess.Popen(
            [_chroma_executable(), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_for_heartbeat(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def server(tmp_path, monkeypatch):
    port = _free_port()
    chroma = ChromaServer(tmp_path / "chroma-data", port).start()
    monkeypatch.setenv("BRIEFING_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("BRIEFING_CHROMA_PORT", str(port))
    embedder = HashingEmbedder()
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: embedder)
    yield chroma
    chroma.stop()


def one_error_line(result, port: int) -> str:
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    return result.stderr


def test_unreachable_server_is_an_error_for_every_command(monkeypatch):
    port = _free_port()  # nothing listens here
    monkeypatch.setenv("BRIEFING_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("BRIEFING_CHROMA_PORT", str(port))
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: HashingEmbedder())
    one_error_line(runner.invoke(app, ["ingest", str(CORPUS)]), port)
    assert not any((Settings().home / "stores").glob("local-*"))  # no embedded store was made instead


def test_server_stopped_after_ingest_is_an_error_not_an_answer_from_the_side_file(server):
    assert runner.invoke(app, ["ingest", str(CORPUS)]).exit_code == 0
    ok = runner.invoke(app, ["ask", "How many North Korean troops are in Kursk?", "--provider", "extractive"])
    assert ok.exit_code == 0 and "Kursk" in ok.stdout
    server.stop()
    for args in (["ask", "How many North Korean troops are in Kursk?", "--provider", "extractive"],
                 ["brief", "Kursk", "--provider", "extractive"], ["stats"], ["ingest", str(CORPUS)]):
        error = one_error_line(runner.invoke(app, args), server.port)
        assert "Chroma" in error


def test_server_lost_in_the_middle_of_an_ingest_then_a_rerun_completes_it(server, monkeypatch):
    settings = Settings()

    class DyingServerEmbedder(HashingEmbedder):
        """Stops the Chroma server on its second batch, as a crash of the server mid-run would."""

        def embed(self, texts):
            if len(self.calls) == 1:
                server.stop()
            return super().embed(texts)

    monkeypatch.setattr("briefing.ingest.run.EMBED_BATCH", 8)
    from briefing.errors import StoreError

    with pytest.raises(StoreError, match=rf"Chroma at http://127.0.0.1:{server.port} failed while writing vectors"):
        ingest([CORPUS], Components(settings, embedder=DyingServerEmbedder()))
    server.start()
    ingest([CORPUS], Components(settings, embedder=HashingEmbedder()))
    with Store(settings, HashingEmbedder()) as store:
        catalog = {cid: text for cid, _, text in store.catalog.all_chunks()}
        got = store.collection.get(include=["documents"])
        assert dict(zip(got["ids"], got["documents"])) == catalog
        assert len(catalog) == 42  # the sample corpus in 42 chunks (headlines are part of the text)
        assert sorted(store.vector_index().ids.tolist()) == sorted(catalog)
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["vectors"] == 42


def test_a_wiped_server_is_refilled_by_the_next_ingest(server):
    assert runner.invoke(app, ["ingest", str(CORPUS)]).exit_code == 0
    settings = Settings()
    with Store(settings, HashingEmbedder()) as store:
        store.collection.delete(ids=sorted(store.catalog.chunk_ids()))  # the server lost its data
    refused = runner.invoke(app, ["ask", "How many North Korean troops are in Kursk?", "--provider", "extractive"])
    assert refused.exit_code == 1 and "holds 0 vectors but the catalog has 42" in refused.stderr
    assert runner.invoke(app, ["ingest", str(CORPUS)]).exit_code == 0  # files unchanged, vectors restored
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["vectors"] == 42
    answered = runner.invoke(app, ["ask", "How many North Korean troops are in Kursk?", "--provider", "extractive"])
    assert answered.exit_code == 0 and "Kursk" in answered.stdout
