"""The world step: sense, think, move, contacts, births, respawns.

Every function takes the world state ``s`` (a named tuple of arrays), the scalar
settings ``p`` (:class:`Params`), the phase schedule ``sch`` and the scratch space
``sc``, and writes in place. Robots are processed in slot order wherever their
actions interact (who eats a fruit first, who is born where), so results never
depend on anything but the state.
"""

from __future__ import annotations

import math

import numpy as np

from evosim.kernels._jit import kernel
from evosim.kernels.grid import build_grid, cell_coord
from evosim.kernels.layout import (
    AGE_DEATHS,
    BIRTHS,
    CH_FRUIT,
    CH_MINE,
    CH_ROBOT,
    CH_WALL,
    DISPLACED,
    FRUIT_COUNT,
    FRUIT_EATEN,
    MINE_COUNT,
    MINE_DEATHS,
    NEXT_ID,
    NEXT_LINEAGE,
    RANDOM_SPAWNS,
    S_FRUIT_POS,
    S_INIT_FRUIT,
    S_INIT_MINE,
    S_MINE_HEADING,
    S_MINE_POS,
    S_MUTATE,
    S_MUTATE_NOISE,
    S_NEWBORN_SLOT,
    S_OFFSPRING_POS,
    S_SPAWN_GENOME,
    S_SPAWN_HEADING,
    S_SPAWN_POS,
    STEP,
)
from evosim.kernels.rng import normal, uniform

INIT_STEP = -1  # the step key of draws made while building the initial world
PLACE_TRIES = 256  # random tries for a free place before relaxing the condition
TWO_PI = 2.0 * math.pi


# ---------------------------------------------------------------- geometry


@kernel
def ray_circle(dx, dy, d2, r2, dirx, diry):
    """Distance along a unit ray from the origin to a circle, or inf on a miss.

    The circle's centre is at (dx, dy) from the ray origin, ``d2 = dx²+dy²``,
    ``r2`` its squared radius. An origin inside the circle meets it at 0.
    """
    proj = dx * dirx + dy * diry
    perp2 = d2 - proj * proj
    if perp2 > r2:
        return np.inf
    root = math.sqrt(r2 - perp2)
    if proj + root < 0.0:
        return np.inf
    t = proj - root
    return t if t > 0.0 else 0.0


@kernel
def ray_wall(x, y, dirx, diry, width, height):
    """Distance along a unit ray from (x, y) inside the arena to its boundary."""
    t = np.inf
    if dirx > 0.0:
        t = (width - x) / dirx
    elif dirx < 0.0:
        t = -x / dirx
    if diry > 0.0:
        ty = (height - y) / diry
        if ty < t:
            t = ty
    elif diry < 0.0:
        ty = -y / diry
        if ty < t:
            t = ty
    return t if t > 0.0 else 0.0


@kernel
def ray_directions(h, sc):
    """Unit direction of every ray of a robot with heading ``h`` into sc.ray_dx/dy."""
    ch = math.cos(h)
    sh = math.sin(h)
    for k in range(sc.ray_cos.shape[0]):
        sc.ray_dx[k] = ch * sc.ray_cos[k] - sh * sc.ray_sin[k]
        sc.ray_dy[k] = sh * sc.ray_cos[k] + ch * sc.ray_sin[k]


# ---------------------------------------------------------------- vision


@kernel
def _test_rays(k_lo, k_hi, dx, dy, d2, r2, channel, p, sc):
    for k in range(k_lo, k_hi + 1):
        t = ray_circle(dx, dy, d2, r2, sc.ray_dx[k], sc.ray_dy[k])
        if t <= p.vision_range and t < sc.best_t[k]:
            sc.best_t[k] = t
            sc.best_c[k] = channel


