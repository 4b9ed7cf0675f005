"""Run the blind feed cases (``evals/feeds/blind``) through `briefing ingest` and score them.

Each case's steps are copied, in order, into one working folder that is ingested after each step
(a later step's file overwrites the earlier one at its path, as a re-downloaded feed does); the
expectations of ``case.json`` are then checked on the store's listing. The split is frozen in
``split.json``: tune on ``tuning``, report ``holdout`` too, never read its misses. ``tuning-2`` is
``blind-2/``, a second blind set written after the first round of fixes (read once before tuning on it).

    python evals/feeds/run.py --half tuning|holdout|both|tuning-2 [--show misses]

Needs no network and no model: articles are embedded by the packaged MiniLM (ONNX).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections import Counter
from datetime import UTC
from pathlib import Path

HERE = Path(__file__).parent
CASES = HERE / "blind"


def run_case(folder: Path, embedder) -> tuple[int, int, list[str]]:
    """(expectations met, expectations checked, what failed) for one case."""
    from briefing.ingest.run import ingest
    from briefing.pipeline import Components
    from briefing.settings import Settings
    from briefing.store import open_catalog

    case = json.loads((folder / "case.json").read_text())
    with tempfile.TemporaryDirectory() as scratch:
        work, home = Path(scratch) / "feeds", Path(scratch) / "home"
        work.mkdir()
        settings = Settings(home=home)
        for step in sorted((folder / "steps").iterdir(), key=lambda p: int(p.name)):
            shutil.copytree(step, work, dirs_exist_ok=True)
            with Components(settings, embedder=embedder) as components:
                ingest([work], components)
        catalog = open_catalog(settings)
        listed = catalog.list_articles() if catalog else []
        counts = catalog.counts() if catalog else {}
    return _check(case["expect"], listed, counts)


def _check(expect: dict, listed, counts: dict) -> tuple[int, int, list[str]]:
    titles = Counter(a.title for a in listed)
    checks: list[tuple[str, bool]] = [("articles", len(listed) == expect["articles"])]
    for title in expect.get("titles", []):
        checks.append((f"title once: {title}", titles[title] == 1))
    for title in expect.get("absent_titles", []):
        checks.append((f"absent: {title}", titles[title] == 0))
    if "earlier_versions" in expect:
        checks.append(("earlier_versions", counts.get("earlier_versions") == expect["earlier_versions"]))
    if "alternates" in expect:
        checks.append(("alternates", counts.get("alternates") == expect["alternates"]))
    if "publisher" in expect:
        checks.append(("publisher", all(a.publisher == expect["publisher"] for a in listed)))
    by_title = {a.title: a for a in listed}
    for title, when in expect.get("published_utc", {}).items():
        article = by_title.get(title)
        got = article.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if article and article.published else None
        checks.append((f"published {title}", got == when))
    found = {"articles": len(listed), "earlier_versions": counts.get("earlier_versions"), "alternates": counts.get("alternates")}
    failed = [f"{name} (got {found.get(name, '?')})" for name, ok in checks if not ok]
    return sum(ok for _, ok in checks), len(checks), failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["tuning", "holdout", "both", "tuning-2"], default="tuning")
    parser.add_argument("--show", choices=["misses"], help="print what failed in each case (tuning half only)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parents[1]))
    from briefing.embedding import make_embedder
    from briefing.settings import Settings

    embedder = make_embedder(Settings())
    split = json.loads((HERE / "split.json").read_text())
    split["tuning-2"] = sorted(f"../blind-2/{p.name}" for p in (HERE / "blind-2").iterdir() if p.is_dir())
    halves = ["tuning", "holdout"] if args.half == "both" else [args.half]
    for half in halves:
        by_kind: dict[str, list[int]] = {}
        for name in split[half]:
            met, total, failed = run_case(CASES / name, embedder)
            kind = json.loads((CASES / name / "case.json").read_text())["kind"]
            tally = by_kind.setdefault(kind, [0, 0])
            tally[0] += met == total
            tally[1] += 1
            if failed and args.show and half != "holdout":
                print(f"  {name}: {'; '.join(failed)}")
        cases = sum(t[1] for t in by_kind.values())
        passed = sum(t[0] for t in by_kind.values())
        kinds = ", ".join(f"{kind} {t[0]}/{t[1]}" for kind, t in sorted(by_kind.items()))
        print(f"{half}: {passed}/{cases} cases right ({kinds})")


if __name__ == "__main__":
    main()
