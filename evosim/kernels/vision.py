"""Raycast vision: what each robot sees along its rays, per channel.

A ray stops at the first thing it hits; the hit's channel reports
``1 - distance/range``. Objects are found through the uniform grid (cells around
the field-of-view sector), then tested exactly against the rays they can meet."""

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
    TWO_PI,
)

ATAN_ERR = 1e-4  # margin over fast_atan2's error (< 1e-5 rad), in radians


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


@kernel
def _scan_circles(b0, b1, robot_xy, sector, cells, binned_xy, rad, start, items, channel,
                  see_self, rays, fov, vrange, ncx, ray_dx, ray_dy, best_t, best_c, row):
    """Offer every object of one kind near robots ``b0..b1-1`` (one block) to the rays
    each can meet.

    Robot i of the block is entry ``r = i - b0`` of its block scratch (row ``row``
    of the [T, B, ...] arrays): ``sector[row, r]`` = (cos h, sin h, x0, x1, y0, y1,
    lnx, lny, rnx, rny), the heading, the bounding box of its field-of-view sector
    and the outward normals of the sector's edges (used when fov < 180 degrees);
    ``cells[row, r]`` = (cx0, cx1, cy0, cy1), the grid cells that cover the box grown
    by the largest radius of the kinds seen (for a smaller kind a few more objects
    are met and turned away by the distance or cone tests: the hits are the same).
    ``binned_xy`` holds the kind's positions in grid order (see grid.build_grid).
    With ``see_self`` false (robots seeing robots) a robot skips itself.
    One call scans a whole block for one kind, so the loop over the block's robots
    runs with the kind's arrays already in registers.
    """
    R = rays
    reach = vrange + rad
    reach2 = reach * reach
    r2 = rad * rad
    half = 0.5 * fov
    dstep = fov / (R - 1) if R > 1 else 0.0
    inv_dstep = 1.0 / dstep if R > 1 else 0.0
    narrow = fov < math.pi
    for i in range(b0, b1):
        r = i - b0
        x = robot_xy[i, 0]
        y = robot_xy[i, 1]
        ch = sector[row, r, 0]
        sh = sector[row, r, 1]
        lnx = sector[row, r, 6]
        lny = sector[row, r, 7]
        rnx = sector[row, r, 8]
        rny = sector[row, r, 9]
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
                if d2 <= r2 or R == 1:
                    lo0, hi0, lo1, hi1, lo2, hi2 = 0, R - 1, 1, 0, 1, 0
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
                    lo0, hi0 = _span_rays(lo, hi, dstep, inv_dstep, fov, R)
                    # A span that crosses the back of the robot also wraps round.
                    lo1, hi1 = _span_rays(lo - TWO_PI, hi - TWO_PI, dstep, inv_dstep, fov, R)
                    lo2, hi2 = _span_rays(lo + TWO_PI, hi + TWO_PI, dstep, inv_dstep, fov, R)
                # Three spans: the direct one and its copies shifted by -2pi and +2pi.
                for k_lo, k_hi in ((lo0, hi0), (lo1, hi1), (lo2, hi2)):
                    for k in range(k_lo, k_hi + 1):
                        t = ray_circle(dx, dy, d2, r2, ray_dx[row, r, k], ray_dy[row, r, k])
                        if t <= vrange and t < best_t[row, r, k]:
                            best_t[row, r, k] = t
                            best_c[row, r, k] = channel


@kernel
def _span_rays(lo, hi, dstep, inv_dstep, fov, R):
    """(first, last) ray whose angle from the fov's edge may lie in [lo, hi];
    first > last when none can. ``inv_dstep`` = 1 / dstep: a product may round to
    the other side of a ray where the quotient would not, but [lo, hi] carries a
    margin of ATAN_ERR (far above one rounding) beyond any ray that can hit, so the
    rays found to hit are the same."""
    if hi < -dstep or lo > fov + dstep:
        return 1, 0
    k_lo = int(math.floor(lo * inv_dstep))  # noqa: RUF046 - explicit int for Numba
    k_hi = int(math.ceil(hi * inv_dstep))  # noqa: RUF046
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
    return p.obs_edge


