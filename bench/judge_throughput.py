"""Benchmark: support-judge throughput in sentences per second, against an embedding baseline.

Pairs are (sentence, its cited source sentence and a neighbour) built from the sample corpus,
with every third claim's number changed so both verdicts occur. Run: `make bench` or
`.venv/bin/python -m bench.judge_throughput`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from briefing.answer.cross_encoder import TrainedJudge, evidence_window
from briefing.answer.judge import LearnedJudge, LexicalJudge
from briefing.embedding.cpu import cpu_info
from briefing.ingest.loaders import load_file
from briefing.text import clean, split_sentences

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def pairs(limit: int = 3000) -> list[tuple[str, str]]:
    out = []
    for path in sorted(CORPUS.glob("*.md")):
        for article in load_file(path).articles:
            sentences = split_sentences(clean(article.text))
            for i, sentence in enumerate(sentences):
                source = " ".join(sentences[max(0, i - 1) : i + 1])
                claim = re.sub(r"\d+", "7", sentence) if i % 3 == 0 else sentence
                out.append((claim, source))
    return (out * (limit // len(out) + 1))[:limit]


def rate(judge, data: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    for claim, source in data:
        judge.judge(claim, [source])
    return len(data) / (time.perf_counter() - started)


class EmbeddingJudge:
    """Baseline: cosine of claim and source embeddings (all-MiniLM-L6-v2), one call per pair."""

    def __init__(self):
        from briefing.embedding.minilm import LocalEmbedder

        self.embedder = LocalEmbedder()
        self.embedder.embed(["warm up"])

    def judge(self, claim: str, sources: list[str]):
        vectors = self.embedder.embed([claim, *sources])
        return float(vectors[0] @ vectors[1]) >= 0.6


def clear_caches() -> None:
    from briefing import terms
    from briefing.answer import checks

    for cached in (terms.tokens, terms.content_terms, checks.windows, checks.read, checks.dates_in, terms._stem):
        cached.cache_clear()


class ModelOnly:
    """The trained judge's cross-encoder and stack on every pair: no veto, no verbatim shortcut."""

    def __init__(self, judge: TrainedJudge):
        self.inner = judge

    def judge(self, claim: str, sources: list[str]):
        return self.inner.probability(claim, sources)


def batched_rate(judge: TrainedJudge, data: list[tuple[str, str]]) -> float:
    """Cross-encoder probabilities alone, eight pairs per onnxruntime call."""
    started = time.perf_counter()
    windows = [(claim, evidence_window(claim, [source], budget=judge.model.window_tokens)) for claim, source in data]
    judge.model.probabilities(windows, batch_size=8)
    return len(data) / (time.perf_counter() - started)


def main() -> None:
    print(f"CPU: {cpu_info().describe()}")
    import os

    data = pairs()
    unique = list(dict.fromkeys(data))
    clear_caches()
    fresh = rate(LexicalJudge(), unique)  # every text new: nothing cached yet
    warm = rate(LexicalJudge(), data)
    learned = rate(LearnedJudge(), data)
    trained = TrainedJudge(threads=os.cpu_count())
    trained.judge("warm up", ["warm up the model once"])
    shipped = rate(trained, data[:600])
    model_only = rate(ModelOnly(trained), data[:600])
    batched = batched_rate(trained, data[:600])
    baseline = rate(EmbeddingJudge(), data[:300])
    print(f"pairs: {len(data)} ({len(unique)} distinct, from corpus/); lexical and learned: 1 thread; "
          f"trained: onnxruntime with {os.cpu_count()} threads")
    print(f"lexical judge, cold caches : {fresh:8.0f} sentences/s  ({fresh / baseline:.0f}x the embedding baseline)")
    print(f"lexical judge, warm        : {warm:8.0f} sentences/s  ({warm / baseline:.0f}x the embedding baseline)")
    print(f"learned judge              : {learned:8.0f} sentences/s  ({learned / baseline:.0f}x the embedding baseline)")
    print(f"trained judge, as shipped  : {shipped:8.0f} sentences/s  ({shipped / baseline:.1f}x; verbatim claims skip the model)")
    print(f"trained, model on every one: {model_only:8.0f} sentences/s  ({model_only / baseline:.1f}x the embedding baseline)")
    print(f"trained, model batched by 8: {batched:8.0f} sentences/s  ({batched / baseline:.1f}x the embedding baseline)")
    print(f"embedding baseline         : {baseline:8.0f} sentences/s")


if __name__ == "__main__":
    main()
