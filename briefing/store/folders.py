"""Swapping in a folder of index files whole, so a reader never sees half of one.

Readers rebuild a stale index too, so two processes may swap in the same folder at once: each
works in its own temp folder (named by pid), and the loser of the final rename drops its copy.
An index is tagged with the catalog revision it reflects, so whichever copy wins, a reader checks
that tag and rebuilds if it is behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path


def replace_folder(folder: Path, fill: Callable[[Path], None]) -> None:
    """Let ``fill`` write a temp folder beside ``folder``, then swap it in for the old one."""
    _remove_leftovers(folder)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        fill(tmp)
        with contextlib.suppress(FileNotFoundError):
            folder.rename(old)
        with contextlib.suppress(OSError):  # another process swapped its copy in first
            tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(folder: Path) -> None:
    """Temp folders of processes that died mid-swap (kill -9), so they don't pile up."""
    for path in folder.parent.glob(f"{folder.name}.*-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
