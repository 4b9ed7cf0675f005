"""Benchmark: embedding throughput of the ONNX embedder against sentence-transformers, same model,
same texts, same process; and how close its vectors stay (cosine to the original). First the
graph trials the embedder ran on this CPU to choose its graph, batch size and threads.

Texts: the chunks of corpus/ as embedded plus the RSS items when ../shared is there. Run:
`make bench` or `.venv/bin/python -m bench.embedder`.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from briefing.embedding.cpu import cpu_info
from briefing.embedding.minilm import LocalEmbedder
from briefing.embedding.onnx import OnnxEmbedder
from briefing.ingest.loaders import load_file
from briefing.ingest.run import make_chunks
from briefing.settings import Settings
from briefing.text import clean, embedded_text

ROOT = Path(__file__).resolve().parent.parent
ITEMS = ROOT.parent / "shared" / "data" / "news-rss-2024" / "items.jsonl"


def texts() -> list[str]:
    from briefing.models import Article

    settings = Settings()
    out = []
    for path in sorted((ROOT / "corpus").glob("2024-*.md")):
        for raw in load_file(path).articles:
            article = Article(id="x" * 16, key="x" * 8, title=raw.title or "", text=clean(raw.text), source_path=str(path))
            out += [embedded_text(article.title, c.text, c.overlap) for c in make_chunks(article, settings)]
    if ITEMS.exists():
        out += [json.loads(line)["text"] for line in ITEMS.read_text().splitlines()]
    return out


def timed(embedder, data):
    embedder.embed(data[:2])  # load outside the timing
    started = time.perf_counter()
    vectors = embedder.embed(data)
    return vectors, len(data) / (time.perf_counter() - started)


def main() -> None:
    data = texts()
    print(f"CPU: {cpu_info().describe()}")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        onnx = OnnxEmbedder(Path(folder), threads=2)
        onnx.embed(["export"])
        export_seconds = time.perf_counter() - started
        fast, fast_rate = timed(onnx, data)
    choice = onnx.choice
    print(f"one-time export and graph timing: {export_seconds:.1f} s; trials on the calibration texts:")
    print(f"  {'graph':10s} {'runs x threads':>14s} {'batch':>5s} {'texts/s':>8s} {'min cosine':>10s}")
    for t in choice.trials:
        mark = "  <- chosen" if t == choice.chosen() else ""
        split = f"{t.workers} x {t.threads}"
        print(f"  {t.graph:10s} {split:>14s} {t.batch_size:5d} {t.texts_per_s:8.1f} {t.min_cosine:10.4f}{mark}")
    original, base_rate = timed(LocalEmbedder(threads=2), data)
    cosine = (fast * original).sum(axis=1)
    print(f"texts: {len(data)}")
    print(f"sentence-transformers (baseline): {base_rate:6.1f} texts/s")
    print(f"onnx, {choice.graph} graph, batch {choice.batch_size:2d} : {fast_rate:6.1f} texts/s  ({fast_rate / base_rate:.2f}x)")
    print(f"cosine to the original vectors  : min {cosine.min():.4f}, mean {cosine.mean():.4f}")

if __name__ == "__main__":
    main()
