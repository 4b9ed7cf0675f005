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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from briefing import lexicon
from briefing.answer.generate import figures
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


def keyword_coverage(weights: dict[str, float], text: str, compounds: Sequence[str] = ()) -> float:
    """The IDF-weighted share of the query's keyword tokens (``weights``) that ``text`` holds, 0-1.
    The parts of a hyphenated query word (``compounds``: "anti-war") count only where the text
    has the whole word, with or without its hyphen: "anti-landmine" holds no "anti" of "anti-war"."""
    total = sum(weights.values())
    if not total:
        return 0.0
    present = set(tokenize(text))
    folded = text.casefold()
    for compound in compounds:
        if compound.casefold() not in folded and compound.replace("-", "").casefold() not in folded:
            present -= set(tokenize(compound))
    return sum(weight for token, weight in weights.items() if token in present) / total


def hyphenated(query: str) -> list[str]:
    """The query's hyphenated words ("anti-war", "long-range"), but not names joined by a hyphen
    ("Franco-German talks", "Iran-Iraq border": each name counts alone)."""
    return [w for w in re.findall(r"\w+(?:-\w+)+", query) if not all(part[:1].isupper() for part in w.split("-"))]


@dataclass
class Gathered:
    """What a brief's window holds about its topic: the chunks that passed the gate (as evidence,
    with ``score`` the gate's probability and ``similarity`` the cosine), their vectors by key, and
    the stories they form, most salient first."""

    evidence: dict[str, Evidence] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    stories: list[Story] = field(default_factory=list)
    read: int = 0  # candidate chunks the gate read
    query_vector: np.ndarray | None = None  # the topic's embedding, so leads need not embed it again

    def chunks_of(self, story: Story) -> list[Evidence]:
        return [self.evidence[key] for key in story.keys if key in self.evidence]

    def limited(self, per_story: int) -> Gathered:
        """The same, with at most ``per_story`` chunks of each story (its most relevant); a story's
        articles, outlets and dates are those of the chunks it keeps."""
        return self._keeping({key for s in self.stories for key in s.keys[:per_story]})

    def without(self, article_ids: set[str]) -> Gathered:
        """The same, less the chunks of ``article_ids`` (given to another topic); a story left with
        no chunk goes, and the rest are numbered again in order."""
        return self._keeping({key for key, e in self.evidence.items() if e.article_id not in article_ids})

    def only(self, stories: list[Story]) -> Gathered:
        """The same, with only ``stories``."""
        return replace(self, stories=stories)

    def _keeping(self, keys: set[str]) -> Gathered:
        stories = [narrowed(s, [self.evidence[k] for k in s.keys if k in keys]) for s in self.stories]
        kept = [s.model_copy(update={"id": f"s{i}"}) for i, s in enumerate((s for s in stories if s.keys), start=1)]
        keys = {key for s in kept for key in s.keys}
        return replace(self, evidence={k: e for k, e in self.evidence.items() if k in keys},
                       vectors={k: v for k, v in self.vectors.items() if k in keys}, stories=kept)


def narrowed(story: Story, chunks: list[Evidence]) -> Story:
    """``story`` as told by ``chunks`` only: their keys, articles, outlets and dates (its
    relevance and salience as ranked)."""
    published = [e.published for e in chunks if e.published]
    return story.model_copy(update={
        "keys": [e.key for e in chunks], "article_ids": list(dict.fromkeys(e.article_id for e in chunks)),
        "outlets": list(dict.fromkeys(e.publisher or e.article_id for e in chunks)),
        "first_published": min(published) if published else None, "last_published": max(published) if published else None})


def gather(query: str, store: Store, filters: RetrievalFilter | None = None, reported: Sequence[str] = (),
           gate: Gate | None = None) -> Gathered:
    """Every chunk of the window (``filters``) the gate finds about ``query``, grouped into stories
    and ranked; ``reported`` holds the sentences the previous daily brief showed: a story with a
    chunk close to one of them (``reported_chunks``) is less salient."""
    filters, gate = filters or RetrievalFilter(), gate or Gate.configured()
    query_vector = store.embedder.embed([query])[0]
    limit = int(lexicon.threshold("relevance", "candidates"))
    found = store.candidates(query, query_vector, filters, limit)
    ids = list(dict.fromkeys([cid for cid, _ in found.dense] + [cid for cid, _ in found.keyword]))
    if not ids:
        return Gathered()
    vectors, rows, weights = store.vectors_of(ids), store.chunks(ids), store.term_weights(query)
    compounds = hyphenated(query)
    evidence: dict[str, Evidence] = {}
    for cid in ids:
        if cid not in vectors or cid not in rows:
            continue
        chunk, article = rows[cid]
        cosine = float(vectors[cid] @ query_vector)
        probability = gate.probability(cosine, keyword_coverage(weights, f"{article.title}\n{chunk.text}", compounds))
        if probability >= gate.cut:
            evidence[cid] = Evidence(key=chunk.id, article_id=article.id, text=chunk.text, start=chunk.start,
                                     title=article.title, publisher=article.publisher, published=article.published,
                                     url=article.url, score=round(probability, 6), similarity=round(cosine, 4))
    kept = {cid: vectors[cid] for cid in evidence}
    stories = rank(group(list(evidence.values()), kept), filters, reported_chunks(kept, reported, store.embedder), weights,
                   compounds)
    return Gathered(evidence, kept, stories, len(ids), query_vector)


