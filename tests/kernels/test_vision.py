"""Vision and brain kernels against the brute-force references in tests/naive.py."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evosim import ScenarioError, World
from tests import naive
from tests.helpers import examples, small_scenario

SLOW_OR_FILTERED = [HealthCheck.too_slow, HealthCheck.filter_too_much]

CHANNEL_SETS = [
    ["mine", "fruit"],
    ["mine", "fruit", "robot", "edge"],
    ["robot"],
    ["edge", "fruit"],
    ["mine"],
]


@st.composite
def layouts(draw):
    """A small world with objects anywhere, overlapping or not."""
    width = draw(st.floats(200, 600))
    height = draw(st.floats(200, 600))
    rays = draw(st.integers(1, 24))
    # Every brain the engine runs: direct or dct genes, dense or evolved connections.
    brain = {"connections": draw(st.sampled_from(["dense", "evolved"])),
             "initial_connections": draw(st.floats(0, 1)),
             "encoding": draw(st.sampled_from(["direct", "dct"])),
             "dct_coefficients": draw(st.integers(1, rays))}
    tables = dict(
        brain=brain,
        world={"width": width, "height": height},
        robots={"count": draw(st.integers(1, 8)), "radius": draw(st.floats(1, 10))},
        mines={"count": draw(st.integers(0, 8)), "radius": draw(st.floats(1, 12))},
        fruit={"count": draw(st.integers(0, 8)), "radius": draw(st.floats(1, 12))},
        vision={
            "rays": rays,
            "fov_degrees": draw(st.floats(5, 360, exclude_max=True)),
            "range": draw(st.floats(10, 400)),
            "channels": draw(st.sampled_from(CHANNEL_SETS)),
        },
    )
    try:
        scenario = small_scenario(**tables)
    except ScenarioError:  # too many mines for free places: not a world
        assume(False)
    world = World(scenario, seed=draw(st.integers(0, 2**32)))
    s = world.writable_state()
    r = scenario.robots.radius

    def points(n, margin):
        xs = draw(st.lists(st.floats(margin, width - margin), min_size=n, max_size=n))
        ys = draw(st.lists(st.floats(margin, height - margin), min_size=n, max_size=n))
        return np.array([xs, ys]).T.reshape(n, 2)

    s.robot_xy[:] = points(s.robot_xy.shape[0], r)
    s.robot_heading[:] = draw(st.lists(st.floats(-math.pi, math.pi, exclude_max=True),
                                       min_size=len(s.robot_heading),
                                       max_size=len(s.robot_heading)))
    if s.mine_xy.shape[0]:
        s.mine_xy[:] = points(s.mine_xy.shape[0], 0)
    if s.fruit_xy.shape[0]:
        s.fruit_xy[:] = points(s.fruit_xy.shape[0], 0)
    # A mine exactly where a robot stands, and a fruit on a ray, now and then.
    if s.mine_xy.shape[0] and draw(st.booleans()):
        s.mine_xy[0] = s.robot_xy[0]
    return world


@settings(max_examples=examples(120), suppress_health_check=SLOW_OR_FILTERED)
@given(layouts())
def test_vision_matches_brute_force_reference(world):
    got = world.observations()
    want = naive.observe(world.scenario, world.state)
    assert got.shape == want.shape
    # Same formula, same float64 steps: equal up to float32 rounding.
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
    # Each ray reports at most one channel.
    assert ((got > 0).sum(axis=2) <= 1).all()


@settings(max_examples=examples(40), suppress_health_check=SLOW_OR_FILTERED)
@given(layouts())
def test_actions_match_numpy_brain(world):
    obs = world.observations()
    got = world.actions()
    want = naive.brain(world.scenario, np.asarray(world.state.genome), obs)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert (got[:, 0] >= -1).all() and (got[:, 0] <= 1).all()
    assert (got[:, 1] >= 0).all() and (got[:, 1] <= 1).all()


def test_closer_things_give_stronger_signals():
    scenario = small_scenario(
        robots={"count": 1}, mines={"count": 1}, fruit={"count": 0},
        vision={"rays": 1, "range": 100.0, "channels": ["mine"]},
    )
    world = World(scenario, seed=0)
    s = world.writable_state()
    s.robot_xy[0] = (100.0, 300.0)
    s.robot_heading[0] = 0.0
    readings = []
    for gap in (90.0, 60.0, 30.0):
        s.mine_xy[0] = (100.0 + gap, 300.0)
        readings.append(float(world.observations()[0, 0, 0]))
    # Surface at gap - radius: 1 - (gap - 8) / 100.
    np.testing.assert_allclose(readings, [0.18, 0.48, 0.78], atol=1e-6)
    s.mine_xy[0] = (100.0, 400.0)  # 90 degrees off the single ray: unseen
    assert world.observations()[0, 0, 0] == 0.0


def test_nearest_hit_occludes_what_is_behind():
    scenario = small_scenario(
        robots={"count": 1}, mines={"count": 1}, fruit={"count": 1},
        vision={"rays": 3, "fov_degrees": 60.0, "range": 150.0, "channels": ["mine", "fruit"]},
    )
    world = World(scenario, seed=0)
    s = world.writable_state()
    s.robot_xy[0] = (100.0, 300.0)
    s.robot_heading[0] = 0.0
    s.fruit_xy[0] = (140.0, 300.0)  # in front
    s.mine_xy[0] = (180.0, 300.0)  # behind the fruit on the same ray
    obs = world.observations()[0]
    assert obs[1, 1] > 0 and obs[1, 0] == 0  # middle ray sees only the fruit
    np.testing.assert_allclose(obs[1, 1], 1 - 32 / 150, atol=1e-6)


def _assert_input_list_is_the_nonzero_obs(world: World) -> None:
    work = world._scratch
    flat = work.obs.reshape(work.obs.shape[0], -1)
    for i in range(flat.shape[0]):
        nz = np.flatnonzero(flat[i])
        n = int(work.n_seen[i])
        assert n == len(nz)
        assert work.seen[i, :n].tolist() == nz.tolist()
        assert work.seen_val[i, :n].tobytes() == flat[i, nz].tobytes()


@settings(max_examples=examples(40), suppress_health_check=SLOW_OR_FILTERED)
@given(layouts())
def test_the_brains_input_list_is_the_nonzero_observations(world):
    """What the brain sums: in a tick, the list vision writes beside obs; from
    World.actions(), the list index_inputs builds from obs. Both are obs's non-zero
    entries in input order, with their float32 values."""
    world.step(1)
    _assert_input_list_is_the_nonzero_obs(world)
    world.actions()
    _assert_input_list_is_the_nonzero_obs(world)