@kernel
def _scan_circles(x, y, h, xy, rad, start, items, channel, skip, p, sc):
    """Offer every object of one kind near (x, y) to the rays it can meet."""
    R = p.rays
    reach = p.vision_range + rad
    reach2 = reach * reach
    r2 = rad * rad
    cx0 = cell_coord(x - reach, p.cell, p.ncx)
    cx1 = cell_coord(x + reach, p.cell, p.ncx)
    cy0 = cell_coord(y - reach, p.cell, p.ncy)
    cy1 = cell_coord(y + reach, p.cell, p.ncy)
    half = 0.5 * p.fov
    dstep = p.fov / (R - 1) if R > 1 else 0.0
    for cy in range(cy0, cy1 + 1):
        for cx in range(cx0, cx1 + 1):
            c = cy * p.ncx + cx
            for q in range(start[c], start[c + 1]):
                j = items[q]
                if j == skip:
                    continue
                dx = xy[j, 0] - x
                dy = xy[j, 1] - y
                d2 = dx * dx + dy * dy
                if d2 > reach2:
                    continue
                if d2 <= r2 or R == 1:
                    _test_rays(0, R - 1, dx, dy, d2, r2, channel, p, sc)
                    continue
                # Only rays within the object's angular span can meet it; the
                # span is widened by one ray each side, and the exact test decides.
                b = math.atan2(dy, dx) - h
                b = (b + math.pi) % TWO_PI - math.pi
                hw = math.asin(math.sqrt(r2 / d2))
                for shift in (-TWO_PI, 0.0, TWO_PI):
                    lo = b + shift - hw + half
                    hi = b + shift + hw + half
                    if hi < -dstep or lo > p.fov + dstep:
                        continue
                    k_lo = int(math.floor(lo / dstep))
                    k_hi = int(math.ceil(hi / dstep))
                    if k_lo < 0:
                        k_lo = 0
                    if k_hi > R - 1:
                        k_hi = R - 1
                    _test_rays(k_lo, k_hi, dx, dy, d2, r2, channel, p, sc)


@kernel
def obs_slot(p, channel):
    """Index of a channel (CH_*) in the observation's channel axis, or -1."""
    if channel == CH_MINE:
        return p.obs_mine
    if channel == CH_FRUIT:
        return p.obs_fruit
    if channel == CH_ROBOT:
        return p.obs_robot
    return p.obs_wall


@kernel
def sense(i, s, p, sc):
    """Raycast vision of robot i into ``sc.obs[i]`` (float32 [R, C]).

    Channels are tried in the order mine, fruit, robot, wall; a ray keeps the
    nearest hit (the earlier channel on an exact tie) and reports
    ``1 - distance/range`` on that hit's channel, 0 elsewhere.
    """
    x = s.robot_xy[i, 0]
    y = s.robot_xy[i, 1]
    h = s.robot_heading[i]
    ray_directions(h, sc)
    for k in range(p.rays):
        sc.best_t[k] = np.inf
        sc.best_c[k] = -1
    if p.obs_mine >= 0:
        _scan_circles(x, y, h, s.mine_xy, p.mine_radius, sc.mine_start, sc.mine_items,
                      CH_MINE, -1, p, sc)
    if p.obs_fruit >= 0:
        _scan_circles(x, y, h, s.fruit_xy, p.fruit_radius, sc.fruit_start, sc.fruit_items,
                      CH_FRUIT, -1, p, sc)
    if p.obs_robot >= 0:
        _scan_circles(x, y, h, s.robot_xy, p.robot_radius, sc.robot_start, sc.robot_items,
                      CH_ROBOT, i, p, sc)
    if p.obs_wall >= 0:
        for k in range(p.rays):
            t = ray_wall(x, y, sc.ray_dx[k], sc.ray_dy[k], p.width, p.height)
            if t <= p.vision_range and t < sc.best_t[k]:
                sc.best_t[k] = t
                sc.best_c[k] = CH_WALL
    out = sc.obs[i]
    for k in range(p.rays):
        for c in range(p.n_channels):
            out[k, c] = 0.0
        if sc.best_c[k] >= 0:
            out[k, obs_slot(p, sc.best_c[k])] = np.float32(1.0 - sc.best_t[k] / p.vision_range)


# ---------------------------------------------------------------- brain


@kernel
def think(i, genome, p, sc):
    """Brain of robot i on ``sc.obs[i]`` into ``sc.actions[i]`` = (turn, throttle).

    Genome layout (float32): W1 [H, R*C] row-major, b1 [H], W2 [2, H], b2 [2],
    then the max-speed gene. Hidden = tanh(W1 x + b1); turn = tanh(z0) in
    [-1, 1]; throttle = sigmoid(z1) in [0, 1]. Zero inputs are skipped, which
    changes nothing but the work.
    """
    H = p.hidden
    C = p.n_channels
    n_in = p.rays * C
    g = genome[i]
    b1 = H * n_in
    w2 = b1 + H
    b2 = w2 + 2 * H
    for h in range(H):
        sc.hid[h] = np.float64(g[b1 + h])
    o = sc.obs[i]
    for k in range(p.rays):
        for c in range(C):
            v = np.float64(o[k, c])
            if v != 0.0:
                j = k * C + c
                for h in range(H):
                    sc.hid[h] += np.float64(g[h * n_in + j]) * v
    z0 = np.float64(g[b2])
    z1 = np.float64(g[b2 + 1])
    for h in range(H):
        a = math.tanh(sc.hid[h])
        z0 += np.float64(g[w2 + h]) * a
        z1 += np.float64(g[w2 + H + h]) * a
    sc.actions[i, 0] = np.float32(math.tanh(z0))
    sc.actions[i, 1] = np.float32(1.0 / (1.0 + math.exp(-z1)))


