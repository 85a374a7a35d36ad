"""Raycast vision: what each robot sees along its rays, per channel.

A ray stops at the first thing it hits; the hit's channel reports
``1 - distance/range``. Objects are found through the uniform grid (cells around
the field-of-view sector), and each one within reach is tested exactly against
every ray."""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from evosim.kernels._jit import inlined, kernel
from evosim.kernels.grid import build_grids, cell_box, row_items
from evosim.kernels.layout import (
    CH_EDGE,
    CH_FRUIT,
    CH_MINE,
    CH_ROBOT,
)


@kernel
def ray_edge(x, y, dirx, diry, width, height):
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
def _sector(x, y, ch, sh, co, so, fov, vrange):
    """Bounding box (x0, x1, y0, y1) of the field-of-view sector of a robot at
    (x, y) heading (ch, sh) = (cos h, sin h). (co, so) = cos, sin of half the fov."""
    if fov >= math.pi:
        return x - vrange, x + vrange, y - vrange, y + vrange
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
    return x0, x1, y0, y1


@kernel
def _scan_circles(b0, b1, row, robot_xy, cells, ray_dx, ray_dy, best_t, best_c, rays, vrange,
                  ncx, binned_xy, rad, start, items, channel, see_self):
    """Offer every object of one kind near robots ``b0..b1-1`` (one block) to their rays.

    Robot i of the block is entry ``r = i - b0`` of its block scratch (row ``row``
    of the [T, B, ...] arrays): ``cells[row, r]`` = (cx0, cx1, cy0, cy1), the grid
    cells that cover the bounding box of its field-of-view sector grown by the
    largest radius of the kinds seen; ``ray_dx``, ``ray_dy`` its rays' unit
    directions. ``binned_xy`` holds the kind's positions in grid order (see
    grid.build_grid). With ``see_self`` false (robots seeing robots) a robot skips
    itself. One call scans a whole block for one kind, so the loop over the block's
    robots runs with the kind's arrays already in registers.

    An object within reach (centre nearer than range + radius) is tested against
    every ray: a ray from the robot along unit (ux, uy) meets the circle at
    distance ``proj - sqrt(r² - perp²)`` (0 when the robot is inside it), proj and
    perp being the centre's distances along and across the ray, and misses when
    perp > r or the circle lies behind. The loop over rays has no branch, so it
    runs in SIMD lanes (each lane the same IEEE operations as a scalar loop): that
    beats working out which few rays can hit, whose tests branch unpredictably.
    """
    R = rays
    reach = vrange + rad
    reach2 = reach * reach
    r2 = rad * rad
    for i in range(b0, b1):
        r = i - b0
        x = robot_xy[i, 0]
        y = robot_xy[i, 1]
        skip = -1 if see_self else i
        cx0 = cells[row, r, 0]
        cx1 = cells[row, r, 1]
        cy0 = cells[row, r, 2]
        cy1 = cells[row, r, 3]
        for cy in range(cy0, cy1 + 1):
            q_lo, q_hi = row_items(start, cy, cx0, cx1, ncx)
            run = binned_xy[q_lo:q_hi]  # the run's positions, in grid order
            for q in range(run.shape[0]):
                if not see_self and items[q_lo + q] == skip:
                    continue
                dx = run[q, 0] - x
                dy = run[q, 1] - y
                d2 = dx * dx + dy * dy
                if d2 > reach2:
                    continue
                for k in range(R):
                    proj = dx * ray_dx[row, r, k] + dy * ray_dy[row, r, k]
                    perp2 = d2 - proj * proj
                    root = math.sqrt(max(r2 - perp2, 0.0))  # used only where perp2 <= r2
                    t = proj - root
                    t = t if t > 0.0 else 0.0
                    # Non-short-circuit &: one mask, no branch.
                    better = ((perp2 <= r2) & (proj + root >= 0.0) & (t <= vrange)
                              & (t < best_t[row, r, k]))
                    best_t[row, r, k] = t if better else best_t[row, r, k]
                    best_c[row, r, k] = channel if better else best_c[row, r, k]


@kernel
def obs_slot(p, channel):
    """Index of a channel (CH_*) in the observation's channel axis, or -1."""
    if channel == CH_MINE:
        return p.obs_mine
    if channel == CH_FRUIT:
        return p.obs_fruit
    if channel == CH_ROBOT:
        return p.obs_robot
    return p.obs_edge


@inlined
def _aim_block(b0, b1, row, half_cos, half_sin, s, p, work):
    """Aim the rays of robots ``b0..b1-1`` (block scratch row ``row``): their unit
    directions in ``work.ray_dx``, ``ray_dy``, no hit yet on any (``best_t`` inf,
    ``best_c`` -1), and in ``work.cells`` the grid cells (cx0, cx1, cy0, cy1) that
    cover the bounding box of each one's field-of-view sector grown by the largest
    radius of the kinds seen. (half_cos, half_sin) = cos, sin of half the fov."""
    robot_xy = s.robot_xy
    heading = s.robot_heading
    heading_cs = work.heading_cs
    ray_cos = work.ray_cos
    ray_sin = work.ray_sin
    ray_dx = work.ray_dx
    ray_dy = work.ray_dy
    best_t = work.best_t
    best_c = work.best_c
    cells = work.cells
    grow = p.sight_radius
    for i in range(b0, b1):
        r = i - b0
        h = heading[i]
        if heading_cs[i, 0] != h:  # else the tick's move left cos, sin of h
            heading_cs[i, 0] = h
            heading_cs[i, 1] = math.cos(h)
            heading_cs[i, 2] = math.sin(h)
        ch = heading_cs[i, 1]
        sh = heading_cs[i, 2]
        for k in range(p.rays):
            ray_dx[row, r, k] = ch * ray_cos[k] - sh * ray_sin[k]
            ray_dy[row, r, k] = sh * ray_cos[k] + ch * ray_sin[k]
            best_t[row, r, k] = np.inf
            best_c[row, r, k] = -1
        box = _sector(robot_xy[i, 0], robot_xy[i, 1], ch, sh, half_cos, half_sin,
                      p.fov, p.vision_range)
        cx0, cx1, cy0, cy1 = cell_box(box[0] - grow, box[1] + grow, box[2] - grow,
                                      box[3] + grow, p.cell, p.ncx, p.ncy)
        cells[row, r, 0] = cx0
        cells[row, r, 1] = cx1
        cells[row, r, 2] = cy0
        cells[row, r, 3] = cy1


