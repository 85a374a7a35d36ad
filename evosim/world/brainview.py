"""A brain looked at from outside: its inputs by name, its outputs for any observation,
and its response to a single mine or fruit placed anywhere in its field of view.

Plain numpy (float64, the kernels' math, see ``evosim.kernels.brain.think_all``);
a test checks :func:`brain_outputs` against ``World.actions()`` and
:func:`single_object_observation` against the vision kernel.
"""

from __future__ import annotations

import numpy as np

from evosim.scenario import Scenario
from evosim.world.kernel_args import ray_offsets

CHANNEL_SHORT = {"mine": "mine", "fruit": "fruit", "robot": "robot", "edge": "edge"}


def input_labels(scenario: Scenario) -> list[str]:
    """Names of the brain's inputs in genome order (ray-major: ``k*C + c``), e.g.
    ``"ray 3 fruit"``; ray 0 is the leftmost on screen (most negative angle)."""
    return [f"ray {k} {CHANNEL_SHORT.get(c, c)}" for k in range(scenario.vision.rays)
            for c in scenario.vision.channels]


def brain_outputs(scenario: Scenario, genome: np.ndarray, obs: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(turn in [-1, 1], throttle in [0, 1]) of one genome (float32 [G]) for
    observations float [..., rays, channels]: hidden = tanh(W1 x + b1), turn =
    tanh(z0), throttle = sigmoid(z1), z = W2 hidden + b2."""
    w1, b1, w2, b2, _ = scenario.genome_layout.split(np.asarray(genome, np.float64))
    x = np.asarray(obs, np.float64).reshape(*np.shape(obs)[:-2], -1)
    hidden = np.tanh(x @ w1.T + b1)
    z = hidden @ w2.T + b2
    return np.tanh(z[..., 0]), 1.0 / (1.0 + np.exp(-z[..., 1]))


def single_object_observation(scenario: Scenario, channel: str, forward: np.ndarray,
                              right: np.ndarray) -> np.ndarray:
    """float32 [..., rays, channels]: what a robot sees when the only thing in range is
    one mine or fruit (``channel``) whose centre lies ``forward`` units ahead and
    ``right`` units to the right of it (positive angles, as rays are numbered).
    Each ray meets the object's circle or nothing; a hit reads ``1 - t/range``."""
    chans = scenario.vision.channels
    if channel not in ("mine", "fruit") or channel not in chans:
        raise ValueError(f"channel: expected one of the scenario's mine/fruit channels, "
                         f"got {channel!r}")
    radius = scenario.mines.radius if channel == "mine" else scenario.fruit.radius
    rng = scenario.vision.range
    off = ray_offsets(scenario)
    dx = np.asarray(forward, np.float64)[..., None]
    dy = np.asarray(right, np.float64)[..., None]
    ux, uy = np.cos(off), np.sin(off)
    proj = dx * ux + dy * uy
    perp2 = dx * dx + dy * dy - proj * proj
    r2 = radius * radius
    root = np.sqrt(np.maximum(r2 - perp2, 0.0))
    t = np.maximum(proj - root, 0.0)
    hit = (perp2 <= r2) & (proj + root >= 0.0) & (t < rng)
    out = np.zeros((*np.shape(dx)[:-1], len(off), len(chans)), np.float32)
    out[..., chans.index(channel)] = np.where(hit, 1.0 - t / rng, 0.0)
    return out


def response_map(scenario: Scenario, genome: np.ndarray, channel: str, angles: int = 61,
                 distances: int = 30) -> dict[str, np.ndarray]:
    """The brain's turn and throttle with one ``channel`` object at each point of a polar
    grid over the field of view (angle from the heading, distance of its centre):
    ``angle`` [A] radians, ``distance`` [D], ``turn`` and ``throttle`` [D, A], and
    ``nothing``: (turn, throttle) with nothing in view."""
    half = np.radians(scenario.vision.fov_degrees) / 2
    ang = np.linspace(-half, half, angles)
    dist = np.linspace(scenario.vision.range / distances, scenario.vision.range, distances)
    a, d = np.meshgrid(ang, dist)
    obs = single_object_observation(scenario, channel, d * np.cos(a), d * np.sin(a))
    turn, throttle = brain_outputs(scenario, genome, obs)
    empty = np.zeros((scenario.vision.rays, len(scenario.vision.channels)), np.float32)
    t0, p0 = brain_outputs(scenario, genome, empty)
    return {"angle": ang, "distance": dist, "turn": turn, "throttle": throttle,
            "nothing": np.array([float(t0), float(p0)])}
