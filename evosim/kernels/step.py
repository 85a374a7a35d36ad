"""The world step: sense, think, move, contacts, offspring, refills.

Every function takes the world state ``s`` (a named tuple of arrays), the scalar
settings ``p`` (:class:`Params`), the phase schedule ``sch`` and the scratch space
``sc``, and writes in place. Robots are processed in slot order wherever their
actions interact (who eats a fruit first, who is born where), so results never
depend on anything but the state.
"""

from __future__ import annotations

import math

import numpy as np

from evosim.kernels._jit import inlined, kernel
from evosim.kernels.grid import build_grid, cell_coord
from evosim.kernels.layout import (
    AGE_DEATHS,
    BIRTHS,
    CH_FRUIT,
    CH_MINE,
    CH_ROBOT,
    CH_WALL,
    DIED_AGE,
    DIED_MINE,
    FRUIT_COUNT,
    FRUIT_EATEN,
    MINE_COUNT,
    MINE_DEATHS,
    NEXT_ID,
    NEXT_LINEAGE,
    NURSERY_HEAD,
    NURSERY_SIZE,
    OFFSPRING_DROPPED,
    RANDOM_SPAWNS,
    S_FRUIT_POS,
    S_INIT_FRUIT,
    S_INIT_MINE,
    S_MINE_HEADING,
    S_MINE_POS,
    S_MUTATE,
    S_MUTATE_NOISE,
    S_OFFSPRING_POS,
    S_SPAWN_GENOME,
    S_SPAWN_HEADING,
    S_SPAWN_POS,
    STEP,
)
from evosim.kernels.rng import base_normal_pair, base_uniform, stream_base, uniform

INIT_STEP = -1  # the step key of draws made while building the initial world
PLACE_TRIES = 256  # random tries for a free place before relaxing the condition
OFFSPRING_TRIES = 8  # tries for a free place beside the parent before a random one
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


@inlined
def ray_directions(ch, sh, ray_cos, ray_sin, ray_dx, ray_dy):
    """Unit direction of every ray of a robot heading (cos h, sin h) = (ch, sh)."""
    for k in range(ray_cos.shape[0]):
        ray_dx[k] = ch * ray_cos[k] - sh * ray_sin[k]
        ray_dy[k] = sh * ray_cos[k] + ch * ray_sin[k]


# ---------------------------------------------------------------- vision


ATAN_ERR = 1e-4  # margin over fast_atan2's error (< 1e-5 rad), in radians


@kernel
def fast_atan2(y, x):
    """atan2 by a degree-11 odd polynomial on [0, 1] (error below 1e-5 rad).

    Used only to choose which rays to test; the exact ray test decides hits.
    """
    ax = abs(x)
    ay = abs(y)
    if ax == 0.0 and ay == 0.0:
        return 0.0
    swap = ay > ax
    z = ax / ay if swap else ay / ax
    z2 = z * z
    a = z * (0.99997726 + z2 * (-0.33262347 + z2 * (0.19354346 + z2 * (
        -0.11643287 + z2 * (0.05265332 + z2 * -0.01172120)))))
    if swap:
        a = 0.5 * math.pi - a
    if x < 0.0:
        a = math.pi - a
    return -a if y < 0.0 else a


@kernel
def _sector(x, y, ch, sh, co, so, fov, vrange):
    """Bounding box (x0, x1, y0, y1) of the field-of-view sector of a robot at
    (x, y) heading (ch, sh) = (cos h, sin h), and the outward normals (lx, ly,
    rx, ry) of its left and right edges. (co, so) = cos, sin of half the fov."""
    if fov >= math.pi:
        return (x - vrange, x + vrange, y - vrange, y + vrange), (0.0, 0.0, 0.0, 0.0)
    lx = ch * co - sh * so  # left edge direction, heading + half
    ly = sh * co + ch * so
    rx = ch * co + sh * so  # right edge direction, heading - half
    ry = sh * co - ch * so
    x0 = min(x, x + vrange * lx, x + vrange * rx)
    x1 = max(x, x + vrange * lx, x + vrange * rx)
    y0 = min(y, y + vrange * ly, y + vrange * ry)
    y1 = max(y, y + vrange * ly, y + vrange * ry)
    # An axis direction inside the sector reaches the full range that way.
    if ch >= co:
        x1 = x + vrange
    if -ch >= co:
        x0 = x - vrange
    if sh >= co:
        y1 = y + vrange
    if -sh >= co:
        y0 = y - vrange
    return (x0, x1, y0, y1), (-ly, lx, ry, -rx)


