"""The vector side file: exact windowed search, delta updates, and staying in step with Chroma."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import numpy as np
import pytest

from briefing.errors import StoreError
from briefing.ingest.run import ingest
from briefing.models import RetrievalFilter
from briefing.pipeline import Components
from briefing.settings import Settings
from briefing.store.side_files import SideFiles
from briefing.store.store import Store
from briefing.store.vector_index import UNDATED, VectorDelta, VectorIndex
from tests.conftest import FIXTURES


def day(d: int) -> int:
    return int(datetime(2024, 11, d, 12, tzinfo=UTC).timestamp())


def unit_rows(n: int, dim: int = 8, seed: int = 7) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def small_index() -> VectorIndex:
    """Six chunks given out of date order, one undated."""
    stamps = [day(5), UNDATED, day(1), day(3), day(3), day(9)]
    return VectorIndex.build([f"c{i}" for i in range(6)], stamps, unit_rows(6), revision=4, embedder="fake")


def test_window_is_inclusive_and_leaves_out_undated_chunks(small_index):
    since = datetime(2024, 11, 3, tzinfo=UTC)
    until = datetime(2024, 11, 5, 12, tzinfo=UTC)
    assert small_index.ids_in(since, until) == {"c3", "c4", "c0"}
    assert small_index.ids_in(None, None) == {f"c{i}" for i in range(6)}
    assert "c1" not in small_index.ids_in(None, datetime(2024, 12, 1, tzinfo=UTC))
    assert small_index.ids_in(datetime(2024, 12, 1, tzinfo=UTC), None) == set()


def test_search_matches_brute_force_within_the_window_and_allowed_ids():
    rng = np.random.default_rng(3)
    vectors = unit_rows(500, dim=16, seed=11)
    stamps = [day(int(d)) for d in rng.integers(1, 29, size=500)]
    ids = [f"c{i}" for i in range(500)]
    index = VectorIndex.build(ids, stamps, vectors, revision=1, embedder="fake")
    query = vectors[42]
    since, until = datetime(2024, 11, 10, tzinfo=UTC), datetime(2024, 11, 12, 23, tzinfo=UTC)
    allowed = {f"c{i}" for i in range(0, 500, 3)}

    inside = [i for i in range(500) if since.timestamp() <= stamps[i] <= until.timestamp() and ids[i] in allowed]
    expected = sorted(inside, key=lambda i: -float(vectors[i] @ query))[:10]
    got = index.search(query, 10, since, until, allowed)
    assert [cid for cid, _ in got] == [ids[i] for i in expected]
    assert [score for _, score in got] == pytest.approx([float(vectors[i] @ query) for i in expected], abs=1e-5)


def test_search_asks_for_more_than_the_window_holds(small_index):
    got = small_index.search(unit_rows(1)[0], 50, datetime(2024, 11, 3, tzinfo=UTC), None)
    assert sorted(cid for cid, _ in got) == ["c0", "c3", "c4", "c5"]


def test_delta_update_equals_a_fresh_build(small_index):
    delta = VectorDelta(base_revision=4)
    new = unit_rows(2, seed=99)
    delta.add(["c9", "c2"], [day(2), day(7)], new)  # c2 re-embedded with a new date
    delta.remove(["c5", "c9"])
    delta.add(["c9"], [day(4)], new[:1])  # removed, then written again in the same run
    updated = small_index.updated(delta, revision=5)

    assert updated.revision == 5
    assert list(updated.ids) == ["c1", "c3", "c4", "c9", "c0", "c2"]  # in stamp order
    got = updated.vectors_of(["c2", "c9", "c0"])
    np.testing.assert_allclose(got["c2"], new[1])
    np.testing.assert_allclose(got["c9"], new[0])
    np.testing.assert_allclose(got["c0"], small_index.vectors_of(["c0"])["c0"])


def test_save_and_load_round_trip(tmp_path, small_index):
    small_index.save(tmp_path / "vectors")
    loaded = VectorIndex.load(tmp_path / "vectors")
    assert (loaded.revision, loaded.embedder) == (4, "fake")
    assert list(loaded.ids) == list(small_index.ids)
    np.testing.assert_array_equal(np.asarray(loaded.vectors), small_index.vectors)
    assert VectorIndex.load(tmp_path / "missing") is None


def side_file_state(store: Store) -> tuple[list[str], np.ndarray]:
    index = store.vector_index()
    order = np.argsort(index.ids)
    return list(index.ids[order]), np.asarray(index.vectors)[order]


def test_ingest_keeps_the_side_file_equal_to_a_rebuild_from_chroma(store_mode, fake_embedder, tmp_path, monkeypatch):
    settings = Settings()
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES / "formats", folder)

    def no_rebuild(*args):
        raise AssertionError("ingest should update the side file from its own writes, not re-read Chroma")

    with monkeypatch.context() as patch:
        patch.setattr(SideFiles, "_from_chroma", no_rebuild)
        ingest([folder], Components(settings, embedder=fake_embedder))
        (folder / "items.jsonl").unlink()  # a second run that adds nothing and removes one file's chunks
        ingest([folder], Components(settings, embedder=fake_embedder), prune=True)

    with Store(settings, fake_embedder) as store:
        ids, vectors = side_file_state(store)
        assert set(ids) == store.catalog.chunk_ids()
        assert store.vector_index().revision == store.catalog.revision
        shutil.rmtree(store.vector_dir)  # forces a rebuild from Chroma
    with Store(settings, fake_embedder) as store:
        rebuilt_ids, rebuilt = side_file_state(store)
    assert rebuilt_ids == ids
    np.testing.assert_allclose(rebuilt, vectors, atol=1e-6)


def test_dense_search_uses_the_window(store_mode, fake_embedder):
    settings = Settings()
    ingest([FIXTURES / "formats"], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        query = fake_embedder.embed(["troops"])[0]
        everything = store.dense_search(query, 100, RetrievalFilter())
        assert {cid for cid, _ in everything} == store.catalog.chunk_ids()
        window = RetrievalFilter(since=datetime(2024, 11, 1, tzinfo=UTC), until=datetime(2024, 11, 30, tzinfo=UTC))
        got = {cid for cid, _ in store.dense_search(query, 100, window)}
        assert got == store.catalog.chunk_ids_where(window.since, window.until)
        assert got != store.catalog.chunk_ids()


def test_a_wiped_server_is_an_error_not_an_answer_from_the_side_file(chroma_server, monkeypatch, fake_embedder):
    monkeypatch.setenv("BRIEFING_CHROMA_HOST", chroma_server["host"])
    monkeypatch.setenv("BRIEFING_CHROMA_PORT", str(chroma_server["port"]))
    monkeypatch.setenv("BRIEFING_COLLECTION", "wiped")
    settings = Settings()
    ingest([FIXTURES / "formats"], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        store.collection.delete(ids=sorted(store.catalog.chunk_ids()))
        with pytest.raises(StoreError, match="holds 0 vectors but the catalog has"):
            store.dense_search(fake_embedder.embed(["troops"])[0], 5, RetrievalFilter())


def test_folder_swap_cleans_up_after_dead_processes_and_tolerates_a_concurrent_winner(tmp_path):
    from briefing.store.folders import replace_folder

    folder = tmp_path / "vectors"
    dead = tmp_path / "vectors.tmp-999999999"  # left by a process killed mid-swap
    dead.mkdir()
    replace_folder(folder, lambda into: (into / "a").write_text("1"))
    assert (folder / "a").read_text() == "1" and not dead.exists()

    def racing(into):
        (into / "a").write_text("2")
        shutil.rmtree(folder)  # another process swaps its copy in while we write ours
        (tmp_path / "theirs").mkdir()
        (tmp_path / "theirs" / "a").write_text("3")
        (tmp_path / "theirs").rename(folder)

    replace_folder(folder, racing)
    assert (folder / "a").read_text() in {"2", "3"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors"]
