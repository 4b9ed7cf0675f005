"""Retrieve: the store's dense and keyword candidates fused by reciprocal rank, then MMR with caps,
then excerpts.

Caps keep one article (at most ``per_article`` chunks) or one outlet (at most ``per_publisher``)
from filling the evidence, so disagreeing sources get a seat.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from briefing.models import Evidence, RetrievalFilter
from briefing.store.store import Store
from briefing.text import sentence_spans

RRF_K = 60  # the usual constant of reciprocal rank fusion
REPEAT_SIMILARITY = 0.93
"""Cosine above which a chunk that gives no figure of its own repeats one already chosen (a
syndicated copy under another headline); measured 0.95-0.96 for the re-post pair in corpus/."""
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    """Fused score per id: the sum over rankings of 1 / (k + rank), ranks starting at 1."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return dict(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))


def retrieve(
    query: str,
    store: Store,
    *,
    k: int = 8,
    filters: RetrievalFilter | None = None,
    candidates: int = 40,
    per_article: int = 2,
    per_publisher: int | None = None,
    mmr_lambda: float = 0.7,
    excerpt_sentences: int = 0,
) -> list[Evidence]:
    """The ``k`` most relevant, diverse chunks for ``query`` within ``filters``, each with an
    excerpt of its ``excerpt_sentences`` sentences closest to the query when that is above 0."""
    filters = filters or RetrievalFilter()
    query_vector = store.embedder.embed([query])[0]
    found = store.candidates(query, query_vector, filters, candidates)
    fused = reciprocal_rank_fusion([[cid for cid, _ in found.dense], [cid for cid, _ in found.keyword]])
    pool = list(fused)[:candidates]
    if not pool:
        return []
    vectors = store.vectors_of(pool)
    rows = store.chunks([cid for cid in pool if cid in vectors])
    pool = [cid for cid in pool if cid in vectors and cid in rows]
    cap = per_publisher or max(2, math.ceil(k * 0.4))
    chosen = mmr_select(
        pool,
        relevance=np.array([fused[cid] for cid in pool]),
        vectors=np.stack([vectors[cid] for cid in pool]) if pool else np.empty((0, 1)),
        k=k,
        mmr_lambda=mmr_lambda,
        groups=[(rows[cid][1].id, per_article) for cid in pool],
        outlets=[(rows[cid][1].publisher or rows[cid][1].id, cap) for cid in pool],
        figures=[frozenset(_NUMBER.findall(rows[cid][0].text)) for cid in pool],
    )
    similarity = {cid: float(vectors[cid] @ query_vector) for cid in chosen}
    evidence = [_evidence(*rows[cid], fused[cid], similarity[cid]) for cid in chosen]
    return add_excerpts(evidence, query_vector, store.embedder, excerpt_sentences)


def mmr_select(
    ids: list[str],
    relevance: np.ndarray,
    vectors: np.ndarray,
    k: int,
    mmr_lambda: float,
    groups: list[tuple[str, int]],
    outlets: list[tuple[str, int]],
    figures: list[frozenset[str]] | None = None,
) -> list[str]:
    """Maximal marginal relevance under per-article and per-outlet caps.

    The outlet cap is a preference: once no candidate fits it, it is lifted (the article cap is not).
    A candidate within ``REPEAT_SIMILARITY`` of a chosen chunk whose ``figures`` (the numbers in its
    text) are all in that chunk's is a repeat and is never chosen; a copy with a new figure (an
    updated death toll) still competes.
    """
    if not ids:
        return []
    figures = figures or [frozenset()] * len(ids)
    # Relevance scaled to [0, 1] like the similarities it is traded against: fused RRF scores lie
    # within a factor of two of each other, so dividing by the largest left every candidate at
    # 0.5-1 and let diversity pull in off-topic chunks.
    low, high = float(relevance.min()), float(relevance.max())
    relevance = (relevance - low) / (high - low) if high > low else np.ones_like(relevance)
    similarity = vectors @ vectors.T
    chosen: list[int] = []
    per_group: Counter[str] = Counter()
    per_outlet: Counter[str] = Counter()
    for respect_outlets in (True, False):
        while len(chosen) < k:
            best = _best_candidate(ids, relevance, similarity, chosen, mmr_lambda, groups, outlets,
                                   per_group, per_outlet, respect_outlets, figures)
            if best is None:
                break
            chosen.append(best)
            per_group[groups[best][0]] += 1
            per_outlet[outlets[best][0]] += 1
    return [ids[i] for i in chosen]


