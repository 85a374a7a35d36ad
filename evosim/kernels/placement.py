"""Placement: free places for robots, mines and fruit; phases; the initial world."""

from __future__ import annotations

from evosim.kernels._jit import kernel
from evosim.kernels.brain import random_genome
from evosim.kernels.grid import build_grids, cell_box, row_items
from evosim.kernels.layout import (
    FRUIT_COUNT,
    INIT_STEP,
    MINE_COUNT,
    NEXT_ID,
    NEXT_LINEAGE,
    NURSERY_HEAD,
    NURSERY_SIZE,
    S_FRUIT_POS,
    S_INIT_FRUIT,
    S_INIT_MINE,
    S_MINE_HEADING,
    S_MINE_POS,
    S_SPAWN_HEADING,
    S_SPAWN_POS,
    STEP,
    TWO_PI,
)
from evosim.kernels.rng import uniform

PLACE_TRIES = 256  # random tries for a place clear of everything, before relaxing
RELAXED_TRIES = 256  # then tries that need only be clear of mines, so that a
# crowded arena still gets a place that does not kill
ALL_TRIES = PLACE_TRIES + RELAXED_TRIES  # after these the last try is taken as it is:
# placement always ends (the draws are numbered 2a, 2a+1, so these counts are part of
# every trajectory and may not change without a new golden file)
NO_SKIP = -1  # the ``skip`` of brute_clear and grid_clear that skips no object


@kernel
def brute_clear(x, y, reach, xy, count, skip):
    """True when no object j < count (j != skip) has its centre within ``reach``."""
    r2 = reach * reach
    for j in range(count):
        if j == skip:
            continue
        dx = xy[j, 0] - x
        dy = xy[j, 1] - y
        if dx * dx + dy * dy < r2:
            return False
    return True


@kernel
def grid_clear(x, y, reach, search, xy, start, items, skip, p):
    """True when no binned object (!= skip) is within ``reach`` of (x, y).

    Cells are searched ``search`` >= reach around the point, so objects that moved
    up to ``search - reach`` since binning are still found (positions are live).
    """
    r2 = reach * reach
    cx0, cx1, cy0, cy1 = cell_box(x - search, x + search, y - search,
                                  y + search, p.cell, p.ncx, p.ncy)
    for cy in range(cy0, cy1 + 1):
        q_lo, q_hi = row_items(start, cy, cx0, cx1, p.ncx)
        for q in range(q_lo, q_hi):
            j = items[q]
            if j == skip:
                continue
            dx = xy[j, 0] - x
            dy = xy[j, 1] - y
            if dx * dx + dy * dy < r2:
                return False
    return True


@kernel
def robot_spot_free(x, y, s, p, work, strict):
    """A robot at (x, y) touches no active mine (and, when strict, no fruit)."""
    # Mines, then fruit, through one copy of the search (a loop, not two inlined copies).
    xys = (s.mine_xy, s.fruit_xy)
    starts = (work.mine_start, work.fruit_start)
    items = (work.mine_items, work.fruit_items)
    reaches = (p.robot_radius + p.mine_radius, p.robot_radius + p.fruit_radius)
    for kind in range(2 if strict else 1):
        if not grid_clear(x, y, reaches[kind], reaches[kind], xys[kind], starts[kind],
                          items[kind], NO_SKIP, p):
            return False
    return True


@kernel
def random_robot_spot(i, key, step, s, p, work):
    """A random place for robot i touching no mine (nor fruit, if one can be found)."""
    r = p.robot_radius
    x = 0.0
    y = 0.0
    for a in range(ALL_TRIES):
        x = r + uniform(key, step, S_SPAWN_POS, i, 2 * a) * (p.width - 2.0 * r)
        y = r + uniform(key, step, S_SPAWN_POS, i, 2 * a + 1) * (p.height - 2.0 * r)
        if robot_spot_free(x, y, s, p, work, strict=a < PLACE_TRIES):
            break
    s.robot_xy[i, 0] = x
    s.robot_xy[i, 1] = y


