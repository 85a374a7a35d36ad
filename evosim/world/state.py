"""WorldState: every array that influences the future of one world."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evosim.kernels.layout import (
    CLOCK_SIZE,
    COUNTER_NAMES,
    FINAL_GENOME,
    FRUIT_COUNT,
    MINE_COUNT,
    NURSERY_SIZE,
    STEP,
)
from evosim.scenario import Scenario

POSITION_DTYPE = np.float64
"""Positions and headings: float64, so long runs do not drift."""
GENOME_DTYPE = np.float32
"""Genes: float32, the dtype of torch brains, so round trips are exact."""
LIFE_DTYPE = np.float64
"""Life: float64, since moving costs fractions of a step of life (``robots.metabolic_cost``)."""


class WorldState(NamedTuple):
    """Structure of arrays of one world (N robots, M mine and F fruit slots).

    Slots are fixed: a death refills a slot, arrays never shrink. Mines and
    fruit beyond ``mine_count``/``fruit_count`` are inactive (phases may wake them).
    Units: world units, radians, steps.
    """

    robot_xy: np.ndarray  # float64 [N, 2] centre
    robot_heading: np.ndarray  # float64 [N] radians in [-pi, pi), 0 = +x
    robot_life: np.ndarray  # float64 [N] life left (steps at rest; moving costs more)
    robot_age: np.ndarray  # int64 [N] steps since birth
    robot_generation: np.ndarray  # int64 [N] 0 for random robots, parent's + 1
    robot_lineage: np.ndarray  # int64 [N] id of the random robot that founded the line
    robot_id: np.ndarray  # int64 [N] unique per robot ever born in this world
    robot_parent: np.ndarray  # int64 [N] id of the parent, -1 for random robots
    robot_fruit: np.ndarray  # int64 [N] fruit eaten by this robot
    genome: np.ndarray  # float32 [N, G] brain weights then the max-speed gene
    mine_xy: np.ndarray  # float64 [M, 2]
    mine_heading: np.ndarray  # float64 [M] drift direction (moving mines)
    fruit_xy: np.ndarray  # float64 [F, 2]
    # The nursery: offspring waiting for a freed slot (a ring). Each keeps its parent's
    # genome unmutated; it is mutated at birth with the draws of its conception
    # (kernels/life.py give_birth), so results are as if mutated at conception.
    nursery_genome: np.ndarray  # float32 [K, G] the parent's genome (final: see nursery_step)
    nursery_parent: np.ndarray  # int64 [K] the parent's robot id
    nursery_parent_slot: np.ndarray  # int64 [K] the parent's slot when it ate
    nursery_lineage: np.ndarray  # int64 [K]
    nursery_generation: np.ndarray  # int64 [K]
    nursery_step: np.ndarray  # int64 [K] conception step; FINAL_GENOME: born as it is
    #                           (migrants, and entries never used)
    clock: np.ndarray  # int64 [7] step, mine count, fruit count, next id, next lineage,
    #                    nursery head, nursery size (see kernels/layout.py)
    rng_key: np.ndarray  # uint64 [1] the world's RNG key (draws hash key, step, slot)
    counters: np.ndarray  # int64 [6] events since step 0, see COUNTER_NAMES

    @property
    def step(self) -> int:
        """Ticks done since step 0."""
        return int(self.clock[STEP])

    @property
    def mine_count(self) -> int:
        """Active mines: ``mine_xy[:mine_count]``."""
        return int(self.clock[MINE_COUNT])

    @property
    def fruit_count(self) -> int:
        """Active fruit: ``fruit_xy[:fruit_count]``."""
        return int(self.clock[FRUIT_COUNT])

    @property
    def nursery_size(self) -> int:
        """Offspring waiting for a slot freed by a death."""
        return int(self.clock[NURSERY_SIZE])

    @property
    def speed_gene(self) -> np.ndarray:
        """float32 [N]: each robot's max-speed gene (units per step)."""
        return self.genome[:, -1]

    @classmethod
    def empty(cls, scenario: Scenario) -> WorldState:
        """Zeroed arrays shaped for ``scenario``."""
        N = scenario.robots.count
        M = scenario.mine_capacity
        F = scenario.fruit_capacity
        G = scenario.genome_length
        K = scenario.evolution.nursery

        def ints(n: int) -> np.ndarray:
            return np.zeros(n, np.int64)

        return cls(
            robot_xy=np.zeros((N, 2), POSITION_DTYPE),
            robot_heading=np.zeros(N, POSITION_DTYPE),
            robot_life=np.zeros(N, LIFE_DTYPE),
            robot_age=ints(N),
            robot_generation=ints(N),
            robot_lineage=ints(N),
            robot_id=ints(N),
            robot_parent=ints(N),
            robot_fruit=ints(N),
            genome=np.zeros((N, G), GENOME_DTYPE),
            mine_xy=np.zeros((M, 2), POSITION_DTYPE),
            mine_heading=np.zeros(M, POSITION_DTYPE),
            fruit_xy=np.zeros((F, 2), POSITION_DTYPE),
            nursery_genome=np.zeros((K, G), GENOME_DTYPE),
            nursery_parent=ints(K),
            nursery_parent_slot=ints(K),
            nursery_lineage=ints(K),
            nursery_generation=ints(K),
            nursery_step=np.full(K, FINAL_GENOME, np.int64),
            clock=ints(CLOCK_SIZE),
            rng_key=np.zeros(1, np.uint64),
            counters=ints(len(COUNTER_NAMES)),
        )

    def read_only(self) -> WorldState:
        """Views of the same memory that cannot be written."""
        views = []
        for a in self:
            v = a.view()
            v.flags.writeable = False
            views.append(v)
        return WorldState(*views)

    def copy(self) -> WorldState:
        """A deep, writable copy."""
        return WorldState(*(np.array(a, copy=True) for a in self))
