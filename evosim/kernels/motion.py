"""Motion: robots turn and move by their actions; drifting mines bounce off the edges."""

from __future__ import annotations

import math

import numpy as np

from evosim.kernels._jit import kernel
from evosim.kernels.layout import (
    MINE_COUNT,
    TWO_PI,
)


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
def move_rows(i0, i1, limit, s, p, work):
    """Robots ``i0..i1-1`` turn, then move at v = throttle x max-speed gene (the gene
    capped at ``limit``); walls stop the body (slide). The turn is the turn output x
    the max turn, which with ``p.lateral_accel`` a > 0 is at most a / v: the turn rate
    falls with speed. ``work.speed[i]`` keeps the capped gene for the metabolic cost.
    A move reads and writes only the robot's own rows, so chunks of robots move on
    separate threads."""
    robot_xy = s.robot_xy
    heading = s.robot_heading
    genome = s.genome
    actions = work.actions
    speed_gene = p.speed_gene
    r = p.robot_radius
    heading_cs = work.heading_cs
    speed = work.speed
    for i in range(i0, i1):
        vmax = min(max(np.float64(genome[i, speed_gene]), 0.0), limit)
        v = np.float64(actions[i, 1]) * vmax
        speed[i] = vmax
        turn = p.max_turn
        if p.lateral_accel > 0.0 and v * turn > p.lateral_accel:
            turn = p.lateral_accel / v  # v * turn rate: the lateral acceleration
        h = heading[i] + np.float64(actions[i, 0]) * turn
        if h >= math.pi:
            h -= TWO_PI
        elif h < -math.pi:
            h += TWO_PI
        heading[i] = h
        ch = math.cos(h)
        sh = math.sin(h)
        # Kept for the next tick's vision, which looks along the same heading.
        heading_cs[i, 0] = h
        heading_cs[i, 1] = ch
        heading_cs[i, 2] = sh
        x = robot_xy[i, 0] + v * ch
        y = robot_xy[i, 1] + v * sh
        robot_xy[i, 0] = min(max(x, r), p.width - r)
        robot_xy[i, 1] = min(max(y, r), p.height - r)
