"""Ingest under bad input, kill -9 and concurrent runs: nothing already stored is lost, nothing is
stored twice, and every problem gets one line naming its file (and line)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.errors import InputError
from briefing.ingest.loaders import load_file
from briefing.ingest.run import file_digest, ingest
from briefing.locking import exclusive_lock
from briefing.pipeline import Components
from briefing.settings import Settings
from briefing.store.store import Store
from tests.conftest import CORPUS, ROOT, HashingEmbedder

runner = CliRunner()


# --- bad input ----------------------------------------------------------------------------------


def good_article(title: str, body: str) -> str:
    return f"---\ntitle: {title}\npublisher: Fixture Wire (test)\npublished: 2024-11-20T10:00:00Z\n---\n\n{body}\n"


@pytest.fixture
def messy_folder(tmp_path) -> Path:
    """One folder with every kind of bad input beside good articles."""
    folder = tmp_path / "messy"
    folder.mkdir()
    (folder / "good.md").write_text(good_article("Bridge reopens", "The Antonivskyi crossing reopened to aid convoys on Monday, officials said."))
    (folder / "feed.jsonl").write_text(
        json.dumps({"id": "f1", "title": "Grain deal", "text": "Ankara hosted talks on grain exports on Tuesday."}) + "\n"
        + '{"id": "f2", "title": "Broken", "text": \n'
        + json.dumps({"id": "f3", "title": "Power cuts", "text": "Kyiv scheduled rolling power cuts after strikes on substations."}) + "\n"
    )
    (folder / "same-id.jsonl").write_text(
        json.dumps({"id": "x1", "title": "Drone crosses Moldovan airspace", "text": "Moldova reported a drone crossing its airspace on Sunday night."}) + "\n"
        # the same id on a revised copy (no times tell which is newer), then on an unrelated story (a placeholder id)
        + json.dumps({"id": "x1", "title": "Drone crosses Moldovan airspace again", "text": "Moldova reported a drone crossing its airspace late on Sunday."}) + "\n"
        + json.dumps({"id": "x1", "title": "Baltic fishing quotas cut", "text": "A different story about fishing quotas in the Baltic Sea."}) + "\n"
    )
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (folder / "latin1.txt").write_bytes("Zürich talks\n\nDélégués met in Zürich to discuss prisoner exchanges.".encode("latin-1"))
    (folder / "utf16.txt").write_text("Kharkiv update\n\nOfficials in Kharkiv said shelling damaged a school.", encoding="utf-16")
    (folder / "empty.txt").write_bytes(b"")
    with (folder / "huge.txt").open("wb") as out:  # 50 MB
        block = b"Filler sentence about nothing in particular. " * 1000
        for _ in range(50 * 2**20 // len(block) + 1):
            out.write(block)
    (folder / "page.html").write_text(
        "<html><head><title>Port strike</title><style>body{color:red}</style>"
        "<script>document.write('TRACKER-SCRIPT')</script></head><body>"
        "<iframe src='https://ads.example/frame'>IFRAME-TEXT</iframe>"
        "<article><h1>Port strike</h1><p>Dockworkers in Odesa ended a two-day strike over unpaid wages, "
        "the union said on Wednesday.</p><p>Shipping resumed by evening, according to the port authority.</p></article>"
        "<script>var secret = 'INLINE-SCRIPT';</script></body></html>"
    )
    (folder / "bad-date.md").write_text("---\ntitle: Undated\npublished: the day after tomorrow\n---\n\nSome text here about a ceasefire.\n")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    return folder


def test_bad_input_is_reported_one_line_each_and_the_rest_ingested(messy_folder, tmp_path, monkeypatch):
    """Files that cannot be used are skipped, one line each; a path that does not exist stops the
    ingest before it starts instead (tests/test_usage_errors.py)."""
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: HashingEmbedder())
    result = runner.invoke(app, ["ingest", str(messy_folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    skipped = {(Path(s["path"]).name, s.get("line")): s["reason"] for s in report["skipped"]}

    assert set(skipped) == {
        ("feed.jsonl", 2), ("binary.md", None), ("empty.txt", None), ("huge.txt", None), ("loop", None),
    }
    assert "invalid JSON" in skipped[("feed.jsonl", 2)]
    assert "binary" in skipped[("binary.md", None)]
    assert "MB limit" in skipped[("huge.txt", None)] and "BRIEFING_MAX_FILE_MB" in skipped[("huge.txt", None)]
    # Stored with a caveat, said on stderr: a date that cannot be read, a second text under one id.
    warned = {(Path(w["path"]).name, w.get("line")): w["text"] for w in report["warnings"]}
    assert "publish date 'the day after tomorrow' not understood" in warned[("bad-date.md", None)]
    assert "stored undated" in warned[("bad-date.md", None)]
    assert "the stored version stays current" in warned[("same-id.jsonl", 2)]
    assert any(Path(w["path"]).name == "same-id.jsonl" and "it is not used to tell their stories apart" in w["text"]
               for w in report["warnings"])
    assert "symlink loop" in skipped[("loop", None)]
    # one line per problem on stderr, each naming its file (and line)
    problem_lines = [line for line in result.stderr.splitlines() if line.strip()]
    for (name, line), reason in list(skipped.items()) + list(warned.items()):
        assert any(name in text and reason in text and (line is None or f":{line}" in text) for text in problem_lines), name

    listed = {a["title"]: a for a in json.loads(runner.invoke(app, ["sources", "--json"]).stdout)}
    assert set(listed) == {"Bridge reopens", "Grain deal", "Power cuts", "Drone crosses Moldovan airspace",
                           "Baltic fishing quotas cut", "Zürich talks", "Kharkiv update", "Port strike", "Undated"}
    assert listed["Undated"]["published"] is None
    assert [v["title"] for v in listed["Drone crosses Moldovan airspace"]["earlier_versions"]] == [
        "Drone crosses Moldovan airspace again"]
    with Store(Settings(), HashingEmbedder()) as store:
        texts = " ".join(text for _, _, text in store.catalog.all_chunks())
    assert "Délégués met in Zürich" in texts and "shelling damaged a school" in texts
    assert not any(marker in texts for marker in ("TRACKER-SCRIPT", "INLINE-SCRIPT", "IFRAME-TEXT", "color:red"))


def test_strict_makes_skips_an_error_without_losing_what_was_stored(messy_folder, monkeypatch):
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: HashingEmbedder())
    assert runner.invoke(app, ["ingest", str(CORPUS)]).exit_code == 0
    before = len(json.loads(runner.invoke(app, ["sources", "--json"]).stdout))
    result = runner.invoke(app, ["ingest", str(messy_folder), "--strict"])
    assert result.exit_code == 1
    assert len(json.loads(runner.invoke(app, ["sources", "--json"]).stdout)) == before + 9


def test_a_huge_file_is_refused_without_being_read(tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as out:
        out.truncate(50 * 2**20)  # a sparse 50 MB file
    tracemalloc.start()
    with pytest.raises(InputError, match=r"huge.txt: 50.0 MB is over the 20 MB limit"):
        load_file(huge, max_bytes=20 * 2**20)
    file_digest(huge)  # the change check reads it in 1 MB blocks
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 * 2**20


def test_a_large_jsonl_file_is_streamed(tmp_path):
    """JSONL has no size limit: it is read a line at a time."""
    big = tmp_path / "big.jsonl"
    line = json.dumps({"title": "T", "text": "Word " * 2000}) + "\n"
    big.write_text(line * 3000)  # about 30 MB
    from briefing.ingest.loaders import load_jsonl

    tracemalloc.start()
    loaded = load_jsonl(big)
    _, handle_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(loaded.articles) == 3000
    assert handle_peak < 2 * big.stat().st_size  # the texts themselves, not a second whole-file copy


# --- kill -9 ------------------------------------------------------------------------------------


def run_child(home: Path, point: str, n: int, *paths: Path, wait: bool = True) -> subprocess.Popen | subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tests.ingest_child", str(home), point, str(n), *map(str, paths)]
    if not wait:
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def store_state(home: Path) -> dict:
    """Everything a reader sees: catalog chunks, Chroma's ids and texts, both indexes."""
    settings = Settings(home=home)
    with Store(settings, HashingEmbedder()) as store:
        catalog = {cid: text for cid, _, text in store.catalog.all_chunks()}
        got = store.collection.get(include=["documents"])
        chroma = dict(zip(got["ids"], got["documents"]))
        assert len(got["ids"]) == len(set(got["ids"]))
        keyword = sorted(store.keyword_index().ids)
        side = sorted(store.vector_index().ids.tolist())
        assert store.catalog.get_meta("vectors_pending") == "0"
        articles = store.catalog.counts()["articles"]
    return {"catalog": catalog, "chroma": chroma, "keyword": keyword, "side": side, "articles": articles}


