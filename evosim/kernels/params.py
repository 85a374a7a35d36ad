"""Plain tuples the kernels take: scalar settings, the phase schedule, scratch space
(and the allocation of that scratch space from a world's sizes)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from evosim.kernels.layout import SENSE_BLOCK

CACHE_LINE = 64  # bytes


class Params(NamedTuple):
    """Scalar settings of one world. Lengths in world units, angles in radians."""

    width: float
    height: float
    robot_radius: float
    mine_radius: float
    fruit_radius: float
    max_life: int
    max_turn: float  # radians per step at turn output 1
    lateral_accel: float  # units per step^2: turn per step at most this / speed (0: no bound)
    metabolic_cost: float  # life per step per (top speed)^metabolic_exponent, while ageing
    metabolic_exponent: int  # the power of the top speed in that price (>= 1)
    speed_init_min: float
    speed_init_max: float
    speed_cap: float  # the highest speed limit of any phase (bounds moves between grids)
    mine_speed: float
    rays: int
    fov: float  # radians
    vision_range: float
    obs_mine: int  # index of the channel in observations, or -1 when not seen
    obs_fruit: int
    obs_robot: int
    obs_edge: int
    n_channels: int
    hidden: int
    # Brain offsets, from evosim.scenario.genome.GenomeLayout (its ``decoded``
    # layout), the one place that lays a genome out; the kernels read them here and
    # derive none. They index Scratch.weights, the brain decoded at birth, where W1
    # is stored input-major (kernels/decode.py).
    w1: int  # W1 [R*C, H] (input-major)
    b1: int  # b1 [H]
    w2: int  # W2 [2, H] row-major
    b2: int  # b2 [2]
    speed_gene: int  # the max-speed gene, the last one
    # DCT encoding: K coefficients per (hidden, channel) along the rays; 0 for direct.
    dct: int
    # Evolved connections: the mask block of n_mask genes at genome offset ``mask``
    # (n_mask = 0: dense brains).
    mask: int
    n_mask: int
    flip_rate: float  # probability per mask gene per birth of flipping it
    regrowth: float  # an off gene flips with flip_rate * regrowth (an on one: flip_rate)
    initial_connections: float  # probability of a random genome's mask gene being on
    initial_units: int  # >= 0: hidden units a random genome wires whole; -1: per connection
    connection_cost: float  # life per active connection per tick while ageing
    init_std: float
    respawn_same: bool
    offspring_distance: float
    cell: float  # grid cell side
    ncx: int
    ncy: int
    sight_radius: float  # the largest radius of the kinds robots see (0: none)


class Schedule(NamedTuple):
    """Phase settings: row i holds from ``step[i]`` on (row 0 from step 0)."""

    step: np.ndarray  # int64 [P]
    mine_count: np.ndarray  # int64 [P]
    fruit_count: np.ndarray  # int64 [P]
    life_bonus: np.ndarray  # int64 [P]
    lifespan: np.ndarray  # int64 [P] life a robot starts with
    max_age: np.ndarray  # int64 [P] age at which a robot dies, 0 for none
    ageing: np.ndarray  # bool [P] life runs down (and max_age applies)
    reproduction: np.ndarray  # bool [P] fruit yields offspring
    speed_limit: np.ndarray  # float64 [P] the max-speed gene is clipped to [0, this]
    mutation_rate: np.ndarray  # float64 [P]
    mutation_sigma: np.ndarray  # float64 [P] noise on the brain's genes
    speed_sigma: np.ndarray  # float64 [P] noise on the max-speed gene


class Scratch(NamedTuple):
    """Preallocated work arrays, so that a step allocates nothing."""

    ray_cos: np.ndarray  # float64 [R]  cos of each ray's offset from the heading
    ray_sin: np.ndarray  # float64 [R]
    # Per-thread rows (T threads; T = 1 on the serial path): thread c senses and
    # thinks for robots [c*N//T, (c+1)*N//T) with row c of these; vision takes them
    # in blocks of B = min(SENSE_BLOCK, N) robots, entry r of a block for its r-th.
    ray_dx: np.ndarray  # float64 [T, B, R]  the block's ray directions
    ray_dy: np.ndarray  # float64 [T, B, R]
    best_t: np.ndarray  # float64 [T, B, R]  distance of the nearest hit per ray
    best_c: np.ndarray  # int64 [T, B, R]    channel of that hit (CH_*), -1 for none
    cells: np.ndarray  # int64 [T, B, 4]  grid cells (cx0, cx1, cy0, cy1) around the sector
    #   of view (its bounding box grown by the largest radius seen)
    heading_cs: np.ndarray  # float64 [N, 3]  (h, cos h, sin h) of a heading h seen last
    hid: np.ndarray  # float64 [T, H]
    obs: np.ndarray  # float32 [N, R, C]
    # The non-zero entries of each robot's obs, in input order (what its brain sums):
    # the first n_seen[i] entries of seen[i] (input j = k*C + c) and seen_val[i].
    seen: np.ndarray  # int32 [N, R*C]
    seen_val: np.ndarray  # float32 [N, R*C]
    n_seen: np.ndarray  # int32 [N]
    actions: np.ndarray  # float32 [N, 2]
    speed: np.ndarray  # float64 [N]  top speed this tick: the speed gene capped at the limit
    mine_start: np.ndarray  # int64 [cells + 1]
    mine_items: np.ndarray  # int64 [M]
    fruit_start: np.ndarray
    fruit_items: np.ndarray  # int64 [F]
    robot_start: np.ndarray
    robot_items: np.ndarray  # int64 [N]
    cursor: np.ndarray  # int64 [cells]
    mine_binned: np.ndarray  # float64 [M, 2]  positions in grid order (xy[items[q]])
    fruit_binned: np.ndarray  # float64 [F, 2]
    robot_binned: np.ndarray  # float64 [N, 2]
    dead: np.ndarray  # uint8 [N]  DEATH_NONE, DEATH_MINE or DEATH_AGE this step
    ate: np.ndarray  # uint8 [N]
    taken: np.ndarray  # uint8 [F]  fruit eaten this step
    none_taken: np.ndarray  # uint8 [F]  zeros: no fruit taken (what touch_rows searches)
    on_mine: np.ndarray  # uint8 [N]  the robot touches a mine after its move (touch_rows)
    on_fruit: np.ndarray  # int64 [N]  the lowest-index fruit it touches then, or -1
    placed: np.ndarray  # int64 [N]  robots placed this step, in order
    moved: np.ndarray  # int64 [F]  fruit moved this step, in order
    control: np.ndarray  # bool [N]  robots driven from outside: they skip their brain
    control_actions: np.ndarray  # float32 [N, 2]  their (turn, throttle), already clipped
    weights: np.ndarray  # float32 [N, W] the brains robots run, decoded at birth
    active: np.ndarray  # int64 [N] active connections per robot (set at decoding)
    dct_basis: np.ndarray  # float64 [K, R] the DCT-III basis rows (dct); [0, R] when direct


def allocate_scratch(*, robots: int, threads: int, rays: int, channels: int, hidden: int,
                     cells: int, mines: int, fruit: int, weights: int,
                     ray_offsets: np.ndarray, dct_basis: np.ndarray) -> Scratch:
    """The work arrays of one world with ``robots`` slots stepping on ``threads`` threads:
    ``rays`` rays of ``channels`` channels, ``hidden`` hidden units, ``cells`` grid cells,
    room for ``mines`` mines and ``fruit`` fruit, ``weights`` decoded brain values per
    robot; ``ray_offsets`` (float64 [R], radians from the heading) and ``dct_basis``
    (float64 [K, R]) as computed from the scenario."""
    N, T, R, C = robots, threads, rays, channels
    B = max(1, min(SENSE_BLOCK, N))
    M, F = max(mines, 1), max(fruit, 1)
    return Scratch(
        ray_cos=np.cos(ray_offsets),
        ray_sin=np.sin(ray_offsets),
        ray_dx=np.zeros((T, B, R)),
        ray_dy=np.zeros((T, B, R)),
        best_t=np.zeros((T, B, R)),
        best_c=np.zeros((T, B, R), np.int64),
        cells=np.zeros((T, B, 4), np.int64),
        heading_cs=np.full((N, 3), np.nan),  # NaN equals no heading: computed when first seen
        hid=cache_aligned_rows(T, hidden, np.float64),  # no line shared by threads
        obs=np.zeros((N, R, C), np.float32),
        seen=np.zeros((N, R * C), np.int32),
        seen_val=np.zeros((N, R * C), np.float32),
        n_seen=np.zeros(N, np.int32),
        actions=np.zeros((N, 2), np.float32),
        speed=np.zeros(N),
        mine_start=np.zeros(cells + 1, np.int64),
        mine_items=np.zeros(M, np.int64),
        fruit_start=np.zeros(cells + 1, np.int64),
        fruit_items=np.zeros(F, np.int64),
        robot_start=np.zeros(cells + 1, np.int64),
        robot_items=np.zeros(N, np.int64),
        cursor=np.zeros(cells, np.int64),
        mine_binned=np.zeros((M, 2)),
        fruit_binned=np.zeros((F, 2)),
        robot_binned=np.zeros((N, 2)),
        dead=np.zeros(N, np.uint8),
        ate=np.zeros(N, np.uint8),
        taken=np.zeros(F, np.uint8),
        none_taken=np.zeros(F, np.uint8),
        on_mine=np.zeros(N, np.uint8),
        on_fruit=np.zeros(N, np.int64),
        placed=np.zeros(N, np.int64),
        moved=np.zeros(F, np.int64),
        control=np.zeros(N, np.bool_),
        control_actions=np.zeros((N, 2), np.float32),
        weights=np.zeros((N, weights), np.float32),
        active=np.zeros(N, np.int64),
        dct_basis=dct_basis,
    )


def cache_aligned_rows(rows: int, width: int, dtype: Any) -> np.ndarray:
    """Zeros [rows, >= width] whose rows start on 64-byte cache lines (width padded).

    For scratch rows that threads write side by side (``hid``, one row per thread):
    two rows sharing a cache line would bounce it between cores on every write
    (false sharing: the brain ran 1.4x faster on 2 threads instead of 2x)."""
    item = np.dtype(dtype).itemsize
    per_line = max(1, CACHE_LINE // item)
    padded = -(-width // per_line) * per_line
    buf = np.zeros(rows * padded + per_line, dtype)
    skip = (-buf.ctypes.data % CACHE_LINE) // item
    return buf[skip:skip + rows * padded].reshape(rows, padded)
