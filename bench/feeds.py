"""Benchmark: `briefing pull` of many feeds from a loopback HTTP server, against the recipe a user
had before feeds by URL (download every feed with a plain sequential HTTP client, then
`briefing ingest` the folder), both run here in the same invocation; then 60 days of a rolling feed.

Feeds are ``tests/feed_server.py``'s synthetic ones (made-up items of 35–65 words, distinct across
feeds), served with ETag and Last-Modified, gzip on request. Each command runs as its own process
with the default embedder, as a user runs it; the server runs in this process.

    .venv/bin/python -m bench.feeds [--feeds 100] [--items 30] [--days 60]

Targets (issue 27): the first pull of 100 feeds x 30 items in at most 10 s; an unchanged second
pull (every feed 304) in at most 1 s; after 60 days of a feed holding its newest 20 items, every
item ever seen stored once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.feed_server import FeedServer, rolling_feed_days, rss_feed, synthetic_items  # noqa: E402

START = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
BRIEFING = [sys.executable, "-m", "briefing"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, dict]:
    """Seconds the command took and its JSON output."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds, json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else {}


def home_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    return {**env, "BRIEFING_HOME": str(home)}


def download_all(server: FeedServer, paths: list[str], folder: Path) -> float:
    """The baseline's download: one plain GET after another, each body written to a file."""
    import httpx

    started = time.perf_counter()
    with httpx.Client() as client:
        for path in paths:
            (folder / path.strip("/")).write_bytes(client.get(server.url(path)).content)
    return time.perf_counter() - started


def many_feeds(feeds: int, items: int, scratch: Path) -> dict:
    with FeedServer() as server:
        paths = [f"/feed-{n}.xml" for n in range(feeds)]
        for n, path in enumerate(paths):
            server.serve(path, rss_feed(f"Bench feed {n} (sample)", synthetic_items(n, items, START)))
        words = sum(len(i.text.split()) for n in range(feeds) for i in synthetic_items(n, items, START))
        opml = scratch / "feeds.opml"
        opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>'
                        + "".join(f'<outline xmlUrl="{server.url(p)}"/>' for p in paths) + "</body></opml>")
        pulled = home_env(scratch / "pull-home")
        subprocess.run([*BRIEFING, "feeds", "import", str(opml)], env=pulled, capture_output=True, check=True)
        first, report = timed([*BRIEFING, "pull", "--json"], pulled)
        second, again = timed([*BRIEFING, "pull", "--json"], pulled)
        assert all(f["status"] == "not-modified" for f in again["feeds"]), "second pull was not all 304"

        baseline = home_env(scratch / "baseline-home")
        folder = scratch / "downloads"
        folder.mkdir()
        base_first_fetch = download_all(server, paths, folder)
        base_first, base_report = timed([*BRIEFING, "ingest", str(folder), "--json"], baseline)
        base_second_fetch = download_all(server, paths, folder)
        base_second, _ = timed([*BRIEFING, "ingest", str(folder), "--json"], baseline)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "feeds": feeds, "items_per_feed": items, "items": feeds * items, "words": words,
        "first_pull_s": round(first, 2), "first_pull_fetch_s": report["fetch_seconds"],
        "first_pull_articles": report["ingest"]["articles"], "second_pull_s": round(second, 2),
        "baseline_first_s": round(base_first_fetch + base_first, 2), "baseline_first_fetch_s": round(base_first_fetch, 2),
        "baseline_first_articles": base_report["articles"],
        "baseline_second_s": round(base_second_fetch + base_second, 2),
        "ratio_first": round(first / (base_first_fetch + base_first), 2),
        "ratio_second": round(second / (base_second_fetch + base_second), 2),
        "peak_rss_mb_of_any_command": round(peak),
    }


def rolling(days: int, scratch: Path) -> dict:
    """60 pulls of one feed whose file holds its newest 20 items (3 new a day), in this process."""
    from briefing.ingest.pull import import_opml, pull
    from briefing.pipeline import Components
    from briefing.settings import Settings
    from briefing.store.store import open_catalog

    schedule = rolling_feed_days(days, per_day=3, keep=20, start=START)
    settings = Settings(home=scratch / "rolling-home")
    started = time.perf_counter()
    with FeedServer() as server:
        opml = scratch / "rolling.opml"
        opml.write_text(f'<opml version="2.0"><body><outline xmlUrl="{server.url("/r.xml")}"/></body></opml>')
        import_opml(settings, opml)
        components = Components(settings)
        for day in schedule:
            server.serve("/r.xml", rss_feed("Rolling bench (sample)", day))
            pull(components)
        components.close()
    catalog = open_catalog(settings)
    listed = [a.title for a in catalog.list_articles()] if catalog else []
    seen = {item.title for day in schedule for item in day}
    return {"days": days, "items_seen": len(seen), "stored": len(listed), "stored_once": len(set(listed)) == len(listed),
            "every_item_kept": set(listed) == seen, "alternates": catalog.counts()["alternates"] if catalog else None,
            "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        result = {"many_feeds": many_feeds(args.feeds, args.items, Path(scratch)),
                  "rolling": rolling(args.days, Path(scratch)), "cpus": os.cpu_count()}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
