"""evosim: an evolution simulator with neural controllers.

Public API (no pygame, no torch imported here)::

    from evosim import load_scenario, World
    world = World(load_scenario("classic"), seed=0)
    world.step(1000)

Names are loaded on first use (PEP 562), so ``import evosim.errors`` or
``evosim --help`` does not import the world, its kernels or Numba.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

# pygame prints a banner on import; our commands print one-line messages only. Set
# here, once: every evosim module that imports pygame is imported after this package.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# Numba with Intel's SVML (conda's icc_rt) would vectorise the brains' exp with
# SVML's, which may differ from libm's in the last bit: results would depend on the
# install. Numba reads this when it is imported (see kernels/_jit.py's check).
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

from evosim._version import __version__
from evosim.errors import CheckpointError, EvosimError, ScenarioError

if TYPE_CHECKING:
    from evosim.scenario import Scenario, list_scenarios, load_scenario
    from evosim.world import World, WorldState

_LAZY = {
    "Scenario": "evosim.scenario",
    "list_scenarios": "evosim.scenario",
    "load_scenario": "evosim.scenario",
    "World": "evosim.world",
    "WorldState": "evosim.world",
}

__all__ = [
    "CheckpointError",
    "EvosimError",
    "Scenario",
    "ScenarioError",
    "World",
    "WorldState",
    "__version__",
    "list_scenarios",
    "load_scenario",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'evosim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
