"""Ingest: files → decoded, dated, deduplicated articles → chunks → the store."""

from briefing.ingest.run import ingest

__all__ = ["ingest"]
