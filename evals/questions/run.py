"""`ask` on the blind question sets, by kind, with the evidence recall.

The questions (``tuning.yaml``, ``holdout.yaml``) were written by a helper who had not seen the
code, from the RSS items alone, and frozen before any tuning; the holdout half is never used to
choose anything. Every case runs as ``briefing ask --provider extractive`` does, over a store of the
items built once. Per half and per kind (the id's prefix: ``latest-``, ``near-``...) it reports:

- answerable questions answered right: not abstained, and every key fact stated by a shown
  answer sentence that cites an item stating it (evidence text that holds the answer does not
  count), with no forbidden pattern shown;
- near-misses (``unanswerable``) abstained;
- evidence recall: the share of key facts with a listed item among the chunks the question read
  (``pipeline.read_for_question``, where it exists) and among the evidence kept with the answer.

    python evals/questions/run.py [--half tuning|holdout|both|tuning-2|earlier] [--home DIR] [--show CASE_ID|all|misses]

``earlier`` scores the two earlier blind sets (``evals/rss-2024-questions.yaml`` and
``evals/rss-2024-holdout.yaml``) the same way. Set BRIEFING_RSS_ITEMS to read the items from
elsewhere; without them it says so and stops.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = {"tuning": [HERE / "tuning.yaml"], "holdout": [HERE / "holdout.yaml"], "tuning-2": [HERE / "tuning-2.yaml"],
        "earlier": [HERE.parent / "rss-2024-questions.yaml", HERE.parent / "rss-2024-holdout.yaml"]}


def kind_of(case_id: str) -> str:
    return case_id.split("-", 1)[0]


def run_set(name: str, components, show: str | None) -> dict:
    from briefing.evaluate.cases import load_suite
    from briefing.evaluate.details import fact_checks, forbidden_found
    from briefing.pipeline import answer_question

    by_kind: dict[str, list[bool]] = defaultdict(list)
    read_hits = kept_hits = facts_total = 0
    seconds = 0.0
    for path in SETS[name]:
        suite = load_suite(path)
        article_ids = _article_ids(components, suite)
        for case in suite.cases:
            started = time.perf_counter()
            briefing = answer_question(case.query, components, filters=case.filters())
            seconds += time.perf_counter() - started
            facts = fact_checks(case, briefing, article_ids)
            bad = forbidden_found(case, briefing)
            right = briefing.abstained if case.unanswerable else (not briefing.abstained and all(f.found for f in facts) and not bad)
            by_kind["near" if case.unanswerable else kind_of(case.id)].append(right)
            read = _read_articles(case.query, briefing, components)
            kept = {e.article_id for e in briefing.evidence}
            for fact in case.must_include:
                wanted = set().union(*(article_ids.get(ref, set()) for ref in fact.articles))
                facts_total += 1
                read_hits += bool(wanted & read)
                kept_hits += bool(wanted & kept)
            if show in (case.id, "all") or (show == "misses" and not right):
                _print_case(case, briefing, facts, bad, right)
    answerable = [r for kind, rows in by_kind.items() if kind != "near" for r in rows]
    near = by_kind.get("near", [])
    cases = len(answerable) + len(near)
    return {
        "set": name,
        "answered right": f"{sum(answerable)}/{len(answerable)} ({sum(answerable) / max(len(answerable), 1):.0%})",
        "near-misses abstained": f"{sum(near)}/{len(near)} ({sum(near) / max(len(near), 1):.0%})",
        "evidence recall (read)": f"{read_hits}/{facts_total}",
        "evidence recall (kept)": f"{kept_hits}/{facts_total}",
        "seconds per question": round(seconds / max(cases, 1), 3),
        "kinds": {kind: f"{sum(rows)}/{len(rows)}" for kind, rows in sorted(by_kind.items())},
    }


def _read_articles(query: str, briefing, components) -> set[str]:
    """The articles of every chunk the question read: the pool where this version has one, else
    the evidence kept (the earlier retrieval read only that)."""
    from briefing import pipeline

    if not hasattr(pipeline, "read_for_question"):
        return {e.article_id for e in briefing.evidence}
    from briefing.answer.question import read_question

    store = components.store
    question = read_question(query, reference=store.date_range()[1], timezone=components.settings.timezone)
    return {e.article_id for e in pipeline.read_for_question(question, components, briefing.filters)}


def _article_ids(components, suite) -> dict[str, set[str]]:
    """Item id -> stored article ids, as ``briefing eval`` maps them."""
    refs = {ref for case in suite.cases for fact in case.must_include for ref in fact.articles}
    return {ref: components.store.catalog.article_ids_for(ref) for ref in refs}


def _print_case(case, briefing, facts, bad, right) -> None:
    from briefing.output.render import render

    print(f"--- {case.id}: {'RIGHT' if right else 'WRONG'}{' (unanswerable)' if case.unanswerable else ''}")
    print(render(briefing, "md"))
    if briefing.abstain_reason:
        print(f"    reason: {briefing.abstain_reason}")
    for fact in facts:
        print(f"    {'FOUND ' if fact.found else 'MISSED'} {fact.fact}  {fact.articles}")
    for pattern in bad:
        print(f"    FORBIDDEN {pattern}")


def main() -> int:
    parser = argparse.ArgumentParser(description="ask on the blind question sets, by kind.")
    parser.add_argument("--half", choices=["tuning", "holdout", "both", "tuning-2", "earlier"], default="tuning",
                        help="tuning (default), the frozen holdout, both (as a change is reported), tuning-2 (the second "
                        "blind set), or the earlier sets")
    parser.add_argument("--home", type=Path, help="A home that already holds the items (default: a new temporary one).")
    parser.add_argument("--show", help="Print this case's answer ('all' for every case, 'misses' for the wrong ones).")
    args = parser.parse_args()
    from briefing.evaluate.cases import corpus_of, load_suite
    from briefing.ingest.run import ingest
    from briefing.pipeline import Components
    from briefing.settings import Settings

    items = corpus_of(load_suite(SETS["tuning"][0]), SETS["tuning"][0])
    if not items.exists():
        print(f"skipped: the RSS items are not at {items} (set BRIEFING_RSS_ITEMS)")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        with Components(Settings(home=home), provider="extractive") as components:
            if components.store.article_count() == 0:
                ingest([items], components)
            names = ["tuning", "holdout"] if args.half == "both" else [args.half]
            results = [run_set(name, components, args.show) for name in names]
    for result in results:
        kinds = result.pop("kinds")
        print(" · ".join(f"{k}: {v}" for k, v in result.items()))
        print("   " + "  ".join(f"{k} {v}" for k, v in kinds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
