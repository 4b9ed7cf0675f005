"""Benchmark: a second machine on a shared Chroma server. Machine A ingests a synthetic corpus into
a `chroma run` server on loopback; machine B (another BRIEFING_HOME, same server) then builds its
local cache from the server, and both answer the same questions.

Reported per corpus size: A's ingest time, B's cache build (catalog copied from the server, then
the vector side file and keyword index built on B's first question), and `ask` latency on B beside
A (median over the questions, each in a fresh ``Components`` as a new command would have, the
server revision check included).

Vectors come from a 384-dimension hashing embedder defined here, the size all-MiniLM-L6-v2 gives:
the figures are about copying and reading the store, and a real embedder would add the same
embedding time on both machines. Run: `.venv/bin/python -m bench.shared_store --articles 2600 26000`
(about 10k and 100k chunks).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.ingest import build_corpus
from briefing.embedding.cpu import cpu_info

QUESTIONS = [
    "How many North Korean troops are in Kursk?",
    "What did the Pentagon say about North Korean soldiers?",
    "When did Ukrainian troops cross into the Kursk region?",
    "Which missiles did the United States allow Ukraine to use?",
    "What casualties did North Korean units take?",
]


class HashingEmbedder384:
    """Words hashed into 384 dimensions, normalized: the vector size of all-MiniLM-L6-v2, no model."""

    name = "bench:hashing-384"
    dimension = 384

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self.dimension] += 1.0
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)


def start_server(folder: Path, port: int) -> subprocess.Popen:
    import urllib.request

    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen([str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("chroma server did not start")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(home: Path, port: int):
    from briefing.settings import Settings

    return Settings(home=home, chroma_host="127.0.0.1", chroma_port=port, collection="bench")


def ask_latency(settings, embedder) -> list[float]:
    from briefing import pipeline
    from briefing.models import Request

    seconds = []
    for question in QUESTIONS:
        started = time.perf_counter()
        with pipeline.Components(settings, provider="extractive", judge="lexical", embedder=embedder) as components:
            pipeline.run(Request(kind="answer", query=question), components)
        seconds.append(time.perf_counter() - started)
    return seconds


def run_size(articles: int, folder: Path) -> dict:
    from briefing.ingest import ingest
    from briefing.pipeline import Components
    from briefing.store.store import Store

    corpus = folder / f"corpus-{articles}.jsonl"
    build_corpus(corpus, articles)
    port = free_port()
    server = start_server(folder / f"chroma-{articles}", port)
    embedder = HashingEmbedder384()
    try:
        a, b = settings_for(folder / f"a-{articles}", port), settings_for(folder / f"b-{articles}", port)
        started = time.perf_counter()
        report = ingest([corpus], Components(a, embedder=embedder))
        ingest_s = time.perf_counter() - started
        ask_latency(a, embedder)  # A's side files are built by its ingest; this warms the OS cache alike
        started = time.perf_counter()
        with Store(b, embedder) as store:  # B's first command: the catalog copied from the server
            chunks = store.catalog.counts()["chunks"]
        pull_s = time.perf_counter() - started
        first_b = ask_latency(b, embedder)[0]  # B's first question also builds its side file and keyword index
        return {"articles": articles, "chunks": chunks, "embedded": report.embedded, "ingest_a_s": round(ingest_s, 1),
                "cache_catalog_b_s": round(pull_s, 2), "first_ask_b_s": round(first_b, 2),
                "ask_a_s": round(statistics.median(ask_latency(a, embedder)), 3),
                "ask_b_s": round(statistics.median(ask_latency(b, embedder)), 3)}
    finally:
        server.kill()
        server.wait()


def main() -> None:
    print(f"CPU: {cpu_info().describe()}")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[2600], help="synthetic articles (about 3.9 chunks each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp:
        for articles in args.articles:
            row = run_size(articles, Path(tmp))
            row["ask_b_over_a"] = round(row["ask_b_s"] / row["ask_a_s"], 2)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
