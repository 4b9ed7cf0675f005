"""An exclusive lock on a store, so that two ingests into it take turns instead of interleaving.

The lock is an advisory ``flock`` on a file beside the catalog. The kernel drops it when its
process ends, however it ends (``kill -9`` included), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_lock(path: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock at ``path``; if another process holds it, call ``on_wait`` once and block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            on_wait(f"another ingest{f' (pid {holder})' if holder else ''} is writing to {path.parent}; waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