@inlined
def _scan_block(b0, b1, row, s, p, work):
    """Offer the mines, fruit and robots seen (in that order) to the aimed rays of
    robots ``b0..b1-1``: each ray's nearest hit so far in ``work.best_t``, ``best_c``."""
    xy = s.robot_xy
    cells = work.cells
    dx = work.ray_dx
    dy = work.ray_dy
    bt = work.best_t
    bc = work.best_c
    R = p.rays
    vr = p.vision_range
    ncx = p.ncx
    if p.obs_mine >= 0:
        _scan_circles(b0, b1, row, xy, cells, dx, dy, bt, bc, R, vr, ncx, work.mine_binned,
                      p.mine_radius, work.mine_start, work.mine_items, channel=CH_MINE,
                      see_self=True)
    if p.obs_fruit >= 0:
        _scan_circles(b0, b1, row, xy, cells, dx, dy, bt, bc, R, vr, ncx, work.fruit_binned,
                      p.fruit_radius, work.fruit_start, work.fruit_items, channel=CH_FRUIT,
                      see_self=True)
    if p.obs_robot >= 0:
        _scan_circles(b0, b1, row, xy, cells, dx, dy, bt, bc, R, vr, ncx, work.robot_binned,
                      p.robot_radius, work.robot_start, work.robot_items, channel=CH_ROBOT,
                      see_self=False)


@inlined
def _write_block(b0, b1, row, s, p, work):
    """Offer the arena's edge (if seen) to the rays of robots ``b0..b1-1``, then write
    each ray's nearest hit into ``work.obs`` (``1 - distance/range`` on its channel, 0
    elsewhere) and into the sparse copy the brain reads (``seen``, ``seen_val``,
    ``n_seen``)."""
    robot_xy = s.robot_xy
    ray_dx = work.ray_dx
    ray_dy = work.ray_dy
    best_t = work.best_t
    best_c = work.best_c
    obs = work.obs
    seen = work.seen
    seen_val = work.seen_val
    # A local name for every array written: a write through ``work.n_seen[i]`` in
    # the threaded kernels' prange body was lost (every count read 0).
    n_seen = work.n_seen
    R = p.rays
    C = p.n_channels
    vrange = p.vision_range
    for i in range(b0, b1):
        r = i - b0
        if p.obs_edge >= 0:
            for k in range(R):
                t = ray_edge(robot_xy[i, 0], robot_xy[i, 1], ray_dx[row, r, k],
                             ray_dy[row, r, k], p.width, p.height)
                if t <= vrange and t < best_t[row, r, k]:
                    best_t[row, r, k] = t
                    best_c[row, r, k] = CH_EDGE
        n = 0
        for k in range(R):
            hit = 0
            closeness = np.float32(0.0)
            if best_c[row, r, k] >= 0:
                hit = obs_slot(p, best_c[row, r, k])
                closeness = np.float32(1.0 - best_t[row, r, k] / vrange)
            for c in range(C):  # each entry written once (no memset, no rewrite)
                obs[i, k, c] = closeness if c == hit else np.float32(0.0)
            # The sparse copy the brain reads: appended always, kept if non-zero.
            seen[i, n] = k * C + hit
            seen_val[i, n] = closeness
            n += 1 if closeness != 0.0 else 0
        n_seen[i] = n


@inlined
def sense_all(s, p, work):
    """Raycast vision of every robot into ``work.obs`` (float32 [N, R, C]).

    Channels are tried in the order mine, fruit, robot, edge; a ray keeps the
    nearest hit (the earlier channel on an exact tie) and reports
    ``1 - distance/range`` on that hit's channel, 0 elsewhere.
    """
    half_cos = math.cos(0.5 * p.fov)
    half_sin = math.sin(0.5 * p.fov)
    N = s.robot_xy.shape[0]
    T = work.ray_dx.shape[0]
    B = work.ray_dx.shape[1]
    # Robots are independent here: T chunks of rows, chunk ``row`` with its own
    # scratch row (prange runs them on threads only in a parallel=True kernel),
    # sensed B robots at a time: aimed, scanned kind by kind, written.
    for row in prange(T):
        for b0 in range(row * N // T, (row + 1) * N // T, B):
            b1 = min(b0 + B, (row + 1) * N // T)
            _aim_block(b0, b1, row, half_cos, half_sin, s, p, work)
            _scan_block(b0, b1, row, s, p, work)
            _write_block(b0, b1, row, s, p, work)


@inlined
def observe_all(s, p, work):
    """Observations of every robot in the current state into work.obs."""
    build_grids(s, p, work)
    sense_all(s, p, work)