def reported_chunks(vectors: dict[str, np.ndarray], sentences: Sequence[str], embedder) -> set[str]:
    """The chunks (by key) whose embedding is within ``salience.reported_similarity`` of one of
    ``sentences`` (what the previous brief showed): its window ended where this one starts, so the
    same story comes back in other articles, not in the same ones."""
    if not sentences or not vectors:
        return set()
    keys = list(vectors)
    similarity = np.stack([vectors[k] for k in keys]) @ embedder.embed(list(sentences)).T
    cut = lexicon.threshold("salience", "reported_similarity")
    return {key for key, row in zip(keys, np.atleast_2d(similarity)) if float(row.max()) >= cut}


# --- stories ---------------------------------------------------------------------------------

MIN_ANCHOR_FIGURE = 10  # smaller counts ("two ships", "3 dead") tie unrelated reports together


def _figures(text: str) -> frozenset[float]:
    """Figures that can tie two reports together: what ``generate.figures`` reads as quantities
    (years and days of the month left out), from ``MIN_ANCHOR_FIGURE`` up."""
    return frozenset(value for value, _ in figures(text) if value >= MIN_ANCHOR_FIGURE)


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
    figures: frozenset[float]
    names: frozenset[str]
    published: datetime | None

    def anchors_shared(self, other: _Report, common: frozenset[str]) -> int:
        """How strongly the two are tied beyond their embeddings: 2 for a figure in common or two
        names in common that most reports of the window lack, 1 for one such name, else 0."""
        names = len((self.names & other.names) - common)
        return 2 if self.figures & other.figures or names >= 2 else min(names, 1)


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
    name that most reports of the window lack with one of the story's reports, lower still for a
    figure or two such names)
    and the story's latest report is at most ``link_days`` older. In time order, so an update
    joins the story it updates."""
    link = lexicon.threshold("stories", "link_similarity")
    with_anchor = lexicon.threshold("stories", "link_with_anchor")
    with_name = lexicon.threshold("stories", "link_with_name")
    days = lexicon.threshold("stories", "link_days")
    reports = _reports(evidence, vectors)
    common = _common_names(reports)
    stories: list[list[_Report]] = []
    centroids: list[np.ndarray] = []
    for report in reports:
        best, best_similarity = None, -1.0
        for index, members in enumerate(stories):
            similarity = float(centroids[index] @ report.vector)
            tie = max(report.anchors_shared(m, common) for m in members)
            needed = (link, with_name, with_anchor)[tie]
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
    """Names in at least ``common_name_share`` of the reports: the topic's own (the country it is about), which tie
    nothing."""
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
         weights: dict[str, float] | None = None, compounds: Sequence[str] = ()) -> list[Story]:
    """Stories by salience, most salient first (``thresholds.toml`` ``salience``); ``reported`` holds
    the keys of chunks the previous daily brief reported (``reported_chunks``); ``weights`` are the
    topic's keyword tokens with their IDF, for how much of the topic a story's headlines name."""
    relevance_weight = lexicon.threshold("salience", "relevance")
    similarity_weight = lexicon.threshold("salience", "similarity")
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
        story = narrowed(Story(id="", title=chunks[0].title, keys=[], article_ids=[], outlets=[], relevance=0.0, salience=0.0),
                         chunks)
        closeness = max(e.similarity or 0.0 for e in chunks)
        recency = _place(story.last_published, start, end) if story.last_published else 0.0
        was_reported = bool(reported & set(story.keys))
        in_headline = max(keyword_coverage(weights or {}, e.title, compounds) for e in chunks)
        salience = (relevance_weight * chunks[0].score + similarity_weight * closeness + headline_weight * in_headline
                    + outlet_weight * (len(story.outlets) - 1) + recency_weight * recency - reported_weight * was_reported)
        stories.append(story.model_copy(update={"relevance": round(chunks[0].score, 4), "salience": round(salience, 4),
                                                "reported_before": was_reported}))
    stories.sort(key=lambda s: (-s.salience, s.title))
    return [s.model_copy(update={"id": f"s{i}"}) for i, s in enumerate(stories, start=1)]


def _place(when: datetime, start: datetime | None, end: datetime | None) -> float:
    """Where ``when`` falls in the window, 0 at its start and 1 at its end."""
    if start is None or end is None or end <= start:
        return 1.0
    return min(max((when - start).total_seconds() / (end - start).total_seconds(), 0.0), 1.0)