# ---------------------------------------------------------------- placement


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
    cx0 = cell_coord(x - search, p.cell, p.ncx)
    cx1 = cell_coord(x + search, p.cell, p.ncx)
    cy0 = cell_coord(y - search, p.cell, p.ncy)
    cy1 = cell_coord(y + search, p.cell, p.ncy)
    for cy in range(cy0, cy1 + 1):
        for cx in range(cx0, cx1 + 1):
            c = cy * p.ncx + cx
            for q in range(start[c], start[c + 1]):
                j = items[q]
                if j == skip:
                    continue
                dx = xy[j, 0] - x
                dy = xy[j, 1] - y
                if dx * dx + dy * dy < r2:
                    return False
    return True


@kernel
def robot_spot_free(x, y, strict, s, p, sc):
    """A robot at (x, y) touches no active mine (and, when strict, no fruit)."""
    if not grid_clear(x, y, p.robot_radius + p.mine_radius, p.robot_radius + p.mine_radius,
                      s.mine_xy, sc.mine_start, sc.mine_items, -1, p):
        return False
    if strict and not grid_clear(x, y, p.robot_radius + p.fruit_radius,
                                 p.robot_radius + p.fruit_radius,
                                 s.fruit_xy, sc.fruit_start, sc.fruit_items, -1, p):
        return False
    return True


@kernel
def random_robot_spot(i, key, step, s, p, sc):
    """A random place for robot i touching no mine (nor fruit, if one can be found)."""
    r = p.robot_radius
    x = 0.0
    y = 0.0
    for a in range(2 * PLACE_TRIES):
        x = r + uniform(key, step, S_SPAWN_POS, i, 2 * a) * (p.width - 2.0 * r)
        y = r + uniform(key, step, S_SPAWN_POS, i, 2 * a + 1) * (p.height - 2.0 * r)
        if robot_spot_free(x, y, a < PLACE_TRIES, s, p, sc):
            break
    s.robot_xy[i, 0] = x
    s.robot_xy[i, 1] = y


@kernel
def random_genome(i, key, step, s, p):
    g = s.genome[i]
    G = g.shape[0]
    for q in range(G - 1):
        g[q] = np.float32(p.init_std * normal(key, step, S_SPAWN_GENOME, i, q))
    u = uniform(key, step, S_SPAWN_GENOME, i, 2 * G + 1)
    g[G - 1] = np.float32(p.speed_init_min + u * (p.speed_init_max - p.speed_init_min))


@kernel
def spawn_robot(i, fresh, key, step, s, p, sc):
    """Put a robot in slot i at a random free place: a fresh random one, or
    (``fresh`` False) the slot's own genome and lineage coming back."""
    random_robot_spot(i, key, step, s, p, sc)
    s.robot_heading[i] = (uniform(key, step, S_SPAWN_HEADING, i, 0) - 0.5) * TWO_PI
    s.robot_life[i] = p.lifespan
    s.robot_age[i] = 0
    s.robot_fruit[i] = 0
    if fresh:
        random_genome(i, key, step, s, p)
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
    for a in range(2 * PLACE_TRIES):
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
        if not brute_clear(x, y, rad + p.robot_radius, s.robot_xy, s.robot_xy.shape[0], -1):
            continue
        break
    xy[j, 0] = x
    xy[j, 1] = y


# ---------------------------------------------------------------- phases and init


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
                      True, j, True, -1)
        s.mine_heading[j] = (uniform(key, step, S_MINE_HEADING, j, 0) - 0.5) * TWO_PI
        s.clock[MINE_COUNT] += 1
    if s.clock[MINE_COUNT] > want:
        s.clock[MINE_COUNT] = want
    want = sch.fruit_count[ph]
    while s.clock[FRUIT_COUNT] < want:
        j = s.clock[FRUIT_COUNT]
        _place_object(j, S_FRUIT_POS, s.fruit_xy, p.fruit_radius, key, step, s, p,
                      True, -1, True, j)
        s.clock[FRUIT_COUNT] += 1
    if s.clock[FRUIT_COUNT] > want:
        s.clock[FRUIT_COUNT] = want