def _best_candidate(ids, relevance, similarity, chosen, mmr_lambda, groups, outlets, per_group, per_outlet,
                    respect_outlets, figures):
    best, best_score = None, -math.inf
    for i in range(len(ids)):
        if i in chosen or per_group[groups[i][0]] >= groups[i][1]:
            continue
        if any(similarity[i, j] >= REPEAT_SIMILARITY and figures[i] <= figures[j] for j in chosen):
            continue
        if respect_outlets and per_outlet[outlets[i][0]] >= outlets[i][1]:
            continue
        redundancy = max((similarity[i, j] for j in chosen), default=0.0)
        score = mmr_lambda * relevance[i] - (1 - mmr_lambda) * redundancy
        if score > best_score:
            best, best_score = i, score
    return best


def _evidence(chunk, article, score: float, similarity: float) -> Evidence:
    return Evidence(
        key=chunk.id,
        article_id=article.id,
        text=chunk.text,
        start=chunk.start,
        title=article.title,
        publisher=article.publisher,
        published=article.published,
        url=article.url,
        score=round(score, 6),
        similarity=round(similarity, 4),
    )


def add_excerpts(evidence: list[Evidence], query_vector: np.ndarray, embedder, sentences: int) -> list[Evidence]:
    """Each item with ``excerpt`` set to its ``sentences`` sentences closest to the query (by
    embedding), in text order, one per line. Items that short anyway keep ``excerpt`` None.

    A model shown only these reads a fraction of the tokens; the sentences are verbatim from the
    chunk, so quotes from them still ground against the chunk's text.
    """
    if sentences <= 0 or not evidence:
        return evidence
    spans = [[(a, b) for a, b in sentence_spans(item.text) if item.text[a:b].strip()] for item in evidence]
    texts = [item.text[a:b].strip() for item, item_spans in zip(evidence, spans) for a, b in item_spans]
    scores = embedder.embed(texts) @ np.asarray(query_vector, dtype=np.float32) if texts else np.empty(0)
    out, offset = [], 0
    for item, item_spans in zip(evidence, spans):
        item_scores = scores[offset : offset + len(item_spans)]
        offset += len(item_spans)
        if len(item_spans) <= sentences:
            out.append(item)
            continue
        keep = sorted(np.argsort(-item_scores, kind="stable")[:sentences].tolist())
        excerpt = "\n".join(item.text[item_spans[i][0] : item_spans[i][1]].strip() for i in keep)
        out.append(item.model_copy(update={"excerpt": excerpt}))
    return out


def question_pool(queries: Sequence[str], store: Store, filters: RetrievalFilter, pool: int) -> list[Evidence]:
    """The chunks a question reads: for each of ``queries`` (a question, or each of its parts), the
    store's ``pool`` nearest and ``pool`` best keyword chunks within ``filters``, fused by reciprocal
    rank; no cap per article, so a long article's middle can answer. Best first, each once, with
    its cosine to the nearest query as ``similarity``. Shape: at most ``pool`` × len(queries) items."""
    vectors = store.embedder.embed(list(queries))
    rankings: list[list[str]] = []
    for query, vector in zip(queries, vectors):
        found = store.candidates(query, vector, filters, pool)
        rankings += [[cid for cid, _ in found.dense][:pool], [cid for cid, _ in found.keyword][:pool]]
    fused = reciprocal_rank_fusion(rankings)
    ids = list(fused)[: pool * len(queries)]
    chunk_vectors = store.vectors_of(ids)
    rows = store.chunks([cid for cid in ids if cid in chunk_vectors])
    kept = [cid for cid in ids if cid in chunk_vectors and cid in rows]
    if not kept:
        return []
    similarity = (np.stack([chunk_vectors[cid] for cid in kept]) @ np.asarray(vectors, dtype=np.float32).T).max(axis=1)
    return [_evidence(*rows[cid], fused[cid], float(s)) for cid, s in zip(kept, similarity)]
