"""Brains: each robot's MLP from observations to (turn, throttle), and random genomes."""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from evosim.kernels._jit import inlined, kernel
from evosim.kernels.layout import (
    S_SPAWN_GENOME,
    S_SPAWN_MASK,
)
from evosim.kernels.rng import base_normal_pair, base_uniform, stream_base


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
def _hidden_layer(i, row, p, work):
    """Robot i's hidden layer tanh(W1 x + b1) into row ``row`` of ``work.hid``, from
    the non-zero inputs vision listed (``work.seen``, ``seen_val``, ``n_seen``)."""
    weights = work.weights
    seen = work.seen
    seen_val = work.seen_val
    n_seen = work.n_seen
    hid = work.hid
    H = p.hidden
    w1 = p.w1
    b1 = p.b1
    # Slices, then indices from range(): Numba adds no negative-index
    # wraparound, so the loops over h load contiguous lanes.
    wb1 = weights[i, b1:b1 + H]
    for h in range(H):
        hid[row, h] = np.float64(wb1[h])
    for q in range(n_seen[i]):
        v = np.float64(seen_val[i, q])
        j = w1 + seen[i, q] * H  # W1[h, input] lies at j + h
        wj = weights[i, j:j + H]
        for h in range(H):
            hid[row, h] += np.float64(wj[h]) * v
    # tanh(x) = 1 - 2 / (exp(2x) + 1) as in :func:`tanh`, in two loops: the exp
    # calls, then the divisions in SIMD lanes. e = inf gives exactly 1.0 and
    # e = 0 exactly -1.0, tanh's saturated values.
    for h in range(H):
        x = hid[row, h]
        hid[row, h] = np.inf if x > 20.0 else (0.0 if x < -20.0 else math.exp(2.0 * x))
    for h in range(H):
        hid[row, h] = 1.0 - 2.0 / (hid[row, h] + 1.0)


@inlined
def think_rows(i0, i1, row, s, p, work):
    """The brains of robots ``i0..i1-1`` (row ``row`` of ``work.hid`` their hidden layer)
    on their observations into ``work.actions`` = (turn, throttle).

    It reads the observation in the sparse form vision writes beside ``work.obs``
    (``work.seen``, ``seen_val``, ``n_seen``: the non-zero inputs in input order;
    :func:`index_inputs` makes it from ``work.obs`` set any other way).

    The weights come from ``work.weights``, decoded at birth (see kernels/decode.py:
    W1 input-major, then b1, W2, b2 at offsets ``p.b1``, ``p.w2``, ``p.b2``, set from
    :class:`evosim.scenario.genome.GenomeLayout`). Hidden = tanh(W1 x + b1); turn =
    tanh(z0) in [-1, 1]; throttle = sigmoid(z1) in [0, 1]. Each sum runs in float64 in
    input order (b1[h], then + W1[h, j] x[j] for j = 0, 1, ...); zero inputs are
    skipped (they are not in the list), which changes nothing but the work. The H
    hidden sums are independent, so the loop over h may use SIMD lanes without
    changing any sum's order (no fastmath: nothing is reassociated).
    A robot marked in ``work.control`` skips its brain and takes its row of
    ``work.control_actions`` instead (external control: Gymnasium, PettingZoo).
    """
    weights = work.weights
    hid = work.hid
    actions = work.actions
    control = work.control
    control_actions = work.control_actions
    H = p.hidden
    w2 = p.w2
    b2 = p.b2
    for i in range(i0, i1):
        if control[i]:
            actions[i, 0] = control_actions[i, 0]
            actions[i, 1] = control_actions[i, 1]
            continue
        _hidden_layer(i, row, p, work)
        z0 = np.float64(weights[i, b2])
        z1 = np.float64(weights[i, b2 + 1])
        wz0 = weights[i, w2:w2 + H]
        wz1 = weights[i, w2 + H:w2 + 2 * H]
        for h in range(H):
            z0 += np.float64(wz0[h]) * hid[row, h]
            z1 += np.float64(wz1[h]) * hid[row, h]
        actions[i, 0] = np.float32(tanh(z0))
        actions[i, 1] = np.float32(1.0 / (1.0 + math.exp(-z1)))


