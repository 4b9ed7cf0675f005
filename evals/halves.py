"""What the blind-case evals share (``evals/feeds/run.py``, ``evals/pages/run.py``): the command
line, the frozen split with its second tuning set, and the tally by kind of each half.

A case runner takes a case folder and returns what failed, one line each (empty when right). Misses
are printed for tuning sets only: the holdout's are never read.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

HALVES = ["tuning", "holdout", "both", "tuning-2"]


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--half", choices=HALVES, default="tuning")
    parser.add_argument("--show", choices=["misses"], help="print what failed in each case (tuning sets only)")
    return parser.parse_args()


def report(here: Path, half: str, show: bool, run: Callable[[Path], list[str]]) -> None:
    """Run the cases of ``half`` (``split.json`` beside the runner; ``tuning-2`` is every case of
    ``blind-2/``) and print one line per half: cases right, by kind."""
    cases = here / "blind"
    split = json.loads((here / "split.json").read_text())
    split["tuning-2"] = sorted(f"../blind-2/{p.name}" for p in (here / "blind-2").iterdir() if p.is_dir())
    for name_of_half in (["tuning", "holdout"] if half == "both" else [half]):
        by_kind: dict[str, list[int]] = {}
        for name in split[name_of_half]:
            failed = run(cases / name)
            kind = json.loads((cases / name / "case.json").read_text())["kind"]
            tally = by_kind.setdefault(kind, [0, 0])
            tally[0] += not failed
            tally[1] += 1
            if failed and show and name_of_half != "holdout":
                print(f"  {name}: {'; '.join(failed)[:400]}")
        passed, total = sum(t[0] for t in by_kind.values()), sum(t[1] for t in by_kind.values())
        kinds = ", ".join(f"{kind} {t[0]}/{t[1]}" for kind, t in sorted(by_kind.items()))
        print(f"{name_of_half}: {passed}/{total} cases right ({kinds})")
