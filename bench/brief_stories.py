"""How long a brief takes now that it reads its whole window: gathering every relevant chunk,
grouping stories, choosing leads and verifying, against the top-10 retrieval a brief used to read,
timed in the same run on the same store.

Two stores, both embedded with the default embedder (all-MiniLM-L6-v2, ONNX):
- the 324 RSS items of ../shared/data/news-rss-2024 (BRIEFING_RSS_ITEMS to point elsewhere);
- ``--articles`` (default 10,000) synthetic feed items: a headline and one to three sentences drawn
  (seeded) from the items' and corpus/'s sentences, four publishers, dates spread over
  15 Oct - 20 Dec 2024 (about 150 a day), built in a temporary folder, never kept.

For each store and each topic of evals/briefs/topics-tuning.yaml, over a month window
(2024-11-01 to 2024-11-30): the median of ``--runs`` extractive briefs (``write_brief``, offline
trained judge) and of ``find_evidence(k=10)``, with the chunks the gate read and passed and the
stories it formed.

    .venv/bin/python -m bench.brief_stories [--articles 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bench.ingest import ITEMS, sentence_pool
from briefing.embedding.cpu import cpu_info

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ROOT / "evals" / "briefs" / "topics-tuning.yaml"
PUBLISHERS = ["Bench Wire", "Bench Times", "Bench Post", "Bench Daily"]
MONTH = ("2024-11-01", "2024-11-30")


def build_items(path: Path, count: int, seed: int = 20241201) -> None:
    """``count`` synthetic feed items made of real news sentences, spread over the RSS items' span."""
    rng = random.Random(seed)
    pool = sentence_pool()
    start, span = datetime(2024, 10, 15, tzinfo=UTC), timedelta(days=66).total_seconds()
    with path.open("w") as out:
        for n in range(count):
            body = [rng.choice(pool) for _ in range(rng.randint(1, 3))]
            when = start + timedelta(seconds=span * n / count)
            out.write(json.dumps({"id": f"bench-{n}", "title": rng.choice(pool)[:90], "publisher": PUBLISHERS[n % 4],
                                  "url": f"https://bench.example/{n}", "published": when.isoformat(), "text": " ".join(body)}) + "\n")


def median_seconds(call, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(items: Path, home: Path, queries: list[str], runs: int) -> list[dict]:
    from briefing.dates import retrieval_filter
    from briefing.ingest.run import ingest
    from briefing.models import Request
    from briefing.pipeline import Components, find_evidence, gather_stories, write_brief
    from briefing.settings import Settings

    window = retrieval_filter(*MONTH)
    rows = []
    with Components(Settings(home=home), provider="extractive") as components:
        started = time.perf_counter()
        ingest([items], components)
        ingest_seconds = time.perf_counter() - started
        chunks = components.store.catalog.counts()["chunks"]
        write_brief(queries[0], components, filters=window)  # warm: models loaded, side files built
        for query in queries:
            brief_s, brief = median_seconds(lambda q=query: write_brief(q, components, filters=window), runs)
            top_s, _ = median_seconds(lambda q=query: find_evidence(q, components, 10, window), runs)
            found = gather_stories(Request(kind="brief", query=query, filters=window), components)
            rows.append({"query": query, "brief_s": brief_s, "top10_s": top_s, "read": found.read,
                         "passed": len(found.evidence), "stories": len(found.stories),
                         "shown": len(brief.shown()), "chunks": chunks, "ingest_s": ingest_seconds})
    return rows


def report(name: str, rows: list[dict]) -> None:
    print(f"\n{name}: {rows[0]['chunks']} chunks (ingested in {rows[0]['ingest_s']:.0f} s); window {MONTH[0]} to {MONTH[1]}")
    print(f"{'topic':44s} {'brief s':>8s} {'top-10 s':>9s} {'ratio':>6s} {'read':>5s} {'passed':>6s} {'stories':>7s} {'shown':>5s}")
    for r in rows:
        print(f"{r['query'][:44]:44s} {r['brief_s']:8.2f} {r['top10_s']:9.3f} {r['brief_s'] / r['top10_s']:6.1f} "
              f"{r['read']:5d} {r['passed']:6d} {r['stories']:7d} {r['shown']:5d}")
    median = statistics.median(r["brief_s"] for r in rows)
    print(f"median brief {median:.2f} s, worst {max(r['brief_s'] for r in rows):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("cpu:", cpu_info())
    queries = [case["query"] for case in yaml.safe_load(TOPICS.read_text())["cases"]]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if ITEMS.exists():
            report(f"the {sum(1 for _ in ITEMS.open())} RSS items", measure(ITEMS, folder / "items-home", queries, args.runs))
        else:
            print(f"skipped the RSS items: not at {ITEMS}")
        synthetic = folder / "synthetic.jsonl"
        build_items(synthetic, args.articles)
        report(f"{args.articles} synthetic items", measure(synthetic, folder / "synthetic-home", queries, args.runs))


if __name__ == "__main__":
    main()
