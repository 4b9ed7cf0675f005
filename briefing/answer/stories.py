"""Stories: the chunks of a brief's window that are about its topic, grouped into the events they
report and ranked by salience.

A brief reads its window, not the ten nearest chunks. ``gather`` takes every candidate chunk of the
window (the nearest by embedding and the best keyword matches) through the relevance gate;
``group`` joins the chunks of one article, then articles that report one event (close embeddings,
a shared figure, published within days of each other); ``rank`` orders the stories by salience:
relevance, distinct outlets, recency and novelty against the previous daily brief.

Every cut is in ``lexicon/thresholds.toml`` (sections ``relevance``, ``stories``, ``salience``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from briefing import lexicon
from briefing.models import Evidence, RetrievalFilter, Story
from briefing.store.keyword import tokenize
from briefing.store.store import Store


@dataclass(frozen=True)
class Gate:
    """The relevance gate: sigmoid(bias + similarity * cosine + coverage * keyword coverage) >= cut."""

    bias: float
    similarity: float
    coverage: float
    cut: float

    @classmethod
    def configured(cls) -> Gate:
        return cls(*(lexicon.threshold("relevance", name) for name in ("bias", "similarity", "coverage", "cut")))

    def probability(self, cosine: float, coverage: float) -> float:
        return 1.0 / (1.0 + math.exp(-(self.bias + self.similarity * cosine + self.coverage * coverage)))


def keyword_coverage(weights: dict[str, float], text: str) -> float:
    """The IDF-weighted share of the query's keyword tokens (``weights``) that ``text`` holds, 0-1."""
    total = sum(weights.values())
    if not total:
        return 0.0
    present = set(tokenize(text))
    return sum(weight for token, weight in weights.items() if token in present) / total


@dataclass
class Gathered:
    """What a brief's window holds about its topic: the chunks that passed the gate (as evidence,
    with ``score`` the gate's probability and ``similarity`` the cosine), their vectors by key, and
    the stories they form, most salient first."""

    evidence: dict[str, Evidence] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    stories: list[Story] = field(default_factory=list)
    read: int = 0  # candidate chunks the gate read

    def chunks_of(self, story: Story) -> list[Evidence]:
        return [self.evidence[key] for key in story.keys if key in self.evidence]

    def limited(self, per_story: int) -> Gathered:
        """The same, with at most ``per_story`` chunks of each story (its most relevant)."""
        stories = [s.model_copy(update={"keys": s.keys[:per_story]}) for s in self.stories]
        keys = {key for s in stories for key in s.keys}
        return Gathered({k: e for k, e in self.evidence.items() if k in keys},
                        {k: v for k, v in self.vectors.items() if k in keys}, stories, self.read)

    def without(self, article_ids: set[str]) -> Gathered:
        """The same, less the stories that hold any of ``article_ids`` (given to another topic),
        numbered again in order."""
        kept = [s.model_copy(update={"id": f"s{i}"}) for i, s in
                enumerate((s for s in self.stories if not article_ids & set(s.article_ids)), start=1)]
        keys = {key for s in kept for key in s.keys}
        return Gathered({k: e for k, e in self.evidence.items() if k in keys},
                        {k: v for k, v in self.vectors.items() if k in keys}, kept, self.read)


def gather(query: str, store: Store, filters: RetrievalFilter | None = None, reported: Iterable[str] = (),
           gate: Gate | None = None) -> Gathered:
    """Every chunk of the window (``filters``) the gate finds about ``query``, grouped into stories
    and ranked; ``reported`` holds the article ids the previous daily brief cited (less salient)."""
    filters, gate = filters or RetrievalFilter(), gate or Gate.configured()
    query_vector = store.embedder.embed([query])[0]
    limit = int(lexicon.threshold("relevance", "candidates"))
    found = store.candidates(query, query_vector, filters, limit)
    ids = list(dict.fromkeys([cid for cid, _ in found.dense] + [cid for cid, _ in found.keyword]))
    if not ids:
        return Gathered()
    vectors, rows, weights = store.vectors_of(ids), store.chunks(ids), store.term_weights(query)
    evidence: dict[str, Evidence] = {}
    for cid in ids:
        if cid not in vectors or cid not in rows:
            continue
        chunk, article = rows[cid]
        cosine = float(vectors[cid] @ query_vector)
        probability = gate.probability(cosine, keyword_coverage(weights, f"{article.title}\n{chunk.text}"))
        if probability >= gate.cut:
            evidence[cid] = Evidence(key=chunk.id, article_id=article.id, text=chunk.text, start=chunk.start,
                                     title=article.title, publisher=article.publisher, published=article.published,
                                     url=article.url, score=round(probability, 6), similarity=round(cosine, 4))
    kept = {cid: vectors[cid] for cid in evidence}
    stories = rank(group(list(evidence.values()), kept), filters, set(reported), weights)
    return Gathered(evidence, kept, stories, len(ids))


# --- stories ---------------------------------------------------------------------------------

_FIGURE = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?")


def _figures(text: str) -> frozenset[str]:
    """Figures that can tie two reports together: two digits or more, years left out."""
    out = set()
    for match in _FIGURE.finditer(text):
        value = match.group().replace(",", "")
        if len(value) >= 2 and not (len(value) == 4 and value.startswith(("19", "20"))):
            out.add(value)
    return frozenset(out)


def _names(text: str) -> frozenset[str]:
    from briefing.terms import question_names

    return frozenset(token.term for group in question_names(text) for token in group)


