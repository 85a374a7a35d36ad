"""The world: state arrays and the object that owns and steps them."""

from evosim.world.state import WorldState
from evosim.world.world import World

__all__ = ["World", "WorldState"]