@inlined
def _scan_circles(x, y, ch, sh, xy, rad, start, items, channel, skip, rays, fov, vrange, cell, ncx,
                  ncy, ray_dx, ray_dy, best_t, best_c, box, normals):
    """Offer every object of one kind near (x, y) to the rays it can meet.

    ``box`` = (x0, x1, y0, y1) bounds the field-of-view sector; ``normals`` =
    outward normals of its two edges (used when fov < 180 degrees). Arrays are
    passed one by one: this runs per robot per kind.
    """
    R = rays
    reach = vrange + rad
    reach2 = reach * reach
    r2 = rad * rad
    half = 0.5 * fov
    dstep = fov / (R - 1) if R > 1 else 0.0
    cx0 = cell_coord(box[0] - rad, cell, ncx)
    cx1 = cell_coord(box[1] + rad, cell, ncx)
    cy0 = cell_coord(box[2] - rad, cell, ncy)
    cy1 = cell_coord(box[3] + rad, cell, ncy)
    lnx, lny, rnx, rny = normals
    narrow = fov < math.pi
    for cy in range(cy0, cy1 + 1):
        for cx in range(cx0, cx1 + 1):
            c = cy * ncx + cx
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
                    k0, k1, k2, k3, k4, k5 = 0, R - 1, 1, 0, 1, 0
                else:
                    if narrow and (dx * lnx + dy * lny > rad or dx * rnx + dy * rny > rad):
                        continue
                    # Bearing from the heading, (forward, left) in the robot's frame, and
                    # an upper bound of the half-width: asin(r/d) <= atan(r/sqrt(d²-r²)).
                    # They only choose which rays to test; the exact test decides.
                    fwd = dx * ch + dy * sh
                    left = dy * ch - dx * sh
                    b = fast_atan2(left, fwd)
                    hw = rad / math.sqrt(d2 - r2) + ATAN_ERR
                    lo = b - hw + half
                    hi = b + hw + half
                    k0, k1 = _span_rays(lo, hi, dstep, fov, R)
                    # A span that crosses the back of the robot also wraps round.
                    k2, k3 = _span_rays(lo - TWO_PI, hi - TWO_PI, dstep, fov, R)
                    k4, k5 = _span_rays(lo + TWO_PI, hi + TWO_PI, dstep, fov, R)
                for k_lo, k_hi in ((k0, k1), (k2, k3), (k4, k5)):
                    for k in range(k_lo, k_hi + 1):
                        t = ray_circle(dx, dy, d2, r2, ray_dx[k], ray_dy[k])
                        if t <= vrange and t < best_t[k]:
                            best_t[k] = t
                            best_c[k] = channel


@kernel
def _span_rays(lo, hi, dstep, fov, R):
    """(first, last) ray whose angle from the fov's edge may lie in [lo, hi];
    first > last when none can."""
    if hi < -dstep or lo > fov + dstep:
        return 1, 0
    k_lo = int(math.floor(lo / dstep))  # noqa: RUF046 - explicit int for Numba
    k_hi = int(math.ceil(hi / dstep))  # noqa: RUF046
    return max(k_lo, 0), min(k_hi, R - 1)


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