@kernel
def build_grids(s, p, sc):
    build_grid(s.mine_xy, s.clock[MINE_COUNT], p.cell, p.ncx, p.ncy, sc.mine_start,
               sc.mine_items, sc.cursor)
    build_grid(s.fruit_xy, s.clock[FRUIT_COUNT], p.cell, p.ncx, p.ncy, sc.fruit_start,
               sc.fruit_items, sc.cursor)
    build_grid(s.robot_xy, s.robot_xy.shape[0], p.cell, p.ncx, p.ncy, sc.robot_start,
               sc.robot_items, sc.cursor)


@kernel
def init_world(s, p, sch, sc):
    """Fill a zeroed state with step 0 of a world: mines, fruit, then robots."""
    key = s.rng_key[0]
    N = s.robot_xy.shape[0]
    s.clock[STEP] = 0
    s.clock[MINE_COUNT] = 0
    s.clock[FRUIT_COUNT] = 0
    s.clock[NEXT_ID] = 0
    s.clock[NEXT_LINEAGE] = 0
    for c in range(s.counters.shape[0]):
        s.counters[c] = 0
    # Robots are placed after mines and fruit; until then none stand anywhere.
    for i in range(N):
        s.robot_xy[i, 0] = -1e30
        s.robot_xy[i, 1] = -1e30
    for j in range(s.mine_xy.shape[0]):
        _place_object(j, S_INIT_MINE, s.mine_xy, p.mine_radius, key, INIT_STEP, s, p,
                      True, j, False, -1)
        s.mine_heading[j] = (uniform(key, INIT_STEP, S_MINE_HEADING, j, 0) - 0.5) * TWO_PI
        if j < sch.mine_count[0]:
            s.clock[MINE_COUNT] = j + 1
    for j in range(s.fruit_xy.shape[0]):
        _place_object(j, S_INIT_FRUIT, s.fruit_xy, p.fruit_radius, key, INIT_STEP, s, p,
                      True, -1, True, j)
        if j < sch.fruit_count[0]:
            s.clock[FRUIT_COUNT] = j + 1
    build_grids(s, p, sc)
    for i in range(N):
        spawn_robot(i, True, key, INIT_STEP, s, p, sc)


# ---------------------------------------------------------------- the step


@kernel
def move_mines(s, p):
    """Drifting mines bounce off the walls."""
    r = p.mine_radius
    for j in range(s.clock[MINE_COUNT]):
        h = s.mine_heading[j]
        x = s.mine_xy[j, 0] + p.mine_speed * math.cos(h)
        y = s.mine_xy[j, 1] + p.mine_speed * math.sin(h)
        if x < r or x > p.width - r:
            h = math.pi - h
            x = min(max(x, r), p.width - r)
        if y < r or y > p.height - r:
            h = -h
            y = min(max(y, r), p.height - r)
        s.mine_xy[j, 0] = x
        s.mine_xy[j, 1] = y
        s.mine_heading[j] = (h + math.pi) % TWO_PI - math.pi


@kernel
def move_robot(i, s, p, sc):
    """Turn, then move at throttle x max-speed gene; walls stop the body (slide)."""
    h = s.robot_heading[i] + np.float64(sc.actions[i, 0]) * p.max_turn
    if h >= math.pi:
        h -= TWO_PI
    elif h < -math.pi:
        h += TWO_PI
    s.robot_heading[i] = h
    gene = np.float64(s.genome[i, s.genome.shape[1] - 1])
    vmax = min(max(gene, 0.0), p.speed_limit)
    v = np.float64(sc.actions[i, 1]) * vmax
    r = p.robot_radius
    x = s.robot_xy[i, 0] + v * math.cos(h)
    y = s.robot_xy[i, 1] + v * math.sin(h)
    s.robot_xy[i, 0] = min(max(x, r), p.width - r)
    s.robot_xy[i, 1] = min(max(y, r), p.height - r)


