"""Benchmark: ingest throughput and peak memory of `briefing` against the LangChain recipe a user
would write instead (RecursiveCharacterTextSplitter + a sentence-transformers embedder of the same
all-MiniLM-L6-v2 + Chroma.from_documents), then re-ingest of the unchanged corpus.

The corpus is built deterministically from corpus/ and, when present, the RSS items: synthetic
articles of about 480 words made of their sentences (seeded), with publish dates over Oct–Dec 2024.
Each variant runs in its own process, so its peak RSS is its own.

Variants: the LangChain recipe; briefing with its default embedder (onnx); with `--with-local`,
briefing with sentence-transformers too. Run: `make bench` or
`.venv/bin/python -m bench.ingest --articles 3400` (about 13k chunks).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from briefing.embedding.cpu import cpu_info
from briefing.embedding.onnx import CHOICE_FILE, GraphChoice

ROOT = Path(__file__).resolve().parent.parent
ITEMS = ROOT.parent / "shared" / "data" / "news-rss-2024" / "items.jsonl"
PUBLISHERS = ["Harbor Ledger (sample)", "Pacific Desk (sample)", "Northgate Wire (sample)", "Eastbridge Daily (sample)"]


def sentence_pool() -> list[str]:
    from briefing.ingest.loaders import load_file
    from briefing.text import clean, split_sentences

    pool = []
    for path in sorted((ROOT / "corpus").glob("2024-*.md")):
        for article in load_file(path).articles:
            pool += split_sentences(clean(article.text))
    if ITEMS.exists():
        for line in ITEMS.read_text().splitlines():
            pool += split_sentences(clean(json.loads(line)["text"]))
    return [s for s in pool if len(s.split()) >= 6]


def build_corpus(path: Path, articles: int, seed: int = 20241105) -> None:
    rng = random.Random(seed)
    pool = sentence_pool()
    start = datetime(2024, 10, 1, tzinfo=UTC)
    with path.open("w") as out:
        for n in range(articles):
            body, words = [], 0
            while words < 480:
                sentence = rng.choice(pool)
                body.append(sentence)
                words += len(sentence.split())
            paragraphs = [" ".join(body[i : i + 4]) for i in range(0, len(body), 4)]
            out.write(json.dumps({
                "id": f"bench-{n}", "title": f"Bench article {n}: " + body[0][:60], "publisher": PUBLISHERS[n % 4],
                "url": f"https://bench.example/{n}", "published": (start + timedelta(minutes=37 * n)).isoformat(),
                "text": "\n\n".join(paragraphs),
            }) + "\n")


# --- variants, each in its own process -------------------------------------------------------


def run_briefing(corpus: Path, home: Path, provider: str) -> dict:
    from briefing.ingest import ingest
    from briefing.pipeline import Components
    from briefing.settings import Settings

    os.environ["BRIEFING_EMBEDDING_PROVIDER"] = provider
    settings = Settings(home=home)
    started = time.perf_counter()
    report = ingest([corpus], Components(settings))
    return {"seconds": time.perf_counter() - started, "chunks": report.chunks, "embedded": report.embedded}


def run_langchain(corpus: Path, home: Path) -> dict:
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from sentence_transformers import SentenceTransformer

    from briefing.embedding.minilm import packaged_minilm_path

    class MiniLM(Embeddings):
        """What HuggingFaceEmbeddings does: SentenceTransformer.encode, batch 32, normalized."""

        def __init__(self):
            self.model = SentenceTransformer(str(packaged_minilm_path()), device="cpu", local_files_only=True)

        def embed_documents(self, texts):
            return self.model.encode(texts, batch_size=32, normalize_embeddings=True).tolist()

        def embed_query(self, text):
            return self.embed_documents([text])[0]

    started = time.perf_counter()
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    documents = [Document(page_content=r["text"], metadata={"title": r["title"], "published": r["published"]}) for r in rows]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=150).split_documents(documents)
    Chroma.from_documents(chunks, MiniLM(), persist_directory=str(home / "chroma"),
                          client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True,
                                                         persist_directory=str(home / "chroma")))
    return {"seconds": time.perf_counter() - started, "chunks": len(chunks), "embedded": len(chunks)}


def export_onnx(home: Path) -> dict:
    """The one-time ONNX export and graph choice, done before the timed onnx run (a user's first
    ingest does it once)."""
    from briefing.embedding import make_embedder
    from briefing.settings import Settings

    os.environ["BRIEFING_EMBEDDING_PROVIDER"] = "onnx"
    started = time.perf_counter()
    make_embedder(Settings(home=home)).embed(["export"])
    return {"seconds": time.perf_counter() - started, "chunks": 0, "embedded": 0}


def child(variant: str, corpus: Path, home: Path) -> None:
    if variant == "export":
        result = export_onnx(home)
    elif variant == "langchain":
        result = run_langchain(corpus, home)
    else:
        result = run_briefing(corpus, home, variant)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def in_process(variant: str, corpus: Path, home: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.ingest", "--child", variant, str(corpus), str(home)],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=3400, help="synthetic articles (3400 give about 10k chunks)")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "CORPUS", "HOME"))
    parser.add_argument("--with-local", action="store_true", help="also time briefing with the sentence-transformers embedder")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        corpus = folder / "bench.jsonl"
        build_corpus(corpus, args.articles)
        export = in_process("export", corpus, folder / "onnx")
        results = {}
        for variant in ("langchain", "onnx", *(["local"] if args.with_local else [])):
            results[variant] = in_process(variant, corpus, folder / variant)
        results["onnx re-ingest"] = in_process("onnx", corpus, folder / "onnx")
        choice = GraphChoice.model_validate_json((folder / "onnx" / "models" / CHOICE_FILE).read_text())
    print(f"CPU: {cpu_info().describe()}")
    print(f"one-time ONNX export and graph timing (not in the onnx figure): {export['seconds']:.1f} s; "
          f"chosen: {choice.summary()}")
    base = results["langchain"]
    print(f"articles: {args.articles}; chunks: LangChain recipe {base['chunks']}, briefing {results['onnx']['chunks']}")
    print(f"{'variant':16s} {'seconds':>9s} {'articles/s':>10s} {'chunks/s':>9s}  {'speed vs LangChain':>18s}  "
          f"{'peak RSS':>8s}  embedded")
    for name, r in results.items():
        # The same articles for every variant, so the ratio is by wall time; chunk counts differ.
        print(f"{name:16s} {r['seconds']:8.1f}s {args.articles / r['seconds']:10.2f} {r['chunks'] / r['seconds']:9.1f}  "
              f"{base['seconds'] / r['seconds']:17.2f}x  {r['peak_rss_mb']:5.0f} MB  {r['embedded']}")
    first = results["onnx"]["seconds"]
    again = results["onnx re-ingest"]["seconds"]
    print(f"re-ingest of the unchanged corpus: {again:.2f} s, {first / again:.0f}x faster than its first ingest")


if __name__ == "__main__":
    main()
