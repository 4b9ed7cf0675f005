"""Benchmark: dense retrieval latency at 10k and 100k chunks, unfiltered and in publish-date
windows, for briefing's vector side file against Chroma's own query (its `where` filter on the
publish timestamp being the baseline for windows).

Vectors: all-MiniLM-L6-v2 (ONNX) embeddings of 2,000 sentences from corpus/ and the RSS items,
each reused with seeded Gaussian noise (cosine about 0.8 to its source) so the collection has
realistic clusters; publish times spread evenly over 2024. Queries are 100 other noisy copies.
Recall@10 is measured against brute force over the same window.

Run: `make bench` or `.venv/bin/python -m bench.retrieval [--sizes 10000 100000]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.ingest import sentence_pool
from briefing.embedding.cpu import cpu_info
from briefing.store.vector_index import VectorIndex

YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)
WINDOWS = {"unfiltered": None, "1 day": 1, "7 days": 7, "30 days": 30}
K = 10
QUERIES = 100


def base_vectors(count: int = 2000) -> np.ndarray:
    from briefing.embedding import make_embedder
    from briefing.settings import Settings

    sentences = sorted(set(sentence_pool()))
    rng = np.random.default_rng(5)
    picked = [sentences[i] for i in rng.choice(len(sentences), size=min(count, len(sentences)), replace=False)]
    return make_embedder(Settings(embedding_provider="onnx")).embed(picked)


def noisy_copies(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    rows = base[rng.integers(0, len(base), size=n)] + rng.normal(scale=0.04, size=(n, base.shape[1]))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def brute_force(vectors: np.ndarray, stamps: np.ndarray, query: np.ndarray, low: int, high: int) -> set[int]:
    scores = np.where((stamps >= low) & (stamps <= high), vectors @ query, -np.inf)
    return set(np.argsort(-scores)[:K].tolist())


def chroma_collection(folder: Path, ids: list[str], vectors: np.ndarray, stamps: np.ndarray):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("bench", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    for i in range(0, len(ids), 5000):
        collection.add(ids=ids[i : i + 5000], embeddings=vectors[i : i + 5000],
                       metadatas=[{"published_ts": int(t)} for t in stamps[i : i + 5000]])
    return collection


def run_size(size: int, base: np.ndarray, folder: Path) -> None:
    rng = np.random.default_rng(size)
    vectors = noisy_copies(base, size, rng)
    seconds_in_year = 366 * 86400
    stamps = (int(YEAR_START.timestamp()) + np.arange(size) * (seconds_in_year // size)).astype(np.int64)
    ids = [f"c{i:06d}" for i in range(size)]

    started = time.perf_counter()
    collection = chroma_collection(folder / f"chroma-{size}", ids, vectors, stamps)
    chroma_build = time.perf_counter() - started
    started = time.perf_counter()
    VectorIndex.build(ids, stamps.tolist(), vectors, revision=1, embedder="bench").save(folder / f"side-{size}")
    side_build = time.perf_counter() - started
    started = time.perf_counter()
    index = VectorIndex.load(folder / f"side-{size}")  # memory-mapped, as a CLI run sees it
    side_load = time.perf_counter() - started
    print(f"\n{size:,} chunks: Chroma add {chroma_build:.1f} s; side file build+save {side_build:.2f} s, load {side_load * 1000:.1f} ms")
    print(f"  {'window':11s} {'Chroma p50':>10s} {'p95':>7s} {'recall':>7s}   "
          f"{'side p50':>9s} {'p95':>7s} {'recall':>7s}   {'p50 ratio':>9s}")

    queries = noisy_copies(base, QUERIES, np.random.default_rng(size + 1))
    for name, days in WINDOWS.items():
        chroma_times, side_times, chroma_recall, side_recall = [], [], [], []
        for query in queries:
            if days is None:
                since = until = None
                low, high = -(2**62), 2**62
                where = None
            else:
                since = YEAR_START + timedelta(days=int(rng.integers(0, 366 - days)))
                until = since + timedelta(days=days) - timedelta(seconds=1)
                low, high = int(since.timestamp()), int(until.timestamp())
                where = {"$and": [{"published_ts": {"$gte": low}}, {"published_ts": {"$lte": high}}]}
            truth = brute_force(vectors, stamps, query, low, high)

            started = time.perf_counter()
            got = collection.query(query_embeddings=[query], n_results=K, where=where, include=[])
            chroma_times.append(time.perf_counter() - started)
            chroma_recall.append(len({int(cid[1:]) for cid in got["ids"][0]} & truth) / max(1, len(truth)))

            started = time.perf_counter()
            hits = index.search(query, K, since, until)
            side_times.append(time.perf_counter() - started)
            side_recall.append(len({int(cid[1:]) for cid, _ in hits} & truth) / max(1, len(truth)))
        c50, c95 = percentiles(chroma_times)
        s50, s95 = percentiles(side_times)
        print(f"  {name:11s} {c50:8.2f}ms {c95:6.2f}ms {np.mean(chroma_recall):7.3f}   {s50:7.2f}ms {s95:6.2f}ms "
              f"{np.mean(side_recall):7.3f}   {c50 / s50:8.1f}x")


def main() -> None:
    print(f"CPU: {cpu_info().describe()}")
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    base = base_vectors()
    print(f"k={K}, {QUERIES} queries per row; ratio = Chroma p50 / side-file p50 (higher is better for briefing)")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            run_size(size, base, Path(folder))


if __name__ == "__main__":
    main()