@inlined
def think_all(s, p, work):
    """Every robot's brain (:func:`think_rows`), in T = ``work.hid.shape[0]`` chunks
    of rows, chunk ``row`` with its own row of ``work.hid`` (see sense_all)."""
    N = work.weights.shape[0]
    T = work.hid.shape[0]
    for row in prange(T):
        think_rows(row * N // T, (row + 1) * N // T, row, s, p, work)


@kernel
def index_inputs(work):
    """The sparse form of ``work.obs`` that the brain reads (``work.seen``,
    ``seen_val``, ``n_seen``: each robot's non-zero inputs, in input order), for
    observations not written by vision (which writes both)."""
    obs = work.obs
    N, R, C = obs.shape
    for i in range(N):
        n = 0
        for k in range(R):
            for c in range(C):
                if obs[i, k, c] != 0.0:
                    work.seen[i, n] = k * C + c
                    work.seen_val[i, n] = obs[i, k, c]
                    n += 1
        work.n_seen[i] = n


@inlined
def decide_all(s, p, work):
    """Actions of every robot for ``work.obs`` (however it was written) into
    ``work.actions``."""
    index_inputs(work)
    think_all(s, p, work)


@kernel
def random_genome(i, key, step, limit, s, p):
    """Brain genes ~ N(0, init_std); max-speed gene uniform in its initial range,
    clipped to the speed ``limit`` in force. With evolved connections each mask gene
    is 1.0 with probability ``p.initial_connections``, else 0.0 (its own stream; the
    other genes are drawn as in a dense genome of the same length). With
    ``p.initial_units`` k >= 0 instead, k of the H hidden units, a uniform random
    subset, are wired whole (their W1 row and both W2 entries on) and every other mask
    gene is off: unit u is taken with probability (units still wanted) / (H - u),
    from draw n_mask + u of the same stream."""
    g = s.genome[i]
    G = g.shape[0]
    speed = p.speed_gene  # the last gene
    base = stream_base(key, step, S_SPAWN_GENOME, i)
    d = 1  # draw 0 is the speed gene's
    for m in range(G // 2):
        z0, z1, d = base_normal_pair(base, d)
        g[2 * m] = np.float32(p.init_std * z0)
        if 2 * m + 1 < speed:
            g[2 * m + 1] = np.float32(p.init_std * z1)
    u = base_uniform(base, 0)
    g[speed] = np.float32(min(p.speed_init_min + u * (p.speed_init_max - p.speed_init_min),
                              limit))
    if p.n_mask > 0:
        coin = stream_base(key, step, S_SPAWN_MASK, i)
        if p.initial_units >= 0:
            wire_units(g, p.mask, p.n_mask, p.hidden, p.initial_units, coin)
            return
        for j in range(p.n_mask):
            on = base_uniform(coin, j) < p.initial_connections
            g[p.mask + j] = np.float32(1.0) if on else np.float32(0.0)


@inlined
def wire_units(g, mask, n_mask, H, units, coin):
    """The mask block ``g[mask:mask + n_mask]`` with ``units`` of the ``H`` hidden units
    wired whole, a uniform random subset (selection sampling), every other gene off."""
    n_in = (n_mask - 2 * H) // H
    for j in range(n_mask):
        g[mask + j] = np.float32(0.0)
    need = units
    for u in range(H):
        if base_uniform(coin, n_mask + u) * (H - u) < need:
            need -= 1
            for c in range(n_in):
                g[mask + u * n_in + c] = np.float32(1.0)
            g[mask + H * n_in + u] = np.float32(1.0)
            g[mask + H * n_in + H + u] = np.float32(1.0)
