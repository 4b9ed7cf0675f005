"""Run the blind page and feed-mapping cases (``evals/pages/blind``) through `briefing ingest`.

Each case's ``input/`` is ingested into a fresh home; the expectations of its ``case.json`` are
checked on what the store then holds. The split is frozen in ``split.json`` (odd-numbered cases of
each kind tune, even-numbered ones are the holdout): tune on ``tuning``, report ``holdout`` too,
never read its misses. ``tuning-2`` is ``blind-2/``, a second blind set of the metadata and
feed-mapping kinds written after the first round (read once before tuning on it).

    python evals/pages/run.py --half tuning|holdout|both|tuning-2 [--show misses]

Needs no network and no model download: articles are embedded by the packaged MiniLM (ONNX).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from datetime import UTC
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))  # the project, for briefing and evals.halves

from evals.halves import arguments, report  # noqa: E402


def stored(folder: Path, embedder) -> list[dict]:
    """Title, publisher, text and publish time of every current article stored from ``input/``."""
    from briefing.ingest.run import ingest
    from briefing.pipeline import Components
    from briefing.settings import Settings
    from briefing.store import open_catalog

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "input"
        shutil.copytree(folder / "input", work)
        settings = Settings(home=Path(scratch) / "home")
        with Components(settings, embedder=embedder) as components:
            ingest([work], components)
        catalog = open_catalog(settings)
        if catalog is None:
            return []
        rows = catalog.db.execute(
            "SELECT title, publisher, text, published FROM articles WHERE superseded_by IS NULL").fetchall()
        catalog.close()
    return [{"title": r[0], "publisher": r[1], "text": r[2], "published": r[3]} for r in rows]


def check(expect: dict, articles: list[dict]) -> list[str]:
    """What failed, one line each (empty when the case is right)."""
    from datetime import datetime

    by_title = {a["title"]: a for a in articles}
    failed = [] if len(articles) == expect["articles"] else [f"articles {len(articles)}"]
    titles = [expect["title"]] if "title" in expect else expect.get("titles", [])
    failed += [f"title missing: {t}" for t in titles if t not in by_title]
    if "publisher" in expect and any(a["publisher"] != expect["publisher"] for a in articles):
        failed.append(f"publisher {sorted({str(a['publisher']) for a in articles})}")
    if "publishers" in expect and {a["publisher"] for a in articles} != set(expect["publishers"]):
        failed.append(f"publishers {sorted({str(a['publisher']) for a in articles})}")
    everything = "\n".join(f"{a['title']}\n{a['text']}" for a in articles)
    failed += [f"text lacks: {t}" for t in expect.get("text_contains", []) if t not in everything]
    failed += [f"text has: {t}" for t in expect.get("text_never", []) if t in everything]

    def utc(title: str) -> datetime | None:
        value = by_title.get(title, {}).get("published")
        return datetime.fromisoformat(value).astimezone(UTC) if value else None

    for title, when in expect.get("published_utc", {}).items():
        got = utc(title)
        if got is None or got.strftime("%Y-%m-%dT%H:%M:%SZ") != when:
            failed.append(f"published {title}: {got}")
    for title, day in expect.get("published_day_utc", {}).items():
        got = utc(title)
        if got is None or got.date().isoformat() != day:
            failed.append(f"day {title}: {got}")
    failed += [f"dated: {t}" for t in expect.get("undated", []) if utc(t) is not None]
    return failed


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    from briefing.embedding import make_embedder
    from briefing.settings import Settings

    embedder = make_embedder(Settings())
    report(HERE, args.half, bool(args.show),
           lambda folder: check(json.loads((folder / "case.json").read_text())["expect"], stored(folder, embedder)))


if __name__ == "__main__":
    main()
