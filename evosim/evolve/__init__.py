"""Headless evolution: runs, metrics, checkpoints, evaluation.

The library calls (loaded on first use, so that importing a submodule stays light)::

    from evosim.evolve import run, resume
    result = run("classic", 20_000, worlds=4, seed=3, out="runs/c4")
    result = resume("runs/c4", steps=40_000)   # extend it; byte-identical to a longer run
    result.finals, result.fruit_per_robot_per_1k

See :mod:`evosim.evolve.runs`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evosim.evolve.runs import RunResult, resume, run

__all__ = ["RunResult", "resume", "run"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'evosim.evolve' has no attribute {name!r}")
    value = getattr(import_module("evosim.evolve.runs"), name)
    globals()[name] = value
    return value