@inlined
def sense_all(s, p, sc):
    """Raycast vision of every robot into ``sc.obs`` (float32 [N, R, C]).

    Channels are tried in the order mine, fruit, robot, wall; a ray keeps the
    nearest hit (the earlier channel on an exact tie) and reports
    ``1 - distance/range`` on that hit's channel, 0 elsewhere.
    """
    # Arrays are taken out of the tuples once: every access to a tuple's array
    # costs an atomic reference-count pair, which dominated the step before.
    robot_xy = s.robot_xy
    heading = s.robot_heading
    mine_xy = s.mine_xy
    fruit_xy = s.fruit_xy
    mine_start = sc.mine_start
    mine_items = sc.mine_items
    fruit_start = sc.fruit_start
    fruit_items = sc.fruit_items
    robot_start = sc.robot_start
    robot_items = sc.robot_items
    ray_cos = sc.ray_cos
    ray_sin = sc.ray_sin
    ray_dx = sc.ray_dx
    ray_dy = sc.ray_dy
    best_t = sc.best_t
    best_c = sc.best_c
    obs = sc.obs
    R = p.rays
    C = p.n_channels
    vrange = p.vision_range
    half_cos = math.cos(0.5 * p.fov)
    half_sin = math.sin(0.5 * p.fov)
    for i in range(robot_xy.shape[0]):
        x = robot_xy[i, 0]
        y = robot_xy[i, 1]
        h = heading[i]
        ch = math.cos(h)
        sh = math.sin(h)
        ray_directions(ch, sh, ray_cos, ray_sin, ray_dx, ray_dy)
        box, normals = _sector(x, y, ch, sh, half_cos, half_sin, p.fov, vrange)
        for k in range(R):
            best_t[k] = np.inf
            best_c[k] = -1
        if p.obs_mine >= 0:
            _scan_circles(x, y, ch, sh, mine_xy, p.mine_radius, mine_start, mine_items, CH_MINE, -1,
                          R, p.fov, vrange, p.cell, p.ncx, p.ncy, ray_dx, ray_dy, best_t, best_c,
                          box, normals)
        if p.obs_fruit >= 0:
            _scan_circles(x, y, ch, sh, fruit_xy, p.fruit_radius, fruit_start, fruit_items,
                          CH_FRUIT, -1, R, p.fov, vrange, p.cell, p.ncx, p.ncy, ray_dx, ray_dy,
                          best_t, best_c, box, normals)
        if p.obs_robot >= 0:
            _scan_circles(x, y, ch, sh, robot_xy, p.robot_radius, robot_start, robot_items,
                          CH_ROBOT, i, R, p.fov, vrange, p.cell, p.ncx, p.ncy, ray_dx, ray_dy,
                          best_t, best_c, box, normals)
        if p.obs_wall >= 0:
            for k in range(R):
                t = ray_wall(x, y, ray_dx[k], ray_dy[k], p.width, p.height)
                if t <= vrange and t < best_t[k]:
                    best_t[k] = t
                    best_c[k] = CH_WALL
        for k in range(R):
            for c in range(C):
                obs[i, k, c] = 0.0
            if best_c[k] >= 0:
                obs[i, k, obs_slot(p, best_c[k])] = np.float32(1.0 - best_t[k] / vrange)


# ---------------------------------------------------------------- brain


@kernel
def tanh(x):
    """tanh through one exp (libm's tanh goes through expm1 and is slower).

    Absolute error below 1e-15; saturates cleanly for large |x|.
    """
    if x > 20.0:
        return 1.0
    if x < -20.0:
        return -1.0
    return 1.0 - 2.0 / (math.exp(2.0 * x) + 1.0)