@dataclass
class _Report:
    """One article's chunks in the window: its vector (the mean of its chunks'), the figures and
    names that can tie it to another report, and its date."""

    article_id: str
    chunks: list[Evidence]
    vector: np.ndarray
    figures: frozenset[str]
    names: frozenset[str]
    published: datetime | None

    def shares_anchor(self, other: _Report, common: frozenset[str]) -> bool:
        """A figure in common, or two names in common that most reports of the window lack."""
        return bool(self.figures & other.figures) or len((self.names & other.names) - common) >= 2


def _reports(evidence: list[Evidence], vectors: dict[str, np.ndarray]) -> list[_Report]:
    by_article: dict[str, list[Evidence]] = {}
    for item in evidence:
        by_article.setdefault(item.article_id, []).append(item)
    reports = []
    for article_id, chunks in by_article.items():
        chunks.sort(key=lambda e: -e.score)
        mean = np.mean([vectors[c.key] for c in chunks], axis=0)
        texts = [f"{chunks[0].title}\n"] + [c.text for c in chunks]
        reports.append(_Report(article_id, chunks, mean / (np.linalg.norm(mean) or 1.0),
                               frozenset().union(*(_figures(t) for t in texts)),
                               frozenset().union(*(_names(t) for t in texts)), chunks[0].published))
    return sorted(reports, key=lambda r: (r.published is None, r.published or datetime.min, r.article_id))


def group(evidence: list[Evidence], vectors: dict[str, np.ndarray]) -> list[list[Evidence]]:
    """The chunks grouped into stories: an article's chunks stay together; an article joins the
    story whose centroid is closest when that reaches the link similarity (lower when it shares a
    figure, or two names that most reports of the window lack, with one of the story's reports)
    and the story's latest report is at most ``link_days`` older. In time order, so an update
    joins the story it updates."""
    link = lexicon.threshold("stories", "link_similarity")
    with_anchor = lexicon.threshold("stories", "link_with_anchor")
    days = lexicon.threshold("stories", "link_days")
    reports = _reports(evidence, vectors)
    common = _common_names(reports)
    stories: list[list[_Report]] = []
    centroids: list[np.ndarray] = []
    for report in reports:
        best, best_similarity = None, -1.0
        for index, members in enumerate(stories):
            similarity = float(centroids[index] @ report.vector)
            needed = with_anchor if any(report.shares_anchor(m, common) for m in members) else link
            if similarity >= needed and similarity > best_similarity and _close_in_time(members, report, days):
                best, best_similarity = index, similarity
        if best is None:
            stories.append([report])
            centroids.append(report.vector)
        else:
            stories[best].append(report)
            mean = np.mean([m.vector for m in stories[best]], axis=0)
            centroids[best] = mean / (np.linalg.norm(mean) or 1.0)
    return [[chunk for report in members for chunk in report.chunks] for members in stories]


def _common_names(reports: list[_Report]) -> frozenset[str]:
    """Names in at least ``common_name_share`` of the reports: the topic's own ("Russia"), which tie nothing."""
    share = lexicon.threshold("stories", "common_name_share")
    counts: dict[str, int] = {}
    for report in reports:
        for name in report.names:
            counts[name] = counts.get(name, 0) + 1
    return frozenset(name for name, count in counts.items() if count >= max(2, share * len(reports)))


def _close_in_time(members: list[_Report], report: _Report, days: float) -> bool:
    dated = [m.published for m in members if m.published]
    if report.published is None or not dated:
        return True
    return abs((report.published - max(dated)).total_seconds()) <= days * 86400


def rank(groups: list[list[Evidence]], filters: RetrievalFilter, reported: set[str],
         weights: dict[str, float] | None = None) -> list[Story]:
    """Stories by salience, most salient first (``thresholds.toml`` ``salience``); ``weights`` are the
    topic's keyword tokens with their IDF, for how much of the topic a story's headlines name."""
    headline_weight = lexicon.threshold("salience", "headline")
    outlet_weight = lexicon.threshold("salience", "outlets")
    recency_weight = lexicon.threshold("salience", "recency")
    reported_weight = lexicon.threshold("salience", "reported")
    dates = [e.published for chunks in groups for e in chunks if e.published]
    start = filters.since or (min(dates) if dates else None)
    end = filters.until or (max(dates) if dates else None)
    stories = []
    for chunks in groups:
        chunks = sorted(chunks, key=lambda e: -e.score)
        outlets = list(dict.fromkeys(e.publisher or e.article_id for e in chunks))
        articles = list(dict.fromkeys(e.article_id for e in chunks))
        published = [e.published for e in chunks if e.published]
        relevance = chunks[0].score
        recency = _place(max(published), start, end) if published else 0.0
        was_reported = bool(reported & set(articles))
        in_headline = max(keyword_coverage(weights or {}, e.title) for e in chunks)
        salience = (relevance + headline_weight * in_headline + outlet_weight * (len(outlets) - 1)
                    + recency_weight * recency - reported_weight * was_reported)
        stories.append(Story(
            id="", title=chunks[0].title, keys=[e.key for e in chunks], article_ids=articles, outlets=outlets,
            first_published=min(published) if published else None, last_published=max(published) if published else None,
            relevance=round(relevance, 4), salience=round(salience, 4), reported_before=was_reported))
    stories.sort(key=lambda s: (-s.salience, s.title))
    return [s.model_copy(update={"id": f"s{i}"}) for i, s in enumerate(stories, start=1)]


def _place(when: datetime, start: datetime | None, end: datetime | None) -> float:
    """Where ``when`` falls in the window, 0 at its start and 1 at its end."""
    if start is None or end is None or end <= start:
        return 1.0
    return min(max((when - start).total_seconds() / (end - start).total_seconds(), 0.0), 1.0)
