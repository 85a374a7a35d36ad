"""Say so when Numba's on-disk cache of the engine is cold (the first world then
takes seconds to compile, which would otherwise look like a hang)."""

from __future__ import annotations

import sys
from typing import Any, TextIO


def _entries(observing: bool) -> list[Any]:
    """The kernels Python calls: building a world, stepping it and (``observing``)
    ``World.observations()``/``actions()``. Every other kernel compiles inside them."""
    from evosim.kernels.step import prepare, run_steps

    entries = [prepare, run_steps]
    if observing:
        from evosim.kernels.observe import look

        entries.append(look)
    return entries


def kernels_cold(observing: bool = False) -> bool:
    """True when an entry kernel has no usable cache entry for its source (each
    takes more than a second to compile; a cached one loads in milliseconds)."""
    try:
        # An index whose stamp differs from the source file's loads as empty.
        return any(not k._cache._cache_file._load_index() for k in _entries(observing))
    except Exception:  # a Numba without these internals: say nothing rather than guess
        return False


def say_if_compiling(quiet: bool = False, stream: TextIO | None = None,
                     observing: bool = False) -> bool:
    """Print one line if the kernels are about to compile; returns whether it did.

    ``observing``: the command will also ask for observations (rays drawn)."""
    if quiet or not kernels_cold(observing=observing):
        return False
    print("compiling the kernels (first run only)...", file=stream or sys.stderr, flush=True)
    return True
