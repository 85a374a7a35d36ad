"""evosim: an evolution simulator with neural controllers.

Public API (no pygame, no torch imported here)::

    from evosim import load_scenario, World
    world = World(load_scenario("classic"), seed=0)
    world.step(1000)
"""

from importlib.metadata import PackageNotFoundError, version

from evosim.errors import CheckpointError, EvosimError, ScenarioError
from evosim.scenario import Scenario, list_scenarios, load_scenario
from evosim.world import World, WorldState

try:
    __version__ = version("evosim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

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
