"""The one place that sets Numba compile options for every kernel.

- No fastmath: ``nnan``/``ninf`` would let the compiler assume a ray miss stored as
  ``inf`` never exists, and reassociation would make results depend on the build
  (and on the SIMD width of the machine).
- No NRT (Numba's reference-counting runtime, ``_nrt=False``): kernels never
  allocate, so the atomic reference-count pair Numba emits for every array a kernel
  receives or a tuple hands out is pure cost (it was a fifth of a tick). Arrays are
  owned by the Python objects that pass them in, which outlive every call. A kernel
  that allocated would fail to compile, not misbehave.
- No Intel SVML: ``evosim/__init__.py`` sets ``NUMBA_DISABLE_INTEL_SVML=1`` before
  Numba is imported, so a vectorised ``exp`` is never SVML's (last-bit differences
  from libm); a Numba imported earlier with SVML on gets a warning here.
- Python wrappers only where Python calls: a kernel reached only from other kernels
  (``@kernel``) gets no CPython or C wrapper, whose unboxing code for a tuple of 25
  arrays cost more LLVM time than the kernel itself (a cold start went from 16 s to
  under 10 s). Kernels that Python calls are ``@entry``.
"""

from __future__ import annotations

import warnings
from typing import Any

from numba import config, njit
from numba.core import types

if getattr(config, "USING_SVML", False):  # Numba was imported before evosim, with SVML
    warnings.warn("Numba uses Intel SVML (imported before evosim without "
                  "NUMBA_DISABLE_INTEL_SVML=1): results may differ from other installs "
                  "in the last bit", RuntimeWarning, stacklevel=2)

JIT_OPTIONS: dict[str, object] = {"cache": True, "nogil": True, "fastmath": False, "_nrt": False}
_INTERNAL: dict[str, object] = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}


def _one_specialisation(dispatcher: Any) -> Any:
    """Compile a kernel called from other kernels once per argument *type*.

    A caller passing a constant (a stream id, ``INIT_STEP``, ``True``) types it as
    a Numba literal, and Numba would compile one more copy of the callee per
    constant value (``_place_object`` four times, ``spawn_robot`` twice...), which
    costs compile time on a cold cache and buys nothing at run time.
    """
    plain = dispatcher.get_call_template
    unliteral = types.unliteral  # type: ignore[attr-defined]  # missing from Numba's .pyi

    def get_call_template(args: tuple, kws: dict) -> Any:
        return plain(tuple(unliteral(a) for a in args),
                     {k: unliteral(v) for k, v in kws.items()})

    dispatcher.get_call_template = get_call_template
    return dispatcher


def kernel(fn: Any) -> Any:
    """Decorator for a kernel called only from other kernels (no Python wrapper:
    calling it from Python raises)."""
    return _one_specialisation(njit(**JIT_OPTIONS, **_INTERNAL)(fn))


def entry(fn: Any) -> Any:
    """Decorator for a kernel that Python calls (it also may be called from kernels)."""
    return _one_specialisation(njit(**JIT_OPTIONS)(fn))


def threaded_kernel(fn: Any) -> Any:
    """Decorator for the few entry kernels that run ``prange`` loops on several
    threads (compiled apart from, and never instead of, the serial ones)."""
    return _one_specialisation(njit(**JIT_OPTIONS, **_INTERNAL, parallel=True)(fn))


inlined = njit(**JIT_OPTIONS, inline="always")
"""For the functions that hold ``prange`` loops (vision, brains) and the tick that
calls them: Numba inlines them into the caller, so that in the threaded entry
kernels (``parallel=True``) their loops run on several threads. Everything else
is a plain ``@kernel`` call."""