@inlined
def think_all(s, p, sc):
    """Every robot's brain on ``sc.obs`` into ``sc.actions`` = (turn, throttle).

    Genome layout (float32): W1 [H, R*C] row-major, b1 [H], W2 [2, H], b2 [2],
    then the max-speed gene. Hidden = tanh(W1 x + b1); turn = tanh(z0) in
    [-1, 1]; throttle = sigmoid(z1) in [0, 1]. Sums run in float64 in input
    order; zero inputs are skipped, which changes nothing but the work.
    """
    genome = s.genome
    obs = sc.obs
    hid = sc.hid
    actions = sc.actions
    H = p.hidden
    C = p.n_channels
    R = p.rays
    n_in = R * C
    b1 = H * n_in
    w2 = b1 + H
    b2 = w2 + 2 * H
    for i in range(genome.shape[0]):
        for h in range(H):
            hid[h] = np.float64(genome[i, b1 + h])
        for k in range(R):
            for c in range(C):
                v = np.float64(obs[i, k, c])
                if v != 0.0:
                    j = k * C + c
                    for h in range(H):
                        hid[h] += np.float64(genome[i, h * n_in + j]) * v
        z0 = np.float64(genome[i, b2])
        z1 = np.float64(genome[i, b2 + 1])
        for h in range(H):
            a = tanh(hid[h])
            z0 += np.float64(genome[i, w2 + h]) * a
            z1 += np.float64(genome[i, w2 + H + h]) * a
        actions[i, 0] = np.float32(tanh(z0))
        actions[i, 1] = np.float32(1.0 / (1.0 + math.exp(-z1)))


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


