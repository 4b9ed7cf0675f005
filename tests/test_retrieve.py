"""Hybrid retrieval: fusion, diversity caps and filters, against a real Chroma store (fake embedder)."""

from datetime import UTC, datetime

import numpy as np
import pytest

from briefing.answer.retrieve import mmr_select, reciprocal_rank_fusion, retrieve
from briefing.ingest.run import ingest
from briefing.models import RetrievalFilter
from briefing.pipeline import Components
from briefing.settings import Settings
from briefing.store.store import Store
from tests.conftest import CORPUS, FIXTURES

UTC = UTC


def test_reciprocal_rank_fusion():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60)
    assert list(fused) == ["a", "c", "b"]
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["b"] == pytest.approx(1 / 62)


def test_mmr_respects_the_article_cap_and_prefers_other_outlets():
    ids = ["a1", "a2", "a3", "b1", "c1"]
    vectors = np.eye(5, dtype=np.float32)
    chosen = mmr_select(
        ids, relevance=np.array([1.0, 0.99, 0.98, 0.5, 0.4]), vectors=vectors, k=4, mmr_lambda=0.7,
        groups=[("A", 2), ("A", 2), ("A", 2), ("B", 2), ("C", 2)],
        outlets=[("X", 1), ("X", 1), ("X", 1), ("Y", 1), ("X", 1)],
    )
    assert chosen[:2] == ["a1", "b1"]  # one per outlet first
    assert sorted(chosen) == ["a1", "a2", "b1", "c1"]  # then the outlet cap lifts; article A stops at 2


def test_mmr_skips_near_copies():
    vectors = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    chosen = mmr_select(["x", "x-copy", "y"], np.array([1.0, 0.95, 0.6]), vectors, k=2, mmr_lambda=0.5,
                        groups=[("1", 5), ("2", 5), ("3", 5)], outlets=[("o", 9)] * 3)
    assert chosen == ["x", "y"]


@pytest.fixture
def corpus_store(fake_embedder):
    settings = Settings()
    ingest([CORPUS, FIXTURES / "formats"], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        yield store


def test_retrieve_returns_keys_with_metadata_and_caps_articles(corpus_store):
    evidence = retrieve("North Korean troops in Kursk", corpus_store, k=8)
    assert len(evidence) == 8
    per_article = {}
    for item in evidence:
        per_article[item.article_id] = per_article.get(item.article_id, 0) + 1
        assert item.key in corpus_store.catalog.chunk_ids() and item.title and item.score > 0
    assert max(per_article.values()) <= 2


def test_retrieve_within_a_publish_window(corpus_store):
    window = RetrievalFilter(since=datetime(2024, 11, 1, tzinfo=UTC), until=datetime(2024, 11, 30, 23, 59, tzinfo=UTC))
    evidence = retrieve("North Korean troops in Kursk", corpus_store, k=10, filters=window)
    assert evidence and all(window.since <= e.published <= window.until for e in evidence)


def test_retrieve_until_only_leaves_out_undated_articles(corpus_store):
    window = RetrievalFilter(until=datetime(2024, 12, 31, tzinfo=UTC))
    evidence = retrieve("report without a publish date", corpus_store, k=20, filters=window)
    assert all(e.published is not None for e in evidence)


def test_retrieve_by_publisher_is_case_insensitive(corpus_store):
    evidence = retrieve("North Korean troops", corpus_store, k=5, filters=RetrievalFilter(source="harbor ledger (SAMPLE)"))
    assert evidence and {e.publisher for e in evidence} == {"Harbor Ledger (sample)"}


def test_retrieve_finds_nothing_outside_the_data(corpus_store):
    window = RetrievalFilter(since=datetime(2031, 1, 1, tzinfo=UTC))
    assert retrieve("North Korean troops", corpus_store, filters=window) == []


def test_excerpts_keep_the_sentences_closest_to_the_query_verbatim_and_in_order(fake_embedder):
    """The fake embedder is a hashed bag of words, so sentences sharing the query's words score highest."""
    from briefing.answer.generate import format_evidence
    from briefing.answer.retrieve import add_excerpts
    from briefing.models import Evidence

    text = ("The weather in Minsk was mild. Seoul said North Korean troops reached Kursk. "
            "Markets closed early. Kyiv said Kursk fighting involved North Korean troops. A bridge reopened.")
    item = Evidence(key="k-0", article_id="a", text=text, start=0, title="T")
    query = fake_embedder.embed(["North Korean troops in Kursk"])[0]

    [excerpted] = add_excerpts([item], query, fake_embedder, sentences=2)
    assert excerpted.excerpt.splitlines() == [
        "Seoul said North Korean troops reached Kursk.",
        "Kyiv said Kursk fighting involved North Korean troops.",
    ]
    assert all(line in text for line in excerpted.excerpt.splitlines())
    prompt = format_evidence([excerpted])
    assert "Markets closed early" not in prompt and "Seoul said" in prompt
    [whole] = add_excerpts([item], query, fake_embedder, sentences=5)  # short enough already
    assert whole.excerpt is None and "Markets closed early" in format_evidence([whole])


def test_mmr_never_picks_a_repeat_but_keeps_a_copy_with_a_new_figure():
    """A syndicated copy (cosine 0.99) adds nothing unless it gives a figure the chosen chunk lacks."""
    vectors = np.array([[1, 0, 0], [0.99, 0.141, 0], [0.99, 0, 0.141], [0, 1, 0]], dtype=np.float32)
    common = {"k": 3, "mmr_lambda": 0.9, "groups": [(g, 5) for g in "abcd"], "outlets": [(o, 9) for o in "abcd"]}
    figures = [frozenset({"8", "5.8"}), frozenset({"8", "5.8"}), frozenset({"23", "5.8"}), frozenset()]
    chosen = mmr_select(["first", "copy", "update", "other"], np.array([1.0, 0.99, 0.98, 0.2]), vectors,
                        figures=figures, **common)
    assert chosen == ["first", "update", "other"]
