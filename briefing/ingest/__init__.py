"""Ingest: files and URLs → decoded, dated, deduplicated articles → chunks → the store."""

from __future__ import annotations

from typing import Any

__all__ = ["ingest"]


def __getattr__(name: str) -> Any:
    """``ingest`` on first use, so a module of the package (a pull with nothing new) imports no more than it needs."""
    if name == "ingest":
        from briefing.ingest.run import ingest

        return ingest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
