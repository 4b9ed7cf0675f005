"""What a user asks for on the command line, checked before any work: the query, ``-k``, the
window, ``--source`` and the output format (the paths to ingest are checked by
``ingest.loaders.check_inputs``).

Each check raises ``OptionError`` (a usage error, exit code 2) with one line naming the option or
argument at fault. Nothing here reads the store or a model; ``resolve_source`` is given the
store's publisher names.
"""

from __future__ import annotations

import re
from datetime import UTC, tzinfo
from pathlib import Path

from briefing.dates import retrieval_filter
from briefing.errors import OptionError
from briefing.models import MAX_K, MAX_LENGTH, Request, RetrievalFilter

CLOSEST_PUBLISHERS = 3
"""How many of the store's publisher names an unknown ``--source`` suggests."""


def make_request(kind: str, text: str, *, since: str | None = None, until: str | None = None,
                 source: str | None = None, k: int | None = None, length: int | None = None,
                 zone: tzinfo = UTC) -> Request:
    """A ``Request`` from command-line values. ``kind`` is "brief" (the argument is QUERY) or
    "answer" (QUESTION); dates of ``--since``/``--until`` are days in ``zone`` (BRIEFING_TIMEZONE).
    Raises OptionError for an empty query, ``-k`` outside 1..``MAX_K``, ``--length`` outside
    1..``MAX_LENGTH`` (or given to an answer), a date that is not one, or a window that ends before
    it starts."""
    argument = "the query" if kind == "brief" else "the question"
    if not text.strip():
        raise OptionError(f"{argument} is empty: say what the {'brief is about' if kind == 'brief' else 'question is'}")
    check_k(k)
    if length is not None and kind != "brief":
        raise OptionError("--length counts the stories of a brief; `ask` gives one short answer")
    if length is not None and not 1 <= length <= MAX_LENGTH:
        raise OptionError(f"--length must be between 1 and {MAX_LENGTH} stories, got {length}")
    if source is not None and not source.strip():
        raise OptionError("--source is empty: name a publisher (`briefing sources` lists them)")
    filters = retrieval_filter(since, until, source=source.strip() if source else None, zone=zone)
    return Request(kind=kind, query=" ".join(text.split()), filters=filters, k=k, length=length)  # one line, as shown


def check_k(k: int | None) -> None:
    if k is not None and not 1 <= k <= MAX_K:
        raise OptionError(f"-k must be between 1 and {MAX_K} evidence chunks, got {k}")


def resolve_source(filters: RetrievalFilter, publishers: list[str]) -> RetrievalFilter:
    """``filters`` with ``--source`` as the store names its publisher (``resolve_publisher``).
    OptionError listing the closest names when none or several match; ``filters`` unchanged when
    there is no ``--source`` or the store is empty."""
    name = filters.source
    if name is None or not publishers:
        return filters
    try:
        return filters.model_copy(update={"source": resolve_publisher(name, publishers)})
    except ValueError as exc:
        raise OptionError(f"--source {exc}") from None


def resolve_publisher(name: str, publishers: list[str]) -> str:
    """The publisher of the store ``name`` means: the same name in any case, else the one
    publisher whose name holds it as whole words ("pacific desk" for "Pacific Desk (sample)",
    "BBC" for "BBC News"). ValueError saying which names come closest when none or several do."""
    exact = [p for p in publishers if p.casefold() == name.casefold()]
    words = re.compile(rf"(?<!\w){re.escape(name.casefold())}(?!\w)")
    found = exact or [p for p in publishers if words.search(p.casefold())]
    if len(found) == 1:
        return found[0]
    shown = found or closest_names(name, publishers)
    what = "names several publishers" if found else "is not a publisher in the store"
    raise ValueError(f"'{name}' {what}; {'which' if found else 'closest'}: "
                     + ", ".join(f"'{p}'" for p in shown[:CLOSEST_PUBLISHERS]) + " (`briefing sources` lists them all)")


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

    def named(suffix: str) -> str | None:  # the format a suffix (".html", "htm", "json") names
        wanted = suffix.strip().lower().lstrip(".")
        return next((n for n, row in FORMATS.items() if wanted in (n, *(s.lstrip(".") for s in row.suffixes))), None)

    if fmt is not None:
        if (found := named(fmt)) is None:
            raise OptionError(f"-f/--format: {unknown_format(fmt)}")
        return found
    if output is None:
        return "md"
    suffix = output.suffix.lower()
    if suffix and (found := named(suffix)) is not None:
        return found
    raise OptionError(f"-o {output}: cannot tell the format from {suffix or 'a name without a suffix'!r}; "
                      f"add -f {' | '.join(FORMATS)}, or use a suffix "
                      + ", ".join(s for row in FORMATS.values() for s in row.suffixes))


def check_output(output: Path | None) -> None:
    """OptionError, before any work, for an ``-o`` that cannot be a file: a folder, or a path
    under a file."""
    if output is None:
        return
    if output.is_dir():
        raise OptionError(f"-o {output}: is a folder; give a file name, e.g. {output / 'brief.md'}")
    for parent in output.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OptionError(f"-o {output}: {parent} is a file, not a folder")
            return