@inlined
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
def random_genome(i, key, step, limit, s, p):
    """Brain genes ~ N(0, init_std); max-speed gene uniform in its initial range,
    clipped to the speed ``limit`` in force."""
    g = s.genome[i]
    G = g.shape[0]
    base = stream_base(key, step, S_SPAWN_GENOME, i)
    d = 1  # draw 0 is the speed gene's
    for m in range(G // 2):
        z0, z1, d = base_normal_pair(base, d)
        g[2 * m] = np.float32(p.init_std * z0)
        if 2 * m + 1 < G - 1:
            g[2 * m + 1] = np.float32(p.init_std * z1)
    u = base_uniform(base, 0)
    g[G - 1] = np.float32(min(p.speed_init_min + u * (p.speed_init_max - p.speed_init_min),
                              limit))


@kernel
def spawn_robot(i, fresh, key, step, lifespan, limit, s, p, sc):
    """Put a robot in slot i at a random free place: a fresh random one, or
    (``fresh`` False) the slot's own genome and lineage coming back."""
    random_robot_spot(i, key, step, s, p, sc)
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


@inlined
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
        spawn_robot(i, True, key, INIT_STEP, sch.lifespan[0], sch.speed_limit[0], s, p, sc)


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


@inlined
def move_all(limit, s, p, sc):
    """Turn, then move at throttle x max-speed gene (at most ``limit``); walls stop
    the body (slide)."""
    robot_xy = s.robot_xy
    heading = s.robot_heading
    genome = s.genome
    actions = sc.actions
    speed_gene = genome.shape[1] - 1
    r = p.robot_radius
    for i in range(robot_xy.shape[0]):
        h = heading[i] + np.float64(actions[i, 0]) * p.max_turn
        if h >= math.pi:
            h -= TWO_PI
        elif h < -math.pi:
            h += TWO_PI
        heading[i] = h
        vmax = min(max(np.float64(genome[i, speed_gene]), 0.0), limit)
        v = np.float64(actions[i, 1]) * vmax
        x = robot_xy[i, 0] + v * math.cos(h)
        y = robot_xy[i, 1] + v * math.sin(h)
        robot_xy[i, 0] = min(max(x, r), p.width - r)
        robot_xy[i, 1] = min(max(y, r), p.height - r)


@inlined
def _first_fruit(x, y, fruit_xy, start, items, taken, p):
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
            for q in range(start[c], start[c + 1]):
                f = items[q]
                if taken[f] or (best >= 0 and f > best):
                    continue
                dx = fruit_xy[f, 0] - x
                dy = fruit_xy[f, 1] - y
                if dx * dx + dy * dy < r2:
                    best = f
    return best


@inlined
def contacts_all(bonus, ageing, max_age, s, p, sc):
    """Life and contacts, in slot order: a mine kills; else the first fruit touched
    is eaten (life + bonus, capped at max_life). With ``ageing``, life runs down
    by one per tick and a robot dies of age when it reaches 0 or when its age
    reaches ``max_age`` (0: no maximum). These are the only two ways to die."""
    robot_xy = s.robot_xy
    life = s.robot_life
    age = s.robot_age
    fruit_count = s.robot_fruit
    counters = s.counters
    mine_xy = s.mine_xy
    fruit_xy = s.fruit_xy
    mine_start = sc.mine_start
    mine_items = sc.mine_items
    fruit_start = sc.fruit_start
    fruit_items = sc.fruit_items
    taken = sc.taken
    dead = sc.dead
    ate = sc.ate
    for f in range(taken.shape[0]):
        taken[f] = 0
    mine_reach = p.robot_radius + p.mine_radius
    for i in range(robot_xy.shape[0]):
        dead[i] = 0
        ate[i] = 0
        if ageing:
            life[i] -= 1
        age[i] += 1
        x = robot_xy[i, 0]
        y = robot_xy[i, 1]
        if not grid_clear(x, y, mine_reach, mine_reach, mine_xy, mine_start, mine_items, -1, p):
            dead[i] = DIED_MINE
            life[i] = 0
            counters[MINE_DEATHS] += 1
            continue
        f = _first_fruit(x, y, fruit_xy, fruit_start, fruit_items, taken, p)
        if f >= 0:
            taken[f] = 1
            ate[i] = 1
            fruit_count[i] += 1
            counters[FRUIT_EATEN] += 1
            life[i] = min(life[i] + bonus, p.max_life)
        if ageing and (life[i] <= 0 or (max_age > 0 and age[i] >= max_age)):
            dead[i] = DIED_AGE
            life[i] = 0
            counters[AGE_DEATHS] += 1


@kernel
def mutate_genome(src, dst, rate, sigma, limit, key, step, slot):
    """The one mutation operator: ``dst`` = ``src`` plus Gaussian noise.

    Each gene gets N(0, sigma) noise with probability ``rate`` (every gene when
    ``rate`` >= 1); the last gene, the max-speed gene, is then clipped to
    [0, ``limit``]. Draws come from the streams (key, step, S_MUTATE_NOISE / S_MUTATE,
    slot); src and dst are float32 [G] rows and may not overlap.
    """
    G = src.shape[0]
    noise = stream_base(key, step, S_MUTATE_NOISE, slot)
    coin = stream_base(key, step, S_MUTATE, slot)
    z1 = 0.0
    d = 0
    for q in range(G):
        # Normals come in pairs: gene 2m takes the first, 2m+1 the second.
        if q % 2 == 0:
            z0, z1, d = base_normal_pair(noise, d)
            z = z0
        else:
            z = z1
        v = np.float64(src[q])
        if rate >= 1.0 or base_uniform(coin, q) < rate:
            v += sigma * z
        if q == G - 1:
            v = min(max(v, 0.0), limit)
        dst[q] = np.float32(v)


@kernel
def conceive(parent, rate, sigma, limit, key, step, s):
    """A fruit eater's mutated copy joins the nursery, a bounded queue of offspring
    waiting for a free slot. When the nursery is full the oldest waiting offspring
    makes room (counted in ``offspring_dropped``); a nursery of size 0 drops every
    offspring that finds no slot in its own step."""
    K = s.nursery_genome.shape[0]
    if K == 0:
        s.counters[OFFSPRING_DROPPED] += 1
        return
    head = s.clock[NURSERY_HEAD]
    size = s.clock[NURSERY_SIZE]
    if size == K:
        head = (head + 1) % K
        size -= 1
        s.counters[OFFSPRING_DROPPED] += 1
    q = (head + size) % K
    mutate_genome(s.genome[parent], s.nursery_genome[q], rate, sigma, limit, key, step, parent)
    s.nursery_parent[q] = s.robot_id[parent]
    s.nursery_parent_slot[q] = parent
    s.nursery_lineage[q] = s.robot_lineage[parent]
    s.nursery_generation[q] = s.robot_generation[parent] + 1
    s.clock[NURSERY_HEAD] = head
    s.clock[NURSERY_SIZE] = size + 1


@kernel
def give_birth(j, lifespan, key, step, s, p, sc):
    """Slot j, freed by a death this tick, takes the oldest waiting offspring.

    It is placed near its parent when the parent is still alive (the parent's
    slot still holds the parent's id and it did not die this tick), else at a
    random free place.
    """
    K = s.nursery_genome.shape[0]
    q = s.clock[NURSERY_HEAD]
    s.clock[NURSERY_HEAD] = (q + 1) % K
    s.clock[NURSERY_SIZE] -= 1
    for g in range(s.genome.shape[1]):
        s.genome[j, g] = s.nursery_genome[q, g]
    ps = s.nursery_parent_slot[q]
    r = p.robot_radius
    placed = False
    if s.robot_id[ps] == s.nursery_parent[q] and sc.dead[ps] == 0:
        px = s.robot_xy[ps, 0]
        py = s.robot_xy[ps, 1]
        for a in range(OFFSPRING_TRIES):
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
    s.robot_life[j] = lifespan
    s.robot_age[j] = 0
    s.robot_fruit[j] = 0
    s.robot_generation[j] = s.nursery_generation[q]
    s.robot_lineage[j] = s.nursery_lineage[q]
    s.robot_parent[j] = s.nursery_parent[q]
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
    # Robots moved at most speed_cap since they were binned; search that much wider.
    if not grid_clear(x, y, reach, reach + p.speed_cap, s.robot_xy, sc.robot_start,
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
    sense_all(s, p, sc)


@kernel
def decide_all(s, p, sc):
    """Actions of every robot for sc.obs into sc.actions."""
    think_all(s, p, sc)


@kernel
def step_once(s, p, sch, sc):
    """Advance the world by one tick."""
    key = s.rng_key[0]
    step = s.clock[STEP]
    N = s.robot_xy.shape[0]
    ph = phase_index(sch, step)
    apply_phase(ph, key, step, s, p, sch)
    limit = sch.speed_limit[ph]
    lifespan = sch.lifespan[ph]
    if p.mine_speed > 0.0:
        move_mines(s, p)
    build_grids(s, p, sc)

    # Sense and think on the state at the start of the tick, then act.
    sense_all(s, p, sc)
    think_all(s, p, sc)
    move_all(limit, s, p, sc)
    contacts_all(sch.life_bonus[ph], sch.ageing[ph], sch.max_age[ph], s, p, sc)

    # Offspring: each eater, in slot order, puts a mutated copy into the nursery.
    ate = sc.ate
    dead = sc.dead
    placed = sc.placed
    counters = s.counters
    if sch.reproduction[ph]:
        rate = sch.mutation_rate[ph]
        sigma = sch.mutation_sigma[ph]
        for i in range(N):
            if ate[i]:
                conceive(i, rate, sigma, limit, key, step, s)

    # Every slot freed by a death is refilled in slot order: by the oldest waiting
    # offspring, else by a fresh random robot (or, with same-genome respawn, the
    # slot's own genome) at a random free place. No living robot is ever replaced.
    n_placed = 0
    for i in range(N):
        if not dead[i]:
            continue
        if s.clock[NURSERY_SIZE] > 0:
            give_birth(i, lifespan, key, step, s, p, sc)
            counters[BIRTHS] += 1
        else:
            spawn_robot(i, not p.respawn_same, key, step, lifespan, limit, s, p, sc)
            counters[RANDOM_SPAWNS] += 1
        placed[n_placed] = i
        n_placed += 1

    # Eaten fruit reappears at a random free place.
    taken = sc.taken
    moved = sc.moved
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
            if _fruit_spot_free(f, x, y, n_moved, n_placed, s, p, sc):
                break
        fruit_xy[f, 0] = x
        fruit_xy[f, 1] = y
        moved[n_moved] = f
        n_moved += 1

    s.clock[STEP] = step + 1


@kernel
def run_steps(s, p, sch, sc, n):
    """Advance the world by n ticks."""
    for _ in range(n):
        step_once(s, p, sch, sc)
