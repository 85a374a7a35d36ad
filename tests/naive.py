"""Slow plain-Python references for the kernels: the same geometry, no tricks."""

from __future__ import annotations

import math

import numpy as np

from evosim.scenario import CHANNELS, Scenario
from evosim.scenario.kinds import EDGE, OBJECT_KINDS, SELF_SEEING


def ray_circle(dx: float, dy: float, r: float, dirx: float, diry: float) -> float:
    """Distance along a unit ray to a circle at (dx, dy) of radius r, inf on a miss."""
    proj = dx * dirx + dy * diry
    d2 = dx * dx + dy * dy
    perp2 = d2 - proj * proj
    if perp2 > r * r:
        return math.inf
    root = math.sqrt(r * r - perp2)
    if proj + root < 0:
        return math.inf
    return max(proj - root, 0.0)


def ray_edge(x: float, y: float, dirx: float, diry: float, w: float, h: float) -> float:
    ts = []
    if dirx > 0:
        ts.append((w - x) / dirx)
    if dirx < 0:
        ts.append(-x / dirx)
    if diry > 0:
        ts.append((h - y) / diry)
    if diry < 0:
        ts.append(-y / diry)
    return max(min(ts), 0.0) if ts else math.inf


def ray_directions(scenario: Scenario, heading: float) -> list[tuple[float, float]]:
    """Ray k points at heading + fov*(k/(R-1) - 1/2)."""
    R = scenario.vision.rays
    fov = math.radians(scenario.vision.fov_degrees)
    out = []
    for k in range(R):
        off = 0.0 if R == 1 else fov * (k / (R - 1) - 0.5)
        co, so = math.cos(off), math.sin(off)
        ch, sh = math.cos(heading), math.sin(heading)
        out.append((ch * co - sh * so, sh * co + ch * so))
    return out


def observe(scenario: Scenario, state) -> np.ndarray:
    """float32 [N, R, C] by brute force over every ray and every object."""
    chans = [c for c in CHANNELS if c in scenario.vision.channels]
    rng = scenario.vision.range
    N = state.robot_xy.shape[0]
    out = np.zeros((N, scenario.vision.rays, len(chans)), np.float32)
    objects = {}  # channel -> (active centres, radius, is the robots' own kind)
    for kind in OBJECT_KINDS:
        xy = getattr(state, f"{kind.name}_xy")
        xy = xy[: getattr(state, f"{kind.name}_count", len(xy))]
        objects[kind.channel] = (xy, getattr(scenario, kind.table).radius,
                                 kind.name == SELF_SEEING)
    for i in range(N):
        x, y = (float(v) for v in state.robot_xy[i])
        for k, (dx_, dy_) in enumerate(ray_directions(scenario, float(state.robot_heading[i]))):
            best, best_c = math.inf, None
            for c in chans:
                if c == EDGE:
                    t = ray_edge(x, y, dx_, dy_, scenario.world.width, scenario.world.height)
                    if t <= rng and t < best:
                        best, best_c = t, c
                    continue
                xy, r, own_kind = objects[c]
                for j in range(len(xy)):
                    if own_kind and j == i:
                        continue
                    t = ray_circle(float(xy[j, 0]) - x, float(xy[j, 1]) - y, r, dx_, dy_)
                    if t <= rng and t < best:
                        best, best_c = t, c
            if best_c is not None:
                out[i, k, chans.index(best_c)] = np.float32(1.0 - best / rng)
    return out


def decoded_weights(scenario: Scenario, genome: np.ndarray) -> tuple[np.ndarray, ...]:
    """(W1 [N, H, I], b1 [N, H], W2 [N, 2, H], b2 [N, 2]) float64 of genomes [N, G], from
    the documented layout with explicit math: W1 from DCT coefficients by the cosine
    formula (dct), then every connection whose mask gene is not on set to 0 (evolved)."""
    L = scenario.genome_layout
    H, n_in = L.hidden, L.inputs
    g = np.asarray(genome, np.float64)
    N = g.shape[0]
    if L.dct:
        R, C, K = L.rays, L.channels, L.dct
        coef = g[:, :L.b1].reshape(N, H, C, K)
        w1 = np.zeros((N, H, R, C))
        for k in range(K):
            s = math.sqrt((1.0 if k == 0 else 2.0) / R)
            for r in range(R):
                w1[:, :, r, :] += s * math.cos(math.pi * (r + 0.5) * k / R) * coef[:, :, :, k]
        w1 = w1.reshape(N, H, n_in)
    else:
        w1 = g[:, L.w1:L.b1].reshape(N, H, n_in).copy()
    b1 = g[:, L.b1:L.w2]
    w2 = g[:, L.w2:L.b2].reshape(N, 2, H).copy()
    b2 = g[:, L.b2:L.b2 + 2]
    if L.masked:
        on = g[:, L.mask:L.mask + L.mask_length] > 0.5
        w1 = w1 * on[:, :H * n_in].reshape(N, H, n_in)
        w2 = w2 * on[:, H * n_in:].reshape(N, 2, H)
    return w1, b1, w2, b2


def brain(scenario: Scenario, genome: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """float [N, 2] (turn, throttle) from the documented genome layout, with numpy."""
    w1, b1, w2, b2 = decoded_weights(scenario, genome)
    x = obs.reshape(obs.shape[0], -1).astype(np.float64)
    hid = np.tanh(np.einsum("nhi,ni->nh", w1, x) + b1)
    z = np.einsum("noh,nh->no", w2, hid) + b2
    return np.stack([np.tanh(z[:, 0]), 1.0 / (1.0 + np.exp(-z[:, 1]))], axis=1)


def engine_brains(layout, genomes: np.ndarray) -> np.ndarray:
    """The brains a world stores for ``genomes`` (its ``work.weights``): each genome
    decoded (``GenomeLayout.decode``) without its speed gene, W1 stored input-major
    (W1[h, j] at j*H + h), as kernels/decode.py documents."""
    H, n_in = layout.hidden, layout.inputs
    rows = []
    for g in genomes:
        d = layout.decode(g)[:-1]
        d[:H * n_in] = d[:H * n_in].reshape(H, n_in).T.ravel()
        rows.append(d)
    return np.stack(rows)
