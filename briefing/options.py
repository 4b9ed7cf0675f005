"""What a user asks for on the command line, checked before any work: the query, ``-k``, the
window, ``--source`` and the output format (the paths to ingest are checked by
``ingest.loaders.check_inputs``).

Each check raises ``OptionError`` (a usage error, exit code 2) with one line naming the option or
argument at fault. Nothing here reads the store or a model; ``check_source`` is given the store's
publisher names.
"""

from __future__ import annotations

from pathlib import Path

from briefing.dates import retrieval_filter
from briefing.errors import OptionError
from briefing.models import MAX_K, Request, RetrievalFilter

CLOSEST_PUBLISHERS = 3
"""How many of the store's publisher names an unknown ``--source`` suggests."""


def make_request(kind: str, text: str, *, since: str | None = None, until: str | None = None,
                 source: str | None = None, k: int | None = None) -> Request:
    """A ``Request`` from command-line values. ``kind`` is "brief" (the argument is QUERY) or
    "answer" (QUESTION). Raises OptionError for an empty query, ``-k`` outside 1..``MAX_K``, a date
    that is not one, or a window that ends before it starts."""
    argument = "the query" if kind == "brief" else "the question"
    if not text.strip():
        raise OptionError(f"{argument} is empty: say what the {'brief is about' if kind == 'brief' else 'question is'}")
    check_k(k)
    filters = retrieval_filter(since, until, source=source.strip() if source else None)
    return Request(kind=kind, query=text.strip(), filters=filters, k=k)


def check_k(k: int | None) -> None:
    if k is not None and not 1 <= k <= MAX_K:
        raise OptionError(f"-k must be between 1 and {MAX_K} evidence chunks, got {k}")


def check_source(filters: RetrievalFilter, publishers: list[str]) -> None:
    """OptionError when ``--source`` names no publisher of the store (case-insensitively), listing
    the closest names; nothing when there is no ``--source`` or the store is empty."""
    name = filters.source
    if not name or not publishers or name.casefold() in {p.casefold() for p in publishers}:
        return
    closest = closest_names(name, publishers)
    raise OptionError(f"--source '{name}' is not a publisher in the store; closest: "
                      + ", ".join(f"'{p}'" for p in closest) + " (`briefing sources` lists them all)")


def closest_names(name: str, names: list[str], limit: int = CLOSEST_PUBLISHERS) -> list[str]:
    """The ``limit`` names most like ``name``: containing it as a word first, then by similarity
    of letters (rapidfuzz's WRatio, which scores a part of a longer name well)."""
    from rapidfuzz import fuzz, process, utils

    wanted = name.casefold()
    found = process.extract(name, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=len(names))
    ranked = sorted(found, key=lambda hit: (wanted not in hit[0].casefold(), -hit[1], hit[0]))
    return [hit[0] for hit in ranked[:limit]]


def output_format(fmt: str | None, output: Path | None) -> str:
    """The format to write: ``-f`` when given, else the suffix of ``-o FILE``, else Markdown.
    OptionError for an unknown format or a suffix no format has."""
    from briefing.output.render import FORMATS, unknown_format

    if fmt is not None:
        if problem := unknown_format(fmt):
            raise OptionError(f"-f/--format: {problem}")
        return fmt
    if output is None:
        return "md"
    suffix = output.suffix.lower()
    for name, row in FORMATS.items():
        if suffix in row.suffixes:
            return name
    raise OptionError(f"-o {output}: cannot tell the format from {suffix or 'a name without a suffix'!r}; "
                      f"add -f {' | '.join(FORMATS)}, or use a suffix "
                      + ", ".join(s for row in FORMATS.values() for s in row.suffixes))
