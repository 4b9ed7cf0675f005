"""The store: Chroma vectors, the SQLite catalog and the keyword and vector side files, kept in step."""

from briefing.store.store import Store, open_catalog

__all__ = ["Store", "open_catalog"]
