"""Key-fact recall of briefs on the blind topic set, both halves, with what a reader sees.

The topics (``topics-tuning.yaml``, ``topics-holdout.yaml``) were written by a helper who had not
seen the code, from the RSS items alone, and frozen before any tuning; the holdout half was never
used to choose anything. Each case is a topic, a window and its key facts (a regex and the items
that state it). This runs every case as ``briefing brief --provider extractive`` does, over a store
of the items built once, and reports per half:

- key facts stated (a shown sentence matches the fact and cites an item that states it);
- shown sentences per brief;
- citations outside the window (must be 0);
- the filler patterns (``must_not_include``) that appeared.

    python evals/briefs/run.py [--half tuning|holdout|tuning-2|both (default tuning)] [--home DIR] [--show CASE_ID] [--length N]

Set BRIEFING_RSS_ITEMS to read the items from elsewhere; without them it says so and stops.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HALVES = {"tuning": HERE / "topics-tuning.yaml", "holdout": HERE / "topics-holdout.yaml",
          "tuning-2": HERE / "topics-tuning-2.yaml"}


def _items(suite_file: Path, suite) -> Path:
    from briefing.evaluate.cases import corpus_of

    return corpus_of(suite, suite_file)


def run_half(name: str, components, show: str | None, length: int | None) -> dict:
    from briefing.evaluate.cases import load_suite
    from briefing.evaluate.details import fact_checks, forbidden_found
    from briefing.pipeline import write_brief

    suite = load_suite(HALVES[name])
    article_ids = _article_ids(components, suite)
    found = total = sentences = outside = forbidden = 0
    seconds = 0.0
    for case in suite.cases:
        started = time.perf_counter()
        kwargs = {"length": length} if length else {}
        briefing = write_brief(case.query, components, filters=case.filters(), **kwargs)
        seconds += time.perf_counter() - started
        facts = fact_checks(case, briefing, article_ids)
        shown = briefing.shown()
        cited = {c.key for s in shown for c in s.citations if c.valid}
        by_key = {e.key: e for e in briefing.evidence}
        late = [k for k in cited if k in by_key and not _inside(by_key[k].published, case)]
        bad = forbidden_found(case, briefing)
        found += sum(f.found for f in facts)
        total += len(facts)
        sentences += len(shown)
        outside += len(late)
        forbidden += len(bad)
        print(f"  {case.id:34} facts {sum(f.found for f in facts)}/{len(facts)}  shown {len(shown):2}"
              f"{'  OUTSIDE ' + str(len(late)) if late else ''}{'  filler ' + ', '.join(bad) if bad else ''}")
        if show in (case.id, "all"):
            _print_case(briefing, facts)
    cases = len(suite.cases)
    return {"half": name, "facts": f"{found}/{total} ({found / max(total, 1):.0%})", "recall": found / max(total, 1),
            "sentences per brief": round(sentences / cases, 1), "citations outside window": outside,
            "fillers": forbidden, "seconds per brief": round(seconds / cases, 2)}


def _inside(published, case) -> bool:
    filters = case.filters()
    if published is None:
        return False
    return (filters.since is None or published >= filters.since) and (filters.until is None or published <= filters.until)


def _article_ids(components, suite) -> dict[str, set[str]]:
    """Item id -> stored article ids, as ``briefing eval`` maps them."""
    refs = {ref for case in suite.cases for fact in case.must_include for ref in fact.articles}
    return {ref: components.store.catalog.article_ids_for(ref) for ref in refs}


def _print_case(briefing, facts) -> None:
    from briefing.output.render import render

    print(render(briefing, "md"))
    for fact in facts:
        print(f"    {'FOUND ' if fact.found else 'MISSED'} {fact.fact}  {fact.articles}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Key-fact recall of briefs on the blind topic set.")
    parser.add_argument("--half", choices=["tuning", "holdout", "tuning-2", "both"], default="tuning",
                        help="tuning (default), the frozen holdout, tuning-2 (the second blind set), or both: tuning "
                        "and holdout, as a change is reported")
    parser.add_argument("--home", type=Path, help="A home that already holds the items (default: a new temporary one).")
    parser.add_argument("--show", help="Print this case's brief and facts ('all' for every case).")
    parser.add_argument("--length", type=int, help="Stories per brief (default: the brief's default).")
    args = parser.parse_args()
    from briefing.evaluate.cases import load_suite
    from briefing.ingest.run import ingest
    from briefing.pipeline import Components
    from briefing.settings import Settings

    items = _items(HALVES["tuning"], load_suite(HALVES["tuning"]))
    if not items.exists():
        print(f"skipped: the RSS items are not at {items} (set BRIEFING_RSS_ITEMS)")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        with Components(Settings(home=home), provider="extractive") as components:
            if components.store.article_count() == 0:
                ingest([items], components)
            halves = ["tuning", "holdout"] if args.half == "both" else [args.half]
            results = []
            for half in halves:
                print(f"{half}:")
                results.append(run_half(half, components, args.show, args.length))
    for result in results:
        print(" · ".join(f"{k}: {v}" for k, v in result.items() if k != "recall"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
