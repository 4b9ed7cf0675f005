"""Benchmark: CLI cold start, against a bare Python interpreter start in the same run.

Ingests corpus/ (and, with --articles, a synthetic corpus) into a temporary home first (not
timed), then times each command 5 times and reports the median. Run: `make bench` or
`.venv/bin/python -m bench.cli_startup --articles 3400` (about 13k chunks).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import build_corpus
from briefing.embedding.cpu import cpu_info

ROOT = Path(__file__).resolve().parent.parent
BRIEFING = [sys.executable, "-m", "briefing"]
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "briefing --help": [*BRIEFING, "--help"],
    "briefing sources": [*BRIEFING, "sources"],
    "briefing ask --provider extractive": [*BRIEFING, "ask", "How many North Korean troops are in Kursk?", "--provider", "extractive"],
}


def median_seconds(command: list[str], env: dict, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    print(f"CPU: {cpu_info().describe()}")
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, help="time against this existing BRIEFING_HOME instead of a fresh one")
    parser.add_argument("--articles", type=int, default=0,
                        help="also ingest this many synthetic articles (bench.ingest's corpus; 3400 give about 13k chunks)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = args.home or Path(folder)
        env = {**os.environ, "BRIEFING_HOME": str(home)}
        if args.home is None:
            subprocess.run([*BRIEFING, "ingest", "corpus"], env=env, cwd=ROOT, capture_output=True, check=True)
            if args.articles:
                build_corpus(home / "bench.jsonl", args.articles)
                subprocess.run([*BRIEFING, "ingest", str(home / "bench.jsonl")], env=env, cwd=ROOT, capture_output=True, check=True)
        done = subprocess.run([*BRIEFING, "stats", "--json"], env=env, cwd=ROOT, capture_output=True, check=True, text=True)
        stats = json.loads(done.stdout)
        results = {name: median_seconds(command, env) for name, command in COMMANDS.items()}
    baseline = results["python -c pass (baseline)"]
    print(f"median of 5 runs; store: {stats['chunks']} chunks, embedder {stats['embedder']}")
    for name, seconds in results.items():
        print(f"{name:38s} {seconds:6.3f} s  ({seconds / baseline:5.1f}x bare python)")


if __name__ == "__main__":
    main()
