"""Benchmark: how `briefing ingest` reads real news pages, on two public surveys kept in
``../shared/data/pages`` (see its README; the pages are read, never copied).

- htmldate's MediaCloud 2020 set (200 pages, 195 with an annotated publication day): how many are
  stored on their day in the page's own time zone (a stored time counts when it falls on that day
  under some real UTC offset, -12:00 to +14:00, as the page's zone is not known), how many in UTC,
  on a wrong day, or undated or skipped.
- newspaper's 157 article pages with the body text newspaper expects: the word-level similarity
  (difflib ratio over lower-cased words) of the stored text to the expected body, boilerplate lines
  left in (lines the expected text lacks that match ``BOILERPLATE``), and publisher sanity (none, a
  year, a copyright line, the headline itself, a URL).

Each page is read as `briefing ingest` reads a file (``loaders.load_file``, then ``text.clean``), with
no store or model, so the figures are about reading alone.

    .venv/bin/python -m bench.pages [--pages ../shared/data/pages] [--show wrong|boilerplate|publisher|low]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from datetime import UTC, date, datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "data" / "pages"
OFFSETS = [timedelta(minutes=m) for m in range(-12 * 60, 14 * 60 + 1, 15)]
BOILERPLATE = re.compile(
    r"©|\bcopyright\b|all rights reserved|may not be (re)?published|rewritten or redistributed|privacy policy|"
    r"terms of (use|service)|\bphoto(graph)?\s*/|photo credit|getty images|\bsubscribe\b|\bsign up\b|newsletter|"
    r"comments? (are|is) (welcome|closed)|community (rules|guidelines)|follow us|share this|read more|"
    r"click here|advertisement|\bcookies\b", re.IGNORECASE)
BOILERPLATE_WORDS = 40
"""What a boilerplate line looks like, for counting only (the measurement, not the package's rules):
a line of at most ``BOILERPLATE_WORDS`` words with one of these marks, which the expected body lacks."""


def read(path: Path):
    """(RawArticle, stored text) as ingest would store them, or (None, reason)."""
    from briefing.errors import InputError
    from briefing.ingest.loaders import load_file
    from briefing.text import clean

    try:
        loaded = load_file(path)
    except InputError as exc:
        return None, exc.reason
    if not loaded.articles:
        return None, "; ".join(s.reason for s in loaded.skipped) or "nothing read"
    raw = loaded.articles[0]
    return raw, clean(raw.text)


def on_day(when: datetime, day: date) -> bool:
    return any((when.astimezone(UTC) + offset).date() == day for offset in OFFSETS)


def mediacloud(folder: Path, show: str | None) -> dict:
    expected = json.loads((folder / "expected.json").read_text())
    counts = {"annotated": 0, "on_day": 0, "on_day_utc": 0, "wrong_day": 0, "undated": 0, "skipped": 0}
    for url, entry in sorted(expected.items()):
        if not isinstance(entry.get("date"), str):  # NaN: not annotated
            continue
        counts["annotated"] += 1
        day = date.fromisoformat(entry["date"])
        raw, text = read(folder / "pages" / entry["file"])
        if raw is None:
            counts["skipped"] += 1
            if show == "wrong":
                print(f"  skipped {entry['file']} ({url}): {text}")
            continue
        if raw.published is None:
            counts["undated"] += 1
            if show == "wrong":
                print(f"  undated {entry['file']} ({url}): {'; '.join(raw.warnings)[:150]}")
            continue
        counts["on_day_utc"] += raw.published.astimezone(UTC).date() == day
        if on_day(raw.published, day):
            counts["on_day"] += 1
        else:
            counts["wrong_day"] += 1
            if show == "wrong":
                print(f"  wrong {entry['file']} ({url}): stored {raw.published.isoformat()}, annotated {day}")
    return counts


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def newspaper(folder: Path, show: str | None) -> dict:
    similarities: list[float] = []
    boilerplate = publisher_faults = skipped = 0
    for html in sorted((folder / "html").glob("*.html")):
        body = folder / "text" / f"{html.stem.replace('_article', '')}.txt"  # newspaper's own pairing
        if not body.exists():
            continue  # a front page or a redirect stub: no body to compare with
        expected = body.read_text(encoding="utf-8", errors="replace")
        raw, text = read(html)
        if raw is None:
            skipped += 1
            similarities.append(0.0 if words(expected) else 1.0)
            if show == "low":
                print(f"  skipped {html.name}: {text}")
            continue
        similarity = SequenceMatcher(None, words(text), words(expected), autojunk=False).ratio() if words(expected) else 1.0
        similarities.append(similarity)
        if show == "low" and similarity < 0.8:
            print(f"  {similarity:.2f} {html.name}: stored {len(words(text))} words, expected {len(words(expected))}")
        expected_key = " ".join(words(expected))
        left = [line for line in text.splitlines() if line.strip() and len(words(line)) <= BOILERPLATE_WORDS
                and BOILERPLATE.search(line) and " ".join(words(line)) not in expected_key]
        boilerplate += len(left)
        if show == "boilerplate":
            for line in left:
                print(f"  {html.name}: {line[:120]}")
        problem = publisher_problem(raw.publisher, raw.title)
        publisher_faults += problem is not None
        if show == "publisher" and problem:
            print(f"  {html.name}: publisher {raw.publisher!r} ({problem})")
    return {"pages": len(similarities), "median_similarity": round(statistics.median(similarities), 3),
            "mean_similarity": round(statistics.mean(similarities), 3),
            "at_least_0.9": sum(s >= 0.9 for s in similarities), "skipped": skipped,
            "boilerplate_lines": boilerplate, "publisher_faults": publisher_faults}


def publisher_problem(publisher: str | None, title: str | None) -> str | None:
    """Why a stored publisher is not an outlet's name, or None. A missing one is no fault here
    (many pages do not say), a wrong one is."""
    if publisher is None:
        return None
    name = publisher.strip()
    if re.fullmatch(r"\d{4}", name):
        return "a year"
    if re.search(r"©|copyright|all rights reserved", name, re.IGNORECASE):
        return "a copyright line"
    if title and name.casefold() == title.strip().casefold():
        return "the headline"
    if re.match(r"https?://", name):
        return "a URL"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES, help="the folder holding both surveys")
    parser.add_argument("--show", choices=["wrong", "boilerplate", "publisher", "low"])
    args = parser.parse_args()
    if not args.pages.exists():
        raise SystemExit(f"{args.pages}: no such folder (give --pages)")
    result = {"mediacloud_2020": mediacloud(args.pages / "htmldate-mediacloud-2020", args.show),
              "newspaper": newspaper(args.pages / "newspaper", args.show)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
