"""The NumPy baseline sees and decides exactly as the engine, and keeps the rules."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.bench.baseline import NumpyWorld
from evosim.bench.run import scaled_scenario
from tests.helpers import small_scenario


@pytest.mark.parametrize(
    "channels", [["mine", "fruit"], ["mine", "fruit", "robot", "edge"], ["robot", "edge"]]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_baseline_observations_and_actions_equal_the_engine(channels, seed):
    world = World(small_scenario(vision={"channels": channels, "fov_degrees": 200.0}), seed=seed)
    world.step(300)
    base = NumpyWorld(world.scenario, world.state, seed=seed)
    obs = base.observations()
    np.testing.assert_array_equal(obs, world.observations())
    np.testing.assert_allclose(base.actions(obs), world.actions(), rtol=0, atol=1e-6)


def test_baseline_step_keeps_the_rules():
    scenario = load_scenario("classic")
    world = World(scenario, seed=3)
    base = NumpyWorld(scenario, world.state, seed=3)
    base.step(400)
    s = base.state
    c = s.counters
    assert s.step == 400
    assert c[0] > 0 and c[3] <= c[0]  # fruit eaten, births never exceed it
    assert (s.robot_life > 0).all() and np.isfinite(s.robot_xy).all()
    d = np.hypot(*(s.robot_xy[:, None, :] - s.mine_xy[None, :, :]).transpose(2, 0, 1))
    assert (d >= scenario.robots.radius + scenario.mines.radius).all()
    # The engine's world it was copied from is untouched.
    assert world.step_count == 0


def test_scaled_scenario_keeps_the_density():
    base = load_scenario("classic")
    big = scaled_scenario(base)
    area = big.world.width * big.world.height
    assert big.robots.count == 100 * base.robots.count
    assert area == pytest.approx(100 * base.world.width * base.world.height)
    assert big.mines.count / area == pytest.approx(base.mines.count / (800 * 600))
