"""Islands: the robots a world sends to its neighbour, and their arrival.

"Best" robots are the living robots that ate the most fruit in their life so far
(``robot_fruit``), ties by lowest slot; a robot that ate nothing is never sent.
Every slot holds a living robot after a step (deaths are refilled in the same
tick), so these are simply the slots with the highest ``robot_fruit``.

Arrivals are waiting offspring: exact copies (no mutation: their conception step
is ``FINAL_GENOME``, so birth copies them as they are) that join the end of
the nursery ring in the order given and take slots freed by later deaths, like
any offspring; they never replace a living robot. When the nursery is full the
oldest waiting offspring makes room, counted in ``offspring_dropped`` (as for
offspring conceived in the world); a nursery of size 0 drops every arrival.
An arrival keeps its generation, and founds a new lineage in its new world
(lineage ids are per world): it takes the next lineage id on arrival, and spends
the next robot id with it, so that lineage ids stay below robot ids as for
random robots (robot ids stay unique; they may have gaps).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evosim.kernels.layout import (
    FINAL_GENOME,
    NEXT_ID,
    NEXT_LINEAGE,
    NURSERY_HEAD,
    NURSERY_SIZE,
    OFFSPRING_DROPPED,
)
from evosim.world.state import WorldState

NO_PARENT = -1  # an arrival has no parent in its new world: it is placed at random


class Migrants(NamedTuple):
    """Robots leaving a world: genome float32 [M, G] and generation int64 [M]."""

    genome: np.ndarray
    generation: np.ndarray


def emigrants(state: WorldState, count: int) -> Migrants:
    """Copies of the at most ``count`` best robots of ``state`` (see the module text),
    best first."""
    fruit = np.asarray(state.robot_fruit)
    # Stable sort on -fruit: equal fruit keeps slot order, so ties go to the lowest slot.
    order = np.argsort(-fruit, kind="stable")[:count]
    order = order[fruit[order] > 0]
    return Migrants(np.array(state.genome[order]), np.array(state.robot_generation[order]))


def receive(state: WorldState, migrants: Migrants) -> None:
    """Put ``migrants`` into the nursery ring of ``state`` (writable arrays), in order."""
    K = state.nursery_genome.shape[0]
    G = state.nursery_genome.shape[1]
    if migrants.genome.ndim != 2 or migrants.genome.shape[1] != G:
        raise ValueError(f"migrants: expected genomes of {G} genes, got shape "
                         f"{list(migrants.genome.shape)}")
    for m in range(migrants.genome.shape[0]):
        if K == 0:
            state.counters[OFFSPRING_DROPPED] += 1
            continue
        head = int(state.clock[NURSERY_HEAD])
        size = int(state.clock[NURSERY_SIZE])
        if size == K:
            head = (head + 1) % K
            size -= 1
            state.counters[OFFSPRING_DROPPED] += 1
        q = (head + size) % K
        state.nursery_genome[q] = migrants.genome[m]
        state.nursery_step[q] = FINAL_GENOME  # born exactly as sent
        state.nursery_parent[q] = NO_PARENT
        state.nursery_parent_slot[q] = 0
        state.nursery_lineage[q] = state.clock[NEXT_LINEAGE]
        state.clock[NEXT_LINEAGE] += 1
        state.clock[NEXT_ID] += 1
        state.nursery_generation[q] = migrants.generation[m]
        state.clock[NURSERY_HEAD] = head
        state.clock[NURSERY_SIZE] = size + 1
