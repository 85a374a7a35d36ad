"""The one place that sets Numba compile options for every kernel.

No fastmath: ``nnan``/``ninf`` would let the compiler assume a ray miss stored as
``inf`` never exists, and reassociation would make results depend on the build.
"""

from __future__ import annotations

from numba import njit

JIT_OPTIONS: dict[str, object] = {"cache": True, "nogil": True, "fastmath": False}

kernel = njit(**JIT_OPTIONS)
"""Decorator for every kernel in this package."""

inlined = njit(**JIT_OPTIONS, inline="always")
"""For small helpers that take arrays and run per robot or per object: Numba
inlines them into the caller, where the arrays' reference-count pairs can be
pruned (a call would pay an atomic incref/decref per array argument)."""
