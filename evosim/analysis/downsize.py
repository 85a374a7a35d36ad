"""Down-sizing: a smaller dense brain fitted to a brain's own outputs.

The observations come from a fresh world of the checkpoint's robots (so they are
what such robots meet); each brain's (turn, throttle) on them is the target, and a
brain with fewer hidden units is fitted to it by full-batch Adam in float64.
"""

from __future__ import annotations

import numpy as np

from evosim.analysis.codecs import Compressed
from evosim.scenario import Scenario, scenario_from_dict
from evosim.scenario.genome import GenomeLayout
from evosim.world import World

FIT_STEPS = 600
"""Ticks of the world whose observations ``downsize`` fits to (every 3rd recorded)."""
FIT_SAMPLES = 2048
"""Observations ``downsize`` fits to, evenly spaced over those recorded."""
FIT_ITERATIONS = 400
"""Full-batch Adam steps of :func:`fit_small`."""
FIT_RATE = 0.1
"""Adam's step size in :func:`fit_small` (evolved weights are large: |w| ~ 10)."""


def with_hidden(scenario: Scenario, hidden: int) -> Scenario:
    """``scenario`` with ``hidden`` hidden units."""
    data = scenario.model_dump(mode="json")
    data["brain"]["hidden"] = hidden
    return scenario_from_dict(data)


def record_observations(scenario: Scenario, genomes: np.ndarray, world_seed: int,
                        steps: int = FIT_STEPS, samples: int = FIT_SAMPLES) -> np.ndarray:
    """float64 [samples, inputs]: what the robots of ``genomes`` see in a fresh world of
    ``scenario``, every 3rd tick for ``steps`` ticks, evenly spaced rows."""
    world = World(scenario, seed=world_seed)
    world.set_genomes(genomes)
    seen = []
    for _ in range(max(steps // 3, 1)):
        world.step(3)
        seen.append(world.observations().reshape(genomes.shape[0], -1).astype(np.float64))
    rows = np.concatenate(seen)
    return rows[np.linspace(0, len(rows) - 1, min(samples, len(rows))).astype(np.int64)]


def _forward(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """(hidden [N, S, k], outputs [N, S, 2] = (turn, throttle)) of N brains on x [S, I]."""
    hidden = np.tanh(x[None] @ w1.transpose(0, 2, 1) + b1[:, None])
    z = hidden @ w2.transpose(0, 2, 1) + b2[:, None]
    return hidden, np.stack([np.tanh(z[..., 0]), 1.0 / (1.0 + np.exp(-z[..., 1]))], -1)


def fit_small(genomes: np.ndarray, layout: GenomeLayout, x: np.ndarray, hidden: int,
              iterations: int = FIT_ITERATIONS) -> list[np.ndarray]:
    """[W1 [N, k, I], b1 [N, k], W2 [N, 2, k], b2 [N, 2]] (float64) of N brains with
    ``hidden`` = k units, each fitted to its own brain's (turn, throttle) on ``x``.

    Each starts from the brain's k most important hidden units (the norm of a unit's
    output weights times the spread of its activation on ``x``), the output biases
    taking up the mean contribution of the units left out; then full-batch Adam lowers
    the mean squared difference of the outputs. Deterministic.
    """
    parts = [layout.split(np.asarray(g, np.float64)) for g in genomes]
    big = [np.stack([p[j] for p in parts]) for j in range(4)]
    h, target = _forward(x, *big)
    weight = np.linalg.norm(big[2], axis=1) * h.std(axis=1)  # [N, H]
    top = np.sort(np.argsort(-weight, axis=1, kind="stable")[:, :hidden], axis=1)
    rows = np.arange(len(genomes))[:, None]
    w2_units = big[2].transpose(0, 2, 1)  # [N, H, 2]
    dropped = np.ones(weight.shape, bool)
    dropped[rows, top] = False
    b2 = big[3] + np.einsum("nh,nho->no", h.mean(axis=1) * dropped, w2_units)
    params = [big[0][rows, top], big[1][rows, top], w2_units[rows, top].transpose(0, 2, 1).copy(),
              b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, iterations + 1):
        grads = _gradients(x, params, target)
        for p, g, mp, vp in zip(params, grads, m, v, strict=True):
            mp *= 0.9
            mp += 0.1 * g
            vp *= 0.999
            vp += 0.001 * g * g
            p -= FIT_RATE * (mp / (1 - 0.9**t)) / (np.sqrt(vp / (1 - 0.999**t)) + 1e-8)
    return params


def _gradients(x: np.ndarray, params: list[np.ndarray], target: np.ndarray
               ) -> list[np.ndarray]:
    """Gradients of the mean squared output error, per brain, for :func:`fit_small`."""
    w1, b1, w2, b2 = params
    hidden, y = _forward(x, w1, b1, w2, b2)
    dy = 2.0 * (y - target) / x.shape[0]
    dz = np.stack([dy[..., 0] * (1 - y[..., 0] ** 2), dy[..., 1] * y[..., 1] * (1 - y[..., 1])],
                  -1)
    dh = (dz @ w2) * (1 - hidden**2)
    return [dh.transpose(0, 2, 1) @ x, dh.sum(1), dz.transpose(0, 2, 1) @ hidden, dz.sum(1)]


def downsize_population(genomes: np.ndarray, scenario: Scenario, hidden: int,
                        x: np.ndarray) -> Compressed:
    """Brains of ``hidden`` units fitted to the originals on observations ``x``."""
    small = with_hidden(scenario, hidden)
    layout = small.genome_layout
    w1, b1, w2, b2 = fit_small(genomes, scenario.genome_layout, x, hidden)
    out = np.zeros((genomes.shape[0], layout.length), np.float32)
    for i in range(out.shape[0]):
        parts = layout.split(out[i])
        for dst, src in zip(parts[:4], (w1[i], b1[i], w2[i], b2[i]), strict=True):
            dst[:] = src
        out[i, layout.speed] = genomes[i, scenario.genome_layout.speed]
    size = len(out[0].astype("<f4").tobytes())
    return Compressed("downsize", hidden, out, float(size), scenario=small)


