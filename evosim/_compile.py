"""Say so when Numba's on-disk cache of the engine is cold (the first world then
takes tens of seconds to compile, which would otherwise look like a hang)."""

from __future__ import annotations

import sys
from typing import TextIO


def kernels_cold() -> bool:
    """True when the world-step kernel has no usable cache entry for this source."""
    try:
        from evosim.kernels.step import run_steps

        # An index whose stamp differs from the source file's loads as empty.
        return not run_steps._cache._cache_file._load_index()
    except Exception:  # a Numba without these internals: say nothing rather than guess
        return False


def say_if_compiling(quiet: bool = False, stream: TextIO | None = None) -> bool:
    """Print one line if the kernels are about to compile; returns whether it did."""
    if quiet or not kernels_cold():
        return False
    print("compiling the kernels (first run only)...", file=stream or sys.stderr, flush=True)
    return True