@kernel
def spawn_robot(i, key, step, lifespan, limit, s, p, work, fresh):
    """Put a robot in slot i at a random free place: a fresh random one, or
    (``fresh`` False) the slot's own genome and lineage coming back."""
    random_robot_spot(i, key, step, s, p, work)
    s.robot_heading[i] = (uniform(key, step, S_SPAWN_HEADING, i, 0) - 0.5) * TWO_PI
    s.robot_life[i] = lifespan
    s.robot_age[i] = 0
    s.robot_fruit[i] = 0
    if fresh:
        random_genome(i, key, step, limit, s, p)
        s.robot_generation[i] = 0
        s.robot_lineage[i] = s.clock[NEXT_LINEAGE]
        s.clock[NEXT_LINEAGE] += 1
        s.robot_parent[i] = -1
        s.robot_id[i] = s.clock[NEXT_ID]
        s.clock[NEXT_ID] += 1


@kernel
def _place_object(j, stream, xy, rad, key, step, s, p, avoid_mines, mine_skip, avoid_fruit,
                  fruit_skip):
    """Random place for a mine or fruit, clear of mines, fruit and robots (brute force)."""
    x = 0.0
    y = 0.0
    for a in range(ALL_TRIES):
        x = rad + uniform(key, step, stream, j, 2 * a) * (p.width - 2.0 * rad)
        y = rad + uniform(key, step, stream, j, 2 * a + 1) * (p.height - 2.0 * rad)
        if avoid_mines and not brute_clear(x, y, rad + p.mine_radius, s.mine_xy,
                                           s.clock[MINE_COUNT], mine_skip):
            continue
        if a >= PLACE_TRIES:
            break
        if avoid_fruit and not brute_clear(x, y, rad + p.fruit_radius, s.fruit_xy,
                                           s.clock[FRUIT_COUNT], fruit_skip):
            continue
        if not brute_clear(x, y, rad + p.robot_radius, s.robot_xy, s.robot_xy.shape[0],
                           NO_SKIP):
            continue
        break
    xy[j, 0] = x
    xy[j, 1] = y


@kernel
def _fruit_spot_free(f, x, y, n_moved, n_placed, s, p, work):
    """Fruit f at (x, y) touches no mine, no other fruit and no robot."""
    fr = p.fruit_radius
    reach = fr + p.robot_radius
    # Mines, other fruit, robots: one copy of the search in a loop. Robots moved at
    # most speed_cap since they were binned; their search is that much wider.
    xys = (s.mine_xy, s.fruit_xy, s.robot_xy)
    starts = (work.mine_start, work.fruit_start, work.robot_start)
    items = (work.mine_items, work.fruit_items, work.robot_items)
    reaches = (fr + p.mine_radius, 2.0 * fr, reach)
    searches = (fr + p.mine_radius, 2.0 * fr, reach + p.speed_cap)
    skips = (NO_SKIP, f, NO_SKIP)
    for kind in range(3):
        if not grid_clear(x, y, reaches[kind], searches[kind], xys[kind], starts[kind],
                          items[kind], skips[kind], p):
            return False
    for q in range(n_moved):
        g = work.moved[q]
        dx = s.fruit_xy[g, 0] - x
        dy = s.fruit_xy[g, 1] - y
        if g != f and dx * dx + dy * dy < 4.0 * fr * fr:
            return False
    for q in range(n_placed):
        i = work.placed[q]
        dx = s.robot_xy[i, 0] - x
        dy = s.robot_xy[i, 1] - y
        if dx * dx + dy * dy < reach * reach:
            return False
    return True


@kernel
def phase_index(sch, step):
    ph = 0
    for q in range(sch.step.shape[0]):
        if sch.step[q] <= step:
            ph = q
    return ph


