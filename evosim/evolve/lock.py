"""One writer per run folder: an exclusive ``flock`` on ``RUN/.lock``; and one writer
per world of a Ray run: ``RUN/world-NNN/.lock``, held by the task that steps it.

The kernel drops a ``flock`` when its process dies (even by ``kill -9``), so a
crashed run never blocks the next one; the file itself stays and holds the pid
of the last writer, for the error message.

The world lock fences a Ray task's retry from the attempt it replaces: when a node
is lost, Ray retries its tasks elsewhere, but the first attempt may still be running
for a while (its raylet killed before it, or its node cut off from the head yet
still writing to the shared folder). The retry waits for that attempt to end, so
that a world never has two writers.
"""

from __future__ import annotations

import contextlib
import os
import time
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


WORLD_LOCK_WAIT = 120.0
"""Seconds a Ray task waits for an earlier attempt at its world to end."""


@contextlib.contextmanager
def world_lock(world_folder: Path, wait: float = WORLD_LOCK_WAIT) -> Iterator[None]:
    """Hold ``world_folder``'s lock for the block, waiting up to ``wait`` seconds for
    another holder (an earlier attempt of the same task) to end; RunDirError after that."""
    from evosim._atomic import make_dirs

    make_dirs(world_folder)
    path = world_folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                        raise RunDirError(
                            f"{world_folder}: still written by another process ({holder}) "
                            f"after {wait:.0f}s (an attempt on a lost Ray node?); stop it, "
                            f"then continue the run with --resume") from None
                    time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {os.uname().nodename}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
