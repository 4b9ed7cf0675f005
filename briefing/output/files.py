"""Output on disk: briefs and daily briefs written atomically in the formats of ``render.FORMATS``,
and the static index of daily briefs."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from briefing.models import DailyBrief
from briefing.output.render import FORMATS, index_html, render_daily

DATED = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
"""A daily brief's saved record: ``<date>.json``."""


def write_atomic(path: Path, text: str) -> None:
    """Write to a temp file beside ``path``, then rename over it: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a brief is an ordinary file
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_daily(daily: DailyBrief, out_dir: Path) -> list[Path]:
    """Write ``<date>`` in every format atomically (replacing a re-run), then the index."""
    stem = out_dir / daily.date.isoformat()
    written = []
    for name, fmt in FORMATS.items():
        write_atomic(stem.with_suffix(fmt.suffix), render_daily(daily, name))
        written.append(stem.with_suffix(fmt.suffix))
    write_atomic(out_dir / "index.html", index_html(saved_dailies(out_dir)))
    return [*written, out_dir / "index.html"]


def saved_dailies(out_dir: Path) -> list[tuple[str, list[str]]]:
    """(date, topic titles) of every daily brief saved in ``out_dir``, newest first; unreadable
    files are left out."""
    entries = []
    for path in sorted((p for p in out_dir.glob("*.json") if DATED.match(p.name)), reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        entries.append((path.stem, [t["topic"]["title"] for t in data.get("topics", [])]))
    return entries