@kernel
def _first_fruit(x, y, s, p, sc):
    """Lowest-index untaken active fruit touching a robot at (x, y), or -1."""
    reach = p.robot_radius + p.fruit_radius
    r2 = reach * reach
    best = -1
    cx0 = cell_coord(x - reach, p.cell, p.ncx)
    cx1 = cell_coord(x + reach, p.cell, p.ncx)
    cy0 = cell_coord(y - reach, p.cell, p.ncy)
    cy1 = cell_coord(y + reach, p.cell, p.ncy)
    for cy in range(cy0, cy1 + 1):
        for cx in range(cx0, cx1 + 1):
            c = cy * p.ncx + cx
            for q in range(sc.fruit_start[c], sc.fruit_start[c + 1]):
                f = sc.fruit_items[q]
                if sc.taken[f] or (best >= 0 and f > best):
                    continue
                dx = s.fruit_xy[f, 0] - x
                dy = s.fruit_xy[f, 1] - y
                if dx * dx + dy * dy < r2:
                    best = f
    return best


@kernel
def _newborn_slot(parent, key, step, s, p, sc):
    """The slot a newborn takes: never a parent of this step or a slot already
    refilled this step; least life left (lowest slot on ties), or random."""
    N = s.robot_xy.shape[0]
    if p.newborn_random:
        for a in range(32):
            j = int(uniform(key, step, S_NEWBORN_SLOT, parent, a) * N)
            if not sc.ate[j] and not sc.newborn[j]:
                return j
    best = -1
    for j in range(N):
        if sc.ate[j] or sc.newborn[j]:
            continue
        if best < 0 or s.robot_life[j] < s.robot_life[best]:
            best = j
    return best


@kernel
def _give_birth(parent, j, rate, sigma, key, step, s, p, sc):
    """Slot j becomes a mutated copy of ``parent``, placed near it."""
    G = s.genome.shape[1]
    for q in range(G):
        v = np.float64(s.genome[parent, q])
        if rate >= 1.0 or uniform(key, step, S_MUTATE, j, q) < rate:
            v += sigma * normal(key, step, S_MUTATE_NOISE, j, q)
        if q == G - 1:
            v = min(max(v, 0.0), p.speed_limit)
        s.genome[j, q] = np.float32(v)
    r = p.robot_radius
    px = s.robot_xy[parent, 0]
    py = s.robot_xy[parent, 1]
    placed = False
    for a in range(8):
        ang = uniform(key, step, S_OFFSPRING_POS, j, a) * TWO_PI
        x = min(max(px + p.offspring_distance * math.cos(ang), r), p.width - r)
        y = min(max(py + p.offspring_distance * math.sin(ang), r), p.height - r)
        if robot_spot_free(x, y, True, s, p, sc):
            s.robot_xy[j, 0] = x
            s.robot_xy[j, 1] = y
            placed = True
            break
    if not placed:
        random_robot_spot(j, key, step, s, p, sc)
    s.robot_heading[j] = (uniform(key, step, S_SPAWN_HEADING, j, 0) - 0.5) * TWO_PI
    s.robot_life[j] = p.lifespan
    s.robot_age[j] = 0
    s.robot_fruit[j] = 0
    s.robot_generation[j] = s.robot_generation[parent] + 1
    s.robot_lineage[j] = s.robot_lineage[parent]
    s.robot_parent[j] = s.robot_id[parent]
    s.robot_id[j] = s.clock[NEXT_ID]
    s.clock[NEXT_ID] += 1


@kernel
def _fruit_spot_free(f, x, y, n_moved, n_placed, s, p, sc):
    """Fruit f at (x, y) touches no mine, no other fruit and no robot."""
    fr = p.fruit_radius
    if not grid_clear(x, y, fr + p.mine_radius, fr + p.mine_radius, s.mine_xy,
                      sc.mine_start, sc.mine_items, -1, p):
        return False
    if not grid_clear(x, y, 2.0 * fr, 2.0 * fr, s.fruit_xy, sc.fruit_start, sc.fruit_items, f, p):
        return False
    reach = fr + p.robot_radius
    # Robots moved at most speed_limit since they were binned; search that much wider.
    if not grid_clear(x, y, reach, reach + p.speed_limit, s.robot_xy, sc.robot_start,
                      sc.robot_items, -1, p):
        return False
    for q in range(n_moved):
        g = sc.moved[q]
        dx = s.fruit_xy[g, 0] - x
        dy = s.fruit_xy[g, 1] - y
        if g != f and dx * dx + dy * dy < 4.0 * fr * fr:
            return False
    for q in range(n_placed):
        i = sc.placed[q]
        dx = s.robot_xy[i, 0] - x
        dy = s.robot_xy[i, 1] - y
        if dx * dx + dy * dy < reach * reach:
            return False
    return True


