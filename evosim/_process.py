"""Child processes that end with their parent (evolve's workers, the compile helper)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time


def die_with_parent(parent: int) -> None:
    """End this process as soon as the process ``parent`` that started it is gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)
    exit_when_orphaned(parent)


def exit_when_orphaned(parent: int, poll: float = 0.5) -> None:
    """A watchdog thread that ends this process once ``parent`` is no longer its parent
    (it died: the process was re-parented). It acts between kernel calls, which hold the
    GIL, so within ``poll`` seconds plus one chunk of ticks."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(1)

    threading.Thread(target=watch, name="evosim-parent-watchdog", daemon=True).start()
