"""Indices into the small bookkeeping arrays of the world state, and kernel constants."""

from __future__ import annotations

import math

INIT_STEP = -1  # the step key of draws made while building the initial world (and seeding)
# The conception step (``nursery_step``) of a waiting offspring whose genome is final
# and is born as it is: a migrant (mutated in the world it came from). Not a step key
# of any draw.
FINAL_GENOME = -2
TWO_PI = 2.0 * math.pi
SENSE_BLOCK = 64  # robots sensed together, kind by kind (see vision.sense_all)

# clock[int64]: the step counter and the bookkeeping that changes with it.
STEP = 0
MINE_COUNT = 1  # mines active now (capacity may be larger when phases change it)
FRUIT_COUNT = 2
NEXT_ID = 3  # id the next robot gets
NEXT_LINEAGE = 4  # lineage id the next random robot founds
NURSERY_HEAD = 5  # index of the oldest waiting offspring in the nursery ring
NURSERY_SIZE = 6  # offspring waiting for a free slot
CLOCK_SIZE = 7

# counters[int64]: events since step 0.
FRUIT_EATEN = 0
MINE_DEATHS = 1
AGE_DEATHS = 2
BIRTHS = 3
RANDOM_SPAWNS = 4
OFFSPRING_DROPPED = 5  # offspring pushed out of a full nursery, never born
COUNTER_NAMES = (
    "fruit_eaten",
    "mine_deaths",
    "age_deaths",
    "births",
    "random_spawns",
    "offspring_dropped",
)

# A connection mask gene above this is an active connection (stored as 0.0 or 1.0).
MASK_ON = 0.5

# Causes of death in the step's scratch (``dead``), and in World.last_tick.death
# (evosim.world re-exports them): 0 is alive.
DEATH_NONE = 0
DEATH_MINE = 1
DEATH_AGE = 2

# Vision channels (CH_*), in the order rays try them; ``evosim.scenario.kinds``
# declares the same list by name (a test checks they agree).
CH_MINE = 0
CH_FRUIT = 1
CH_ROBOT = 2
CH_EDGE = 3  # the arena's boundary

# RNG streams: each random decision draws from its own stream.
S_INIT_MINE = 1
S_INIT_FRUIT = 2
S_INIT_ROBOT = 3
S_SPAWN_POS = 10
S_SPAWN_GENOME = 11
S_SPAWN_HEADING = 12
S_MUTATE = 13
S_OFFSPRING_POS = 14
S_FRUIT_POS = 16
S_MINE_POS = 17
S_MINE_HEADING = 18
S_MUTATE_NOISE = 19
S_MUTATE_FLIP = 20  # connection mask flips (pruning and regrowth)
S_SPAWN_MASK = 21  # a random genome's connection mask
