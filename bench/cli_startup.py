"""Benchmark: CLI cold start, against a bare Python interpreter start in the same run.

Ingests corpus/ into a temporary home first (not timed), then times each command 5 times and
reports the median. Run: `make bench` or `.venv/bin/python -m bench.cli_startup`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "BRIEFING_HOME": home}
        subprocess.run([*BRIEFING, "ingest", "corpus"], env=env, cwd=ROOT, capture_output=True, check=True)
        results = {name: median_seconds(command, env) for name, command in COMMANDS.items()}
    baseline = results["python -c pass (baseline)"]
    print("median of 5 runs, store: corpus/ (38 chunks)")
    for name, seconds in results.items():
        print(f"{name:38s} {seconds:6.3f} s  ({seconds / baseline:5.1f}x bare python)")


if __name__ == "__main__":
    main()
