"""The world: state arrays and the object that owns and steps them."""

from evosim.kernels.layout import DEATH_AGE, DEATH_MINE, DEATH_NONE
from evosim.world.state import WorldState
from evosim.world.world import ACTION_HIGH, ACTION_LOW, TickEvents, World

__all__ = ["ACTION_HIGH", "ACTION_LOW", "DEATH_AGE", "DEATH_MINE", "DEATH_NONE", "TickEvents",
           "World", "WorldState"]
