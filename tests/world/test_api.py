"""The public World API: shapes, dtypes, names, ranges."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import EvosimError, World, load_scenario
from tests.helpers import small_scenario


def test_state_observations_actions_counters_shapes():
    scenario = load_scenario("classic")
    world = World(scenario, seed=0)
    s = world.state
    N, G = 50, scenario.genome_length
    assert s.robot_xy.shape == (N, 2) and s.robot_heading.shape == (N,)
    assert s.robot_life.shape == (N,) and s.genome.shape == (N, G)
    assert s.mine_xy.shape == (30, 2) and s.fruit_xy.shape == (30, 2)
    for name in ("robot_age", "robot_generation", "robot_lineage", "robot_parent", "robot_id"):
        assert getattr(s, name).shape == (N,)
    assert s.step == 0
    obs = world.observations()
    assert obs.dtype == np.float32 and obs.shape == (N, 16, 2)
    assert world.observation_channels == ("mine", "fruit")
    assert (obs >= 0).all() and (obs <= 1).all()
    act = world.actions()
    assert act.dtype == np.float32 and act.shape == (N, 2)
    assert set(world.counters) >= {"fruit_eaten", "mine_deaths", "age_deaths", "births",
                                   "random_spawns"}
    assert all(v == 0 for v in world.counters.values())
    world.step(100)
    assert world.state.step == 100 and world.step_count == 100


def test_observation_channels_follow_canonical_order():
    scenario = small_scenario(vision={"channels": ["edge", "robot", "mine"]})
    world = World(scenario, seed=0)
    assert world.observation_channels == ("mine", "robot", "edge")
    assert world.observations().shape[2] == 3


def test_observing_does_not_change_the_world():
    a = World(load_scenario("classic"), seed=4)
    b = World(load_scenario("classic"), seed=4)
    a.observations()
    a.actions()
    a.step(300)
    b.step(300)
    np.testing.assert_array_equal(a.state.robot_xy, b.state.robot_xy)


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "3", True])
def test_bad_seed(seed):
    with pytest.raises(EvosimError, match="seed"):
        World(load_scenario("classic"), seed=seed)


@pytest.mark.parametrize("n", [-1, 1.0, "5"])
def test_bad_step_count(n):
    world = World(load_scenario("classic"), seed=0)
    with pytest.raises(ValueError):
        world.step(n)


def test_set_genomes_replaces_brains_and_clips_speed():
    world = World(load_scenario("classic"), seed=0)
    g = np.ones_like(world.state.genome)
    g[:, -1] = 100.0
    world.set_genomes(g)
    assert (world.state.genome[:, :-1] == 1).all()
    assert (world.state.speed_gene == world.scenario.robots.speed_limit).all()
    with pytest.raises(EvosimError, match="shape"):
        world.set_genomes(g[:, :5])
