"""Fit the brief's relevance gate on labelled topic/item pairs.

The labels (``evals/briefs/relevance-labels.yaml``, written blind by a helper who had not seen the
code) list, for each of 18 topics, the RSS items relevant to it and the borderline ones; every other
item is not relevant. Borderline pairs are left out. For every (topic, item) pair this computes the
gate's two features as a brief does (``stories.keyword_coverage`` and the embedding cosine of the
item's chunk), fits a logistic regression, and reports topic-disjoint cross-validated accuracy,
precision and recall at the cut, so the coefficients written to ``thresholds.toml [relevance]`` are
measured on topics they were not fitted on.

    python -m training.relevance_gate [--items ../shared/data/news-rss-2024/items.jsonl] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "evals" / "briefs" / "relevance-labels.yaml"
ITEMS = ROOT.parent / "shared" / "data" / "news-rss-2024" / "items.jsonl"


def features(home: Path, items: Path, topics: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cosine, keyword coverage) per non-borderline pair, its label, and its topic index. Items
    are matched by url (unique among the items); ``topics`` name them by url too."""
    from briefing.answer.stories import keyword_coverage
    from briefing.ingest.run import ingest
    from briefing.pipeline import Components
    from briefing.settings import Settings

    settings = Settings(home=home)
    with Components(settings) as components:
        if components.store.article_count() == 0:
            ingest([items], components)
        store = components.store
        catalog_ids = store.vector_index().ids_in(None, None)
        rows = store.chunks(sorted(catalog_ids))
        vectors = store.vectors_of(sorted(rows))
        by_item = {article.url: (cid, chunk, article) for cid, (chunk, article) in rows.items() if chunk.start == 0}
        x, y, group = [], [], []
        for index, topic in enumerate(topics):
            query = topic["topic"]
            vector = store.embedder.embed([query])[0]
            weights = store.term_weights(query)
            relevant, borderline = set(topic["relevant"]), set(topic.get("borderline", []))
            for item_id, (cid, chunk, article) in by_item.items():
                if item_id in borderline:
                    continue
                x.append((float(vectors[cid] @ vector), keyword_coverage(weights, f"{article.title}\n{chunk.text}")))
                y.append(int(item_id in relevant))
                group.append(index)
    return np.array(x), np.array(y), np.array(group)


def fit(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=10.0).fit(x, y)


def cross_validated(x: np.ndarray, y: np.ndarray, group: np.ndarray, cut: float) -> dict[str, float]:
    """Leave-one-topic-out predictions at ``cut``: accuracy, precision, recall."""
    predicted = np.zeros_like(y)
    for topic in np.unique(group):
        test = group == topic
        if y[~test].min() == y[~test].max():
            raise ValueError(f"topic {topic}: the other topics hold one class only; cannot fit")
        model = fit(x[~test], y[~test])
        predicted[test] = model.predict_proba(x[test])[:, 1] >= cut
    tp = int(((predicted == 1) & (y == 1)).sum())
    return {"accuracy": float((predicted == y).mean()), "precision": tp / max(int(predicted.sum()), 1),
            "recall": tp / max(int(y.sum()), 1), "pairs": float(len(y)), "relevant": float(y.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=Path, default=ITEMS)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--home", type=Path, default=None, help="A home holding the items (default: a new temporary one).")
    parser.add_argument("--cuts", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2, 0.3, 0.5])
    args = parser.parse_args()
    labels = yaml.safe_load(args.labels.read_text(encoding="utf-8"))
    url_of = {}
    for line in args.items.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        url_of[item["id"]] = item["url"]
    topics = [{**t, "relevant": [url_of[i] for i in t["relevant"]], "borderline": [url_of[i] for i in t.get("borderline", [])]}
              for t in labels["topics"]]
    with tempfile.TemporaryDirectory() as scratch:
        x, y, group = features(args.home or Path(scratch), args.items, topics)
    model = fit(x, y)
    print(f"bias = {model.intercept_[0]:.2f}\nsimilarity = {model.coef_[0][0]:.2f}\ncoverage = {model.coef_[0][1]:.2f}")
    for cut in args.cuts:
        scores = cross_validated(x, y, group, cut)
        print(f"leave-one-topic-out, cut {cut:.2f}: precision {scores['precision']:.2f}, recall {scores['recall']:.2f}, "
              f"accuracy {scores['accuracy']:.3f} ({scores['pairs']:.0f} pairs, {scores['relevant']:.0f} relevant)")


if __name__ == "__main__":
    main()
