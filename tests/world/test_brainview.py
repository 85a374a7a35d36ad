"""A brain seen from outside: the numpy brain equals the kernels', the synthetic view of
one object equals what the vision kernel reports, and the response map follows them."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.world.brainview import (
    brain_outputs,
    input_labels,
    response_map,
    single_object_observation,
)
from tests.helpers import small_scenario


def test_numpy_brain_equals_the_kernels_brain():
    world = World(load_scenario("classic"), seed=4)
    world.step(300)
    obs = world.observations()
    actions = world.actions()
    for i in range(world.scenario.robots.count):
        turn, throttle = brain_outputs(world.scenario, world.state.genome[i], obs[i])
        assert turn == pytest.approx(actions[i, 0], abs=1e-6)
        assert throttle == pytest.approx(actions[i, 1], abs=1e-6)


@pytest.mark.parametrize("forward, right", [(60.0, 0.0), (100.0, 40.0), (30.0, -20.0),
                                            (140.0, -5.0), (10.0, 80.0)])
def test_one_object_in_view_reads_as_the_vision_kernel_sees_it(forward, right):
    scenario = small_scenario(robots={"count": 1}, mines={"count": 1}, fruit={"count": 1})
    world = World(scenario, seed=0)
    s = world.writable_state()
    s.robot_xy[0] = (400.0, 300.0)
    s.robot_heading[0] = 0.0  # forward = +x, right (positive ray angles) = +y
    s.mine_xy[0] = (400.0 + forward, 300.0 + right)
    s.fruit_xy[0] = (20.0, 20.0)  # out of range
    seen = world.observations()[0]
    made = single_object_observation(scenario, "mine", np.array(forward), np.array(right))
    assert np.abs(seen - made).max() < 1e-5
    assert (seen.sum() > 0) == (made.sum() > 0)


def test_response_map_is_the_brain_on_those_views():
    world = World(load_scenario("classic"), seed=1)
    sc = world.scenario
    genome = world.state.genome[3]
    resp = response_map(sc, genome, "fruit", angles=9, distances=5)
    assert resp["turn"].shape == (5, 9) and resp["throttle"].shape == (5, 9)
    assert np.all(np.abs(resp["turn"]) <= 1) and np.all((resp["throttle"] >= 0)
                                                         & (resp["throttle"] <= 1))
    a, d = resp["angle"][2], resp["distance"][1]
    obs = single_object_observation(sc, "fruit", d * np.cos(a), d * np.sin(a))
    assert obs.sum() > 0
    turn, throttle = brain_outputs(sc, genome, obs)
    assert resp["turn"][1, 2] == turn and resp["throttle"][1, 2] == throttle
    assert input_labels(sc)[:3] == ["ray 0 mine", "ray 0 fruit", "ray 1 mine"]
    assert len(input_labels(sc)) == sc.n_inputs
