"""Runs one ingest in a child process for the crash and concurrency tests, optionally killing
itself with SIGKILL (what `kill -9` sends) at a chosen point of the write path.

Usage: python -m tests.ingest_child HOME POINT N PATH...
POINT is `none`, or one of KILL_POINTS: the process kills itself right after the N-th call of
that step. Commits and embedding batches are made small so a small corpus passes each point
several times. The embedder is the hashing fake from conftest (the tests are about our storage
code, not about embeddings).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

KILL_POINTS = {
    "vectors-written": ("briefing.store.store", "Store", "_upsert"),  # vectors in Chroma, catalog not committed
    "inside-catalog-transaction": ("briefing.store.catalog", "Catalog", "_insert"),  # a file inserted, not committed
    "catalog-committed": ("briefing.store.catalog", "Catalog", "write_files"),  # before stale vectors are deleted
    "keyword-saved": ("briefing.store.keyword", "KeywordIndex", "save"),
    "side-file-saved": ("briefing.store.vector_index", "VectorIndex", "save"),
}


def kill_after(module_name: str, owner: str, method: str, n: int) -> None:
    import importlib

    cls = getattr(importlib.import_module(module_name), owner)
    original = getattr(cls, method)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(cls, method, wrapped)


def main() -> None:
    home, point, n, *paths = sys.argv[1:]
    os.environ["BRIEFING_HOME"] = home
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    import briefing.ingest.run as ingest_module
    from briefing.pipeline import Components
    from briefing.settings import Settings
    from tests.conftest import HashingEmbedder

    ingest_module.COMMIT_FILES = 3
    ingest_module.EMBED_BATCH = 8
    if point != "none":
        kill_after(*KILL_POINTS[point], int(n))
    report = ingest_module.ingest([Path(p) for p in paths], Components(Settings(), embedder=HashingEmbedder()))
    print(report.model_dump_json())


if __name__ == "__main__":
    main()