@kernel
def apply_phase(ph, key, step, s, p, sch):
    """Activate or retire mines and fruit so their counts match phase ``ph``."""
    want = sch.mine_count[ph]
    while s.clock[MINE_COUNT] < want:
        j = s.clock[MINE_COUNT]
        _place_object(j, S_MINE_POS, s.mine_xy, p.mine_radius, key, step, s, p,
                      avoid_mines=True, mine_skip=j, avoid_fruit=True, fruit_skip=NO_SKIP)
        s.mine_heading[j] = (uniform(key, step, S_MINE_HEADING, j, 0) - 0.5) * TWO_PI
        s.clock[MINE_COUNT] += 1
    if s.clock[MINE_COUNT] > want:
        s.clock[MINE_COUNT] = want
    want = sch.fruit_count[ph]
    while s.clock[FRUIT_COUNT] < want:
        j = s.clock[FRUIT_COUNT]
        _place_object(j, S_FRUIT_POS, s.fruit_xy, p.fruit_radius, key, step, s, p,
                      avoid_mines=True, mine_skip=NO_SKIP, avoid_fruit=True, fruit_skip=j)
        s.clock[FRUIT_COUNT] += 1
    if s.clock[FRUIT_COUNT] > want:
        s.clock[FRUIT_COUNT] = want


@kernel
def init_world(s, p, sch, work):
    """Fill a zeroed state with step 0 of a world: mines, fruit, then robots."""
    key = s.rng_key[0]
    N = s.robot_xy.shape[0]
    s.clock[STEP] = 0
    s.clock[MINE_COUNT] = 0
    s.clock[FRUIT_COUNT] = 0
    s.clock[NEXT_ID] = 0
    s.clock[NEXT_LINEAGE] = 0
    s.clock[NURSERY_HEAD] = 0
    s.clock[NURSERY_SIZE] = 0
    for c in range(s.counters.shape[0]):
        s.counters[c] = 0
    # Robots are placed after mines and fruit; until then they stand far outside.
    far = -4.0 * (p.width + p.height)
    for i in range(N):
        s.robot_xy[i, 0] = far
        s.robot_xy[i, 1] = far
    for j in range(s.mine_xy.shape[0]):
        _place_object(j, S_INIT_MINE, s.mine_xy, p.mine_radius, key, INIT_STEP, s, p,
                      avoid_mines=True, mine_skip=j, avoid_fruit=False, fruit_skip=NO_SKIP)
        s.mine_heading[j] = (uniform(key, INIT_STEP, S_MINE_HEADING, j, 0) - 0.5) * TWO_PI
        if j < sch.mine_count[0]:
            s.clock[MINE_COUNT] = j + 1
    for j in range(s.fruit_xy.shape[0]):
        _place_object(j, S_INIT_FRUIT, s.fruit_xy, p.fruit_radius, key, INIT_STEP, s, p,
                      avoid_mines=True, mine_skip=NO_SKIP, avoid_fruit=True, fruit_skip=j)
        if j < sch.fruit_count[0]:
            s.clock[FRUIT_COUNT] = j + 1
    build_grids(s, p, work)
    for i in range(N):
        spawn_robot(i, key, INIT_STEP, sch.lifespan[0], sch.speed_limit[0], s, p, work,
                    fresh=True)


@kernel
def regrow_fruit(n_placed, key, step, s, p, work):
    """Eaten fruit reappears at a random free place (clear of the ``n_placed`` robots
    placed this tick and of fruit moved before it)."""
    taken = work.taken
    moved = work.moved
    fruit_xy = s.fruit_xy
    n_moved = 0
    fr = p.fruit_radius
    for f in range(s.clock[FRUIT_COUNT]):
        if not taken[f]:
            continue
        x = 0.0
        y = 0.0
        for a in range(PLACE_TRIES):
            x = fr + uniform(key, step, S_FRUIT_POS, f, 2 * a) * (p.width - 2.0 * fr)
            y = fr + uniform(key, step, S_FRUIT_POS, f, 2 * a + 1) * (p.height - 2.0 * fr)
            if _fruit_spot_free(f, x, y, n_moved, n_placed, s, p, work):
                break
        fruit_xy[f, 0] = x
        fruit_xy[f, 1] = y
        moved[n_moved] = f
        n_moved += 1

