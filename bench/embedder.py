"""Benchmark: embedding throughput of the ONNX int8 embedder against sentence-transformers, same
model, same texts, same process; and how close its vectors stay (cosine to the original).

Texts: the chunks of corpus/ plus the RSS items when ../shared is there. Run: `make bench`.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from briefing.embedding.minilm import LocalEmbedder
from briefing.embedding.onnx import OnnxEmbedder
from briefing.ingest.loaders import load_file
from briefing.ingest.run import make_chunks
from briefing.settings import Settings
from briefing.text import clean

ROOT = Path(__file__).resolve().parent.parent
ITEMS = ROOT.parent / "shared" / "data" / "news-rss-2024" / "items.jsonl"


def texts() -> list[str]:
    from briefing.models import Article

    settings = Settings()
    out = []
    for path in sorted((ROOT / "corpus").glob("2024-*.md")):
        for raw in load_file(path).articles:
            article = Article(id="x" * 16, key="x" * 8, title=raw.title or "", text=clean(raw.text), source_path=str(path))
            out += [c.text for c in make_chunks(article, settings)]
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
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        onnx = OnnxEmbedder(Path(folder) / "minilm.onnx", threads=2)
        onnx.embed(["export"])
        export_seconds = time.perf_counter() - started
        fast, fast_rate = timed(onnx, data)
    original, base_rate = timed(LocalEmbedder(threads=2), data)
    cosine = (fast * original).sum(axis=1)
    print(f"texts: {len(data)}; one-time export and quantization: {export_seconds:.1f} s")
    print(f"sentence-transformers (baseline): {base_rate:6.1f} texts/s")
    print(f"onnx int8, per-channel          : {fast_rate:6.1f} texts/s  ({fast_rate / base_rate:.2f}x)")
    print(f"cosine to the original vectors  : min {cosine.min():.4f}, mean {cosine.mean():.4f}")


if __name__ == "__main__":
    main()