@kernel
def observe_all(s, p, sc):
    """Observations of every robot in the current state into sc.obs."""
    build_grids(s, p, sc)
    for i in range(s.robot_xy.shape[0]):
        sense(i, s, p, sc)


@kernel
def decide_all(s, p, sc):
    """Actions of every robot for sc.obs into sc.actions."""
    for i in range(s.robot_xy.shape[0]):
        think(i, s.genome, p, sc)


@kernel
def step_once(s, p, sch, sc):
    """Advance the world by one tick."""
    key = s.rng_key[0]
    step = s.clock[STEP]
    N = s.robot_xy.shape[0]
    ph = phase_index(sch, step)
    apply_phase(ph, key, step, s, p, sch)
    bonus = sch.life_bonus[ph]
    if p.mine_speed > 0.0:
        move_mines(s, p)
    build_grids(s, p, sc)

    # Sense and think on the state at the start of the tick, then act.
    for i in range(N):
        sense(i, s, p, sc)
        think(i, s.genome, p, sc)
    for i in range(N):
        move_robot(i, s, p, sc)

    # Contacts, in slot order: a mine kills; else the first fruit touched is eaten.
    for f in range(sc.taken.shape[0]):
        sc.taken[f] = 0
    mine_reach = p.robot_radius + p.mine_radius
    for i in range(N):
        sc.dead[i] = 0
        sc.ate[i] = 0
        sc.newborn[i] = 0
        s.robot_life[i] -= 1
        s.robot_age[i] += 1
        x = s.robot_xy[i, 0]
        y = s.robot_xy[i, 1]
        if not grid_clear(x, y, mine_reach, mine_reach, s.mine_xy, sc.mine_start,
                          sc.mine_items, -1, p):
            sc.dead[i] = 1
            s.robot_life[i] = 0
            s.counters[MINE_DEATHS] += 1
            continue
        f = _first_fruit(x, y, s, p, sc)
        if f >= 0:
            sc.taken[f] = 1
            sc.ate[i] = 1
            s.robot_fruit[i] += 1
            s.counters[FRUIT_EATEN] += 1
            s.robot_life[i] = min(s.robot_life[i] + bonus, p.max_life)
        if s.robot_life[i] <= 0:
            sc.dead[i] = 2
            s.robot_life[i] = 0
            s.counters[AGE_DEATHS] += 1

    # Births: each eater, in slot order, puts a mutated copy into another slot.
    n_placed = 0
    if p.reproduction:
        rate = sch.mutation_rate[ph]
        sigma = sch.mutation_sigma[ph]
        for i in range(N):
            if not sc.ate[i]:
                continue
            j = _newborn_slot(i, key, step, s, p, sc)
            if j < 0:
                continue
            if sc.dead[j] == 0:
                s.counters[DISPLACED] += 1
            _give_birth(i, j, rate, sigma, key, step, s, p, sc)
            sc.newborn[j] = 1
            sc.placed[n_placed] = j
            n_placed += 1
            s.counters[BIRTHS] += 1

    # Dead slots that no newborn took are refilled at a random free place.
    for i in range(N):
        if sc.dead[i] and not sc.newborn[i]:
            spawn_robot(i, not p.respawn_same, key, step, s, p, sc)
            sc.placed[n_placed] = i
            n_placed += 1
            s.counters[RANDOM_SPAWNS] += 1

    # Eaten fruit reappears at a random free place.
    n_moved = 0
    fr = p.fruit_radius
    for f in range(s.clock[FRUIT_COUNT]):
        if not sc.taken[f]:
            continue
        x = 0.0
        y = 0.0
        for a in range(PLACE_TRIES):
            x = fr + uniform(key, step, S_FRUIT_POS, f, 2 * a) * (p.width - 2.0 * fr)
            y = fr + uniform(key, step, S_FRUIT_POS, f, 2 * a + 1) * (p.height - 2.0 * fr)
            if _fruit_spot_free(f, x, y, n_moved, n_placed, s, p, sc):
                break
        s.fruit_xy[f, 0] = x
        s.fruit_xy[f, 1] = y
        sc.moved[n_moved] = f
        n_moved += 1

    s.clock[STEP] = step + 1


@kernel
def run_steps(s, p, sch, sc, n):
    """Advance the world by n ticks."""
    for _ in range(n):
        step_once(s, p, sch, sc)
