"""An exclusive lock on a folder's work, so that two processes take turns instead of interleaving:
two ingests into one store, or two first uses exporting the embedding graphs into one models folder.

The lock is an advisory ``flock`` on a file in the folder. The kernel drops it when its
process ends, however it ends (``kill -9`` included), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_lock(path: Path, on_wait: Callable[[str], None], doing: str = "another ingest is writing to") -> Iterator[None]:
    """Hold the lock at ``path``; if another process holds it, call ``on_wait`` once (saying it is
    ``doing`` the folder) and block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            pid = f" (pid {holder})" if holder else ""
            on_wait(f"{doing} {path.parent}{pid}; waiting for it to finish")
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
