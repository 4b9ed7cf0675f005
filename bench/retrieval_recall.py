"""Quality check for what is embedded: dense and hybrid retrieval recall of real news articles,
for each way of building a chunk's embedded text, with the tokens each embeds.

Articles: the CNN/DailyMail news articles of ../shared/data/support (FRANK dev, 130 articles, the
ones queried) plus the CNN/DailyMail articles of the training pool as distractors (FIB, SummEval,
BUMP). Each article gets its first sentence as headline, as `briefing ingest` does for text
without one, and is chunked by `make_chunks` with the default settings.

Queries: the summary sentences that FRANK's annotators found supported (label 1), lower-cased
as annotated. A query's gold chunk is the one holding the article sentence that shares the most
content words with it (ties: the first); queries sharing under half their content words with any
sentence are left out, because no chunk can be called the right one.

Measured per variant: recall@1/5/10 of the gold chunk by cosine alone (the dense ranking) and
after reciprocal rank fusion with the BM25 ranking (as `retrieve` fuses them, before MMR); the
article's recall@5 over the dense top chunks; tokens embedded and seconds. Run:
`.venv/bin/python -m bench.retrieval_recall` (needs ../shared; about 5 min on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from briefing.answer.retrieve import reciprocal_rank_fusion
from briefing.embedding import make_embedder
from briefing.embedding.cpu import cpu_info
from briefing.embedding.minilm import minilm_tokenizer
from briefing.ingest.run import make_chunks
from briefing.models import Article, Chunk
from briefing.settings import Settings
from briefing.store.keyword import STOPWORDS, KeywordIndex
from briefing.text import citable_text, clean, embedded_text, indexed_text, sentence_spans, split_sentences

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT.parent / "shared" / "data" / "support"
DISTRACTORS = {"fib-cnndm", "summeval", "bump-task1", "bump-task2"}
MIN_OVERLAP = 0.5


@dataclass
class Query:
    text: str
    article_id: str
    gold: str  # chunk id


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.casefold()) if w not in STOPWORDS and len(w) > 1}


def load_articles() -> tuple[dict[str, Article], list[tuple[str, str]]]:
    """Articles by id (dev first, then distractors) and the (claim, article id) pairs to query."""
    articles: dict[str, Article] = {}
    claims: list[tuple[str, str]] = []

    seen: dict[str, str] = {}  # the first 40 words -> article id: one article per story

    def add(text: str) -> str:
        body = clean(text)
        opening = " ".join(body.split()[:40])
        if opening not in seen:
            article_id = seen[opening] = f"{len(seen):05d}"
            title = split_sentences(body)[0][:100]
            articles[article_id] = Article(
                id=article_id, key=f"a{article_id}", title=title, text=citable_text(title, body), source_path="x"
            )
        return seen[opening]

    for line in (SUPPORT / "dev.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["dataset"] == "frank-cnndm" and row["label"] == 1:
            claims.append((row["claim"], add(row["source"])))
    for line in (SUPPORT / "train.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["dataset"] in DISTRACTORS:
            add(row["source"])
    return articles, sorted(set(claims))


def gold_chunk(claim: str, article: Article, chunks: list[Chunk]) -> str | None:
    words = content_words(claim)
    best, best_share = None, 0.0
    for start, end in sentence_spans(article.text):
        share = len(words & content_words(article.text[start:end])) / max(1, len(words))
        if share > best_share:
            best, best_share = start, share
    if best is None or best_share < MIN_OVERLAP:
        return None
    return next(c.id for c in chunks if c.start <= best < c.end)


def variants(settings: Settings) -> dict[str, tuple[callable, int]]:
    """Name -> (embedded text of a chunk given its article and the previous chunk's end, token cap)."""

    def full(article, chunk, previous_end):
        return indexed_text(article.title, chunk.text)

    def lean(article, chunk, previous_end):
        return embedded_text(article.title, chunk.text, max(0, previous_end - chunk.start))

    cap = settings.max_embed_tokens
    return {
        f"headline + chunk, {cap} tokens (before)": (full, cap),
        f"headline + chunk without overlap, {cap} tokens": (lean, cap),
        "headline + chunk without overlap, 128 tokens": (lean, 128),
        "headline + chunk, 128 tokens": (full, 128),
    }


def tokenizer(cap: int):
    tokenizer = minilm_tokenizer()
    tokenizer.enable_truncation(max_length=cap)
    return tokenizer


def recall(rankings: list[list[str]], golds: list[str], k: int) -> float:
    return float(np.mean([gold in ranking[:k] for ranking, gold in zip(rankings, golds)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", nargs="*", help="only the variants whose name starts with these")
    args = parser.parse_args()
    print(f"CPU: {cpu_info().describe()}")
    settings = Settings()
    articles, claims = load_articles()
    chunks = {a.id: make_chunks(a, settings) for a in articles.values()}
    flat = [(articles[aid], c, chunks[aid][c.position - 1].end if c.position else c.start) for aid in chunks for c in chunks[aid]]
    queries = [Query(claim, aid, gold) for claim, aid in claims if (gold := gold_chunk(claim, articles[aid], chunks[aid]))]
    ids = [c.id for _, c, _ in flat]
    owner = {c.id: a.id for a, c, _ in flat}
    keyword = KeywordIndex.build([(c.id, a.title, c.text) for a, c, _ in flat], 0)
    keyword_rankings = [[cid for cid, _ in keyword.search(q.text, k=40)] for q in queries]
    golds = [q.gold for q in queries]
    print(f"articles: {len(articles)} ({len({q.article_id for q in queries})} queried); chunks: {len(flat)}; "
          f"queries: {len(queries)} of {len(claims)} supported claims (the rest match no sentence)")
    print(f"{'variant':48s} {'tokens':>9s} {'embed s':>8s} {'dense R@1':>9s} {'R@5':>6s} {'R@10':>6s} "
          f"{'article R@5':>11s} {'fused R@5':>9s} {'R@10':>6s}")
    for name, (text_of, cap) in variants(settings).items():
        if args.variants and not any(name.startswith(v) for v in args.variants):
            continue
        embedder = make_embedder(settings.model_copy(update={"max_embed_tokens": cap}))
        texts = [text_of(a, c, previous_end) for a, c, previous_end in flat]
        embedder.embed(texts[:2])
        started = time.perf_counter()
        vectors = embedder.embed(texts)
        seconds = time.perf_counter() - started
        tokens = sum(len(e.ids) for e in tokenizer(cap).encode_batch(texts))
        query_vectors = embedder.embed([q.text for q in queries])
        order = np.argsort(-(query_vectors @ vectors.T), axis=1)[:, :40]
        dense = [[ids[i] for i in row] for row in order]
        fused = [list(reciprocal_rank_fusion([d, kw]))[:40] for d, kw in zip(dense, keyword_rankings)]
        article_hits = np.mean([q.article_id in {owner[c] for c in d[:5]} for q, d in zip(queries, dense)])
        print(f"{name:48s} {tokens:9d} {seconds:8.1f} {recall(dense, golds, 1):9.3f} {recall(dense, golds, 5):6.3f} "
              f"{recall(dense, golds, 10):6.3f} {article_hits:11.3f} {recall(fused, golds, 5):9.3f} "
              f"{recall(fused, golds, 10):6.3f}", flush=True)


if __name__ == "__main__":
    main()