@inlined
def sense_all(s, p, work):
    """Raycast vision of every robot into ``work.obs`` (float32 [N, R, C]).

    Channels are tried in the order mine, fruit, robot, edge; a ray keeps the
    nearest hit (the earlier channel on an exact tie) and reports
    ``1 - distance/range`` on that hit's channel, 0 elsewhere.
    """
    # Arrays are taken out of the tuples once, before the loops.
    robot_xy = s.robot_xy
    heading = s.robot_heading
    mine_start = work.mine_start
    mine_items = work.mine_items
    fruit_start = work.fruit_start
    fruit_items = work.fruit_items
    robot_start = work.robot_start
    robot_items = work.robot_items
    ray_cos = work.ray_cos
    ray_sin = work.ray_sin
    ray_dx = work.ray_dx
    ray_dy = work.ray_dy
    best_t = work.best_t
    best_c = work.best_c
    obs = work.obs
    seen = work.seen
    seen_val = work.seen_val
    n_seen = work.n_seen
    R = p.rays
    C = p.n_channels
    vrange = p.vision_range
    sector = work.sector
    cells = work.cells
    heading_cs = work.heading_cs
    grow = p.sight_radius
    half_cos = math.cos(0.5 * p.fov)
    half_sin = math.sin(0.5 * p.fov)
    N = robot_xy.shape[0]
    T = ray_dx.shape[0]
    B = ray_dx.shape[1]
    # Robots are independent here: T chunks of rows, chunk ``row`` with its own
    # scratch row (prange runs them on threads only in a parallel=True kernel),
    # sensed B robots at a time, kind by kind (mine, fruit, robot, then the edge).
    for row in prange(T):
        for b0 in range(row * N // T, (row + 1) * N // T, B):
            b1 = min(b0 + B, (row + 1) * N // T)
            for i in range(b0, b1):
                r = i - b0
                h = heading[i]
                if heading_cs[i, 0] != h:  # else the tick's move left cos, sin of h
                    heading_cs[i, 0] = h
                    heading_cs[i, 1] = math.cos(h)
                    heading_cs[i, 2] = math.sin(h)
                ch = heading_cs[i, 1]
                sh = heading_cs[i, 2]
                for k in range(R):
                    ray_dx[row, r, k] = ch * ray_cos[k] - sh * ray_sin[k]
                    ray_dy[row, r, k] = sh * ray_cos[k] + ch * ray_sin[k]
                    best_t[row, r, k] = np.inf
                    best_c[row, r, k] = -1
                box, normals = _sector(robot_xy[i, 0], robot_xy[i, 1], ch, sh, half_cos,
                                       half_sin, p.fov, vrange)
                sector[row, r, 0] = ch
                sector[row, r, 1] = sh
                for q in range(4):
                    sector[row, r, 2 + q] = box[q]
                    sector[row, r, 6 + q] = normals[q]
                cx0, cx1, cy0, cy1 = cell_box(box[0] - grow, box[1] + grow, box[2] - grow,
                                              box[3] + grow, p.cell, p.ncx, p.ncy)
                cells[row, r, 0] = cx0
                cells[row, r, 1] = cx1
                cells[row, r, 2] = cy0
                cells[row, r, 3] = cy1
            if p.obs_mine >= 0:
                _scan_circles(b0, b1, robot_xy, sector, cells, work.mine_binned, p.mine_radius,
                              mine_start, mine_items, CH_MINE, True, R, p.fov, vrange,
                              p.ncx, ray_dx, ray_dy, best_t, best_c, row)
            if p.obs_fruit >= 0:
                _scan_circles(b0, b1, robot_xy, sector, cells, work.fruit_binned, p.fruit_radius,
                              fruit_start, fruit_items, CH_FRUIT, True, R, p.fov, vrange,
                              p.ncx, ray_dx, ray_dy, best_t, best_c, row)
            if p.obs_robot >= 0:
                _scan_circles(b0, b1, robot_xy, sector, cells, work.robot_binned, p.robot_radius,
                              robot_start, robot_items, CH_ROBOT, False, R, p.fov, vrange,
                              p.ncx, ray_dx, ray_dy, best_t, best_c, row)
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
def observe_all(s, p, work):
    """Observations of every robot in the current state into work.obs."""
    build_grids(s, p, work)
    sense_all(s, p, work)