@pytest.fixture(scope="module")
def clean_state(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("clean")
    ingest([CORPUS], Components(Settings(home=home), embedder=HashingEmbedder()))
    return store_state(home)


def assert_same_as_clean(home: Path, clean: dict) -> None:
    state = store_state(home)
    assert state["catalog"] == clean["catalog"]
    assert state["chroma"] == clean["catalog"]  # exactly the catalog's chunks: no duplicates, none missing
    assert state["keyword"] == sorted(clean["catalog"]) == state["side"]
    assert state["articles"] == clean["articles"]


@pytest.mark.parametrize(
    ("point", "n"),
    [("vectors-written", 1), ("vectors-written", 3), ("inside-catalog-transaction", 2), ("catalog-committed", 1),
     ("catalog-committed", 4), ("keyword-saved", 1), ("side-file-saved", 1)],
)
def test_kill_9_during_a_first_ingest_then_a_rerun_gives_a_clean_store(tmp_path, clean_state, point, n):
    home = tmp_path / "home"
    crashed = run_child(home, point, n, CORPUS)
    assert crashed.returncode == -9, crashed.stderr  # it really died at that point
    rerun = run_child(home, "none", 0, CORPUS)
    assert rerun.returncode == 0, rerun.stderr
    assert_same_as_clean(home, clean_state)


@pytest.mark.parametrize("point", ["vectors-written", "inside-catalog-transaction", "catalog-committed"])
def test_kill_9_while_changed_files_replace_their_chunks(tmp_path, clean_state, point):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    originals = {p: p.read_text() for p in sorted(corpus.glob("2024-11-*.md"))[:4]}
    for path, text in originals.items():  # an earlier version of four articles
        path.write_text(text.replace("said", "stated", 3))
    home = tmp_path / "home"
    assert run_child(home, "none", 0, corpus).returncode == 0
    for path, text in originals.items():
        path.write_text(text)
    crashed = run_child(home, point, 1, corpus)
    assert crashed.returncode == -9, crashed.stderr
    assert run_child(home, "none", 0, corpus).returncode == 0
    state = store_state(home)
    assert state["chroma"] == state["catalog"] == clean_state["catalog"]  # the old versions' chunks are gone


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5])
def test_kill_9_from_outside_at_a_random_moment(tmp_path, clean_state, delay):
    home = tmp_path / "home"
    child = run_child(home, "none", 0, CORPUS, wait=False)
    time.sleep(delay)
    child.kill()
    child.wait(timeout=60)
    assert run_child(home, "none", 0, CORPUS).returncode == 0
    assert_same_as_clean(home, clean_state)


