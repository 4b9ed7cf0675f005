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

import json
import shutil
import sys
import tempfile
from collections import Counter
from datetime import UTC
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))  # the project, for briefing and evals.halves

from evals.halves import arguments, report  # noqa: E402


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
    args = arguments(__doc__.splitlines()[0])
    from briefing.embedding import make_embedder
    from briefing.settings import Settings

    embedder = make_embedder(Settings())
    report(HERE, args.half, bool(args.show), lambda folder: run_case(folder, embedder)[2])


if __name__ == "__main__":
    main()
