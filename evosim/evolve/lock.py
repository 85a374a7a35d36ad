"""One writer per run folder: an exclusive ``flock`` on ``RUN/.lock``.

The kernel drops a ``flock`` when its process dies (even by ``kill -9``), so a
crashed run never blocks the next one; the file itself stays and holds the pid
of the last writer, for the error message.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from evosim.errors import RunDirError

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked there
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's lock for the block; RunDirError if a live process holds it."""
    path = run_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by workers
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                raise RunDirError(
                    f"{run_dir}: another evosim process (pid {holder}) is writing to this "
                    f"run folder; wait for it to end, or stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
