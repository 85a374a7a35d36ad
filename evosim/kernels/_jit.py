"""The one place that sets Numba compile options for every kernel.

No fastmath: ``nnan``/``ninf`` would let the compiler assume a ray miss stored as
``inf`` never exists, and reassociation would make results depend on the build.
"""

from __future__ import annotations

from typing import Any

from numba import njit
from numba.core import types

JIT_OPTIONS: dict[str, object] = {"cache": True, "nogil": True, "fastmath": False}


def _one_specialisation(dispatcher: Any) -> Any:
    """Compile a kernel called from other kernels once per argument *type*.

    A caller passing a constant (a stream id, ``INIT_STEP``, ``True``) types it as
    a Numba literal, and Numba would compile one more copy of the callee per
    constant value (``_place_object`` four times, ``spawn_robot`` twice...), which
    costs compile time on a cold cache and buys nothing at run time.
    """
    plain = dispatcher.get_call_template

    def get_call_template(args: tuple, kws: dict) -> Any:
        return plain(tuple(types.unliteral(a) for a in args),
                     {k: types.unliteral(v) for k, v in kws.items()})

    dispatcher.get_call_template = get_call_template
    return dispatcher


def kernel(fn: Any) -> Any:
    """Decorator for every kernel in this package."""
    return _one_specialisation(njit(**JIT_OPTIONS)(fn))


def threaded_kernel(fn: Any) -> Any:
    """Decorator for the few entry kernels that run ``prange`` loops on several
    threads (compiled apart from, and never instead of, the serial ones)."""
    return _one_specialisation(njit(**JIT_OPTIONS, parallel=True)(fn))


inlined = njit(**JIT_OPTIONS, inline="always")
"""For small helpers that take arrays and run per robot or per object: Numba
inlines them into the caller, where the arrays' reference-count pairs can be
pruned (a call would pay an atomic incref/decref per array argument)."""
