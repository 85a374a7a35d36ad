"""Atomic, durable file writes: write to a temporary name in the same folder, fsync
it, rename it over the final name, then fsync the folder.

A crash or a power loss at any moment leaves either the old file or the new one
under the final name, never a half-written one (on file systems that honour
``fsync``; see docs/concepts/reliability.md). A full disk raises
:class:`~evosim.errors.DiskFullError` naming the file, the bytes it needed and the
bytes free; its temporary file is removed.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from evosim.errors import DiskFullError

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
"""The ``errno`` values of a full file system (ENOSPC) and of a full quota (EDQUOT)."""


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _default_mode()


def free_bytes(path: str | Path) -> int | None:
    """Bytes an unprivileged writer may still use on the file system of ``path`` (its
    nearest existing folder); None where that cannot be told."""
    folder = Path(path)
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return None
    return st.f_bavail * st.f_frsize


def disk_full(exc: BaseException, path: str | Path, needed: int | None = None
              ) -> DiskFullError | None:
    """``exc`` as a :class:`DiskFullError` about ``path`` if it is a full disk or quota
    (``needed``: the bytes the write needed, if known); None for any other error."""
    if isinstance(exc, DiskFullError):
        return exc
    if not isinstance(exc, OSError) or exc.errno not in DISK_FULL_ERRNOS:
        return None
    return DiskFullError(str(path), needed, free_bytes(path), quota=exc.errno == errno.EDQUOT)


def fsync_dir(folder: str | Path) -> None:
    """Make a rename, creation or removal in ``folder`` durable (POSIX; a no-op where
    folders cannot be opened, as on Windows)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except (PermissionError, IsADirectoryError):
        return
    try:
        with contextlib.suppress(OSError):  # EINVAL: a file system without folder fsync
            os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(folder: str | Path) -> None:
    """``mkdir -p folder``, each new folder made durable in its parent."""
    folder = Path(folder)
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        if folder == folder.parent:
            break
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        fsync_dir(new.parent)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", needed: int | None = None
                ) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path``, durably.

    ``needed`` (bytes) goes into the :class:`DiskFullError` of a full disk.
    """
    path = Path(path)
    tmp: str | None = None
    try:
        make_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600; outputs are ordinary files
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        full = disk_full(exc, path, needed)
        if full is not None:
            raise full from None
        raise


def atomic_write_bytes(path: str | Path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` atomically and durably."""
    with atomic_open(path, "wb", needed=len(data)) as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically and durably."""
    atomic_write_bytes(path, text.encode())


def atomic_write_with(path: str | Path, writer: Callable[[IO], object]) -> None:
    """Call ``writer(handle)`` on an in-memory binary file, then write its bytes to
    ``path`` atomically (what ``writer`` returns is ignored). Buffering first means a
    full disk is reported with the size the file needed."""
    buffer = io.BytesIO()
    writer(buffer)
    with buffer.getbuffer() as view:
        atomic_write_bytes(path, view)