# --- two ingests at once --------------------------------------------------------------------------


def test_a_second_ingest_waits_for_the_first_and_says_so(tmp_path, clean_state):
    home = tmp_path / "home"
    log = tmp_path / "child.err"
    command = [sys.executable, "-m", "tests.ingest_child", str(home), "none", "0", str(CORPUS)]
    with exclusive_lock(Settings(home=home).store_dir / "ingest.lock", on_wait=pytest.fail):  # we are the first
        with log.open("w") as err:
            child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 60
        while "waiting for it to finish" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        assert child.poll() is None, "it must not run while the lock is held"
    assert child.wait(timeout=120) == 0, log.read_text()
    assert "another ingest is writing to" in log.read_text() and f"(pid {os.getpid()})" in log.read_text()
    assert_same_as_clean(home, clean_state)


def test_two_ingests_at_once_both_succeed_and_the_store_is_their_union(tmp_path, clean_state):
    halves = [tmp_path / "a", tmp_path / "b"]
    for half in halves:
        half.mkdir()
    files = sorted(CORPUS.glob("2024-*.md"))
    for i, path in enumerate(files):  # the re-post pair (files 10 and 11) stays in one half, so
        shutil.copy(path, halves[i >= 12] / path.name)  # which copy is the original never depends on timing
    home = tmp_path / "home"
    children = [run_child(home, "none", 0, half, wait=False) for half in halves]
    for child in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
    state = store_state(home)
    assert state["chroma"] == state["catalog"]
    assert sorted(state["catalog"]) == state["keyword"] == state["side"]
    # the same chunks as one clean ingest of the whole corpus
    assert sorted(state["catalog"].values()) == sorted(clean_state["catalog"].values())


# --- atomic files ---------------------------------------------------------------------------------


def test_an_interrupted_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    from briefing.output.files import write_atomic

    target = tmp_path / "briefs" / "daily.md"
    write_atomic(target, "old brief\n")

    def interrupted(fd):
        raise KeyboardInterrupt  # as if the run was stopped while the new text was being flushed

    monkeypatch.setattr("briefing.output.files.os.fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new brief, half written" * 1000)
    assert target.read_text() == "old brief\n"
    assert [p.name for p in target.parent.iterdir()] == ["daily.md"]


def test_a_killed_brief_run_never_leaves_a_half_written_file(tmp_path):
    """A child writes a large brief file atomically and is killed with SIGKILL mid-write."""
    target = tmp_path / "brief.md"
    target.write_text("previous\n")
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import briefing.output.files as r\n"
        "real = os.fdopen\n"
        "class Dying:\n"
        "    def __init__(self, f): self.f = f\n"
        "    def __enter__(self): return self\n"
        "    def __exit__(self, *a): return False\n"
        "    def write(self, text): self.f.write(text[: len(text) // 2]); self.f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "r.os.fdopen = lambda *a, **k: Dying(real(*a, **k))\n"
        f"r.write_atomic(Path({str(target)!r}), 'x' * 1_000_000)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    assert target.read_text() == "previous\n"


def test_vector_side_file_and_catalog_agree_after_all_that(tmp_path):
    """The side file written by ingest equals the vectors Chroma holds."""
    settings = Settings(home=tmp_path / "home")
    ingest([CORPUS], Components(settings, embedder=HashingEmbedder()))
    with Store(settings, HashingEmbedder()) as store:
        index = store.vector_index()
        got = store.collection.get(ids=index.ids.tolist(), include=["embeddings"])
        chroma = dict(zip(got["ids"], got["embeddings"]))
        for cid, vector in zip(index.ids.tolist(), np.asarray(index.vectors)):
            np.testing.assert_allclose(vector, chroma[cid], atol=1e-6)
