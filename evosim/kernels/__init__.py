"""Numba kernels: pure functions over arrays. Imports no other evosim package.

Numba's on-disk cache checks only the source file a kernel is defined in, but
kernels inline helpers from the other files of this package: after an edit to
``vision.py`` alone, a cached ``step.py`` kernel would still run the old vision.
So the cache is keyed here by the whole package: when the sources differ from the
ones the cache was built from, the cached kernels are dropped (they recompile on
first use). Only the default cache location (``__pycache__`` beside the sources)
is handled; a read-only install is left to Numba's own checks.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SOURCES_STAMP = "evosim-kernels.sha256"
"""File in the kernels' ``__pycache__`` naming the sources its Numba cache was built from."""


def sources_digest(folder: Path) -> str:
    """SHA-256 of every ``*.py`` file of the kernels package (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def drop_stale_cache(folder: Path) -> bool:
    """Delete the cached kernels in ``folder/__pycache__`` if they were built from other
    sources than the ones in ``folder`` now; True if anything was dropped."""
    cache = folder / "__pycache__"
    stamp = cache / SOURCES_STAMP
    want = sources_digest(folder)
    try:
        if stamp.read_text() == want:
            return False
    except OSError:
        pass
    dropped = False
    try:
        cache.mkdir(exist_ok=True)
        for path in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
            path.unlink(missing_ok=True)
            dropped = True
        stamp.write_text(want)
    except OSError:  # a read-only install: nothing to drop, nothing we may write
        return False
    return dropped


drop_stale_cache(Path(__file__).parent)
