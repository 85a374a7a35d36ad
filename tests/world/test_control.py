"""External control: World.step(n, actions=, controlled=) and World.last_tick."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.world import DEATH_AGE, DEATH_MINE, DEATH_NONE
from tests.helpers import assert_states_equal, states_equal


def _world(seed: int = 0) -> World:
    return World(load_scenario("classic"), seed=seed)


def test_no_actions_and_no_controlled_robot_leave_the_trajectory_unchanged():
    plain, none_marked = _world(), _world()
    plain.step(300)
    actions = np.full((50, 2), 0.5, np.float32)
    for _ in range(300):
        none_marked.step(1, actions=actions, controlled=np.zeros(50, bool))
    assert_states_equal(plain, none_marked)
    # The marks hold for one call only: the brains are back afterwards.
    assert np.array_equal(plain.actions(), none_marked.actions())


def test_controlled_robot_follows_its_action_and_the_others_their_brains():
    world, ref = _world(), _world()
    world.step(10)
    ref.step(10)
    brains = world.actions()
    mask = np.zeros(50, bool)
    mask[3] = True
    actions = np.zeros((50, 2), np.float32)
    actions[3] = (1.0, 0.0)  # full turn, no throttle: turns in place
    xy0 = world.state.robot_xy[3].copy()
    h0 = float(world.state.robot_heading[3])
    world.step(1, actions=actions, controlled=mask)
    assert np.array_equal(world.state.robot_xy[3], xy0)
    max_turn = math.radians(world.scenario.robots.max_turn_degrees)
    turned = (float(world.state.robot_heading[3]) - h0 + math.pi) % (2 * math.pi) - math.pi
    assert turned == pytest.approx(max_turn)
    # Every other robot did what its brain said: the same as an uncontrolled world,
    # except where robot 3 changed what they meet (compare slots far from it).
    ref.step(1)
    far = np.hypot(*(ref.state.robot_xy - xy0).T) > 400
    far[3] = False
    assert far.sum() > 5
    assert np.array_equal(world.state.robot_xy[far], ref.state.robot_xy[far])
    assert brains.shape == (50, 2)


def test_actions_are_clipped_and_applied_for_every_tick_of_the_call():
    a, b = _world(), _world()
    wild = np.tile(np.array([[5.0, 7.0]]), (50, 1))
    tame = np.tile(np.array([[1.0, 1.0]], np.float32), (50, 1))
    a.step(20, actions=wild)  # every robot controlled when `controlled` is omitted
    for _ in range(20):
        b.step(1, actions=tame)
    assert_states_equal(a, b)


def test_same_action_sequence_gives_bit_identical_worlds():
    rng = np.random.default_rng(5)
    seq = [rng.uniform([-1, 0], [1, 1], (50, 2)).astype(np.float32) for _ in range(200)]
    mask = np.zeros(50, bool)
    mask[::7] = True
    runs = []
    for _ in range(2):
        world = _world(seed=3)
        for act in seq:
            world.step(1, actions=act, controlled=mask)
        runs.append(world)
    assert_states_equal(*runs)
    uncontrolled = _world(seed=3)
    uncontrolled.step(200)
    assert not states_equal(runs[0], uncontrolled)


def test_last_tick_reports_eating_and_deaths_with_their_cause():
    world = _world()
    deaths = {DEATH_MINE: 0, DEATH_AGE: 0}
    eaten = 0
    for _ in range(1500):
        ids = world.state.robot_id.copy()
        fruit = world.state.robot_fruit.copy()
        before = world.counters
        world.step(1)
        tick = world.last_tick
        after = world.counters
        died = tick.death != DEATH_NONE
        # A death is exactly a slot whose robot changed (ids, not slots, name robots).
        assert np.array_equal(died, world.state.robot_id != ids)
        assert int((tick.death == DEATH_MINE).sum()) == after["mine_deaths"] - before["mine_deaths"]
        assert int((tick.death == DEATH_AGE).sum()) == after["age_deaths"] - before["age_deaths"]
        assert int(tick.ate.sum()) == after["fruit_eaten"] - before["fruit_eaten"]
        alive = ~died
        assert np.array_equal(world.state.robot_fruit[alive] - fruit[alive], tick.ate[alive])
        for cause in deaths:
            deaths[cause] += int((tick.death == cause).sum())
        eaten += int(tick.ate.sum())
    assert deaths[DEATH_MINE] > 0 and deaths[DEATH_AGE] > 0 and eaten > 0
    with pytest.raises(ValueError):
        world.last_tick.death[0] = 1  # read-only


def test_controlled_robot_is_replaced_only_when_it_dies():
    world = _world(seed=2)
    mask = np.zeros(50, bool)
    mask[0] = True
    actions = np.zeros((50, 2), np.float32)
    actions[0] = (0.0, 1.0)  # straight ahead: into the wall, sliding, for ever
    robot = int(world.state.robot_id[0])
    for _ in range(1200):
        world.step(1, actions=actions, controlled=mask)
        if world.last_tick.death[0] != DEATH_NONE:
            assert int(world.state.robot_id[0]) != robot
            robot = int(world.state.robot_id[0])
        else:
            assert int(world.state.robot_id[0]) == robot


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"actions": np.zeros((49, 2))},
     r"expected numbers of shape \[50, 2\], got float64 of shape \[49, 2\]"),
    ({"actions": np.zeros((50, 2)), "controlled": np.zeros(50, int)},
     r"expected bool of shape \[50\], got int64"),
    ({"actions": np.full((50, 2), np.nan)}, r"expected finite numbers, got \[nan, nan\] in row 0"),
    ({"controlled": np.ones(50, bool)}, "controlled robots need actions="),
    ({"actions": np.array([["a", "b"]] * 50)}, "expected numbers"),
])
def test_bad_control_arguments_are_one_line_errors(kwargs, message):
    world = _world()
    with pytest.raises(ValueError, match=message) as info:
        world.step(1, **kwargs)
    assert "\n" not in str(info.value)
    assert world.step_count == 0
    # Nothing is left marked after a refused call.
    plain = _world()
    world.step(5)
    plain.step(5)
    assert_states_equal(world, plain)


def test_nan_in_an_uncontrolled_row_is_ignored():
    world = _world()
    actions = np.full((50, 2), np.nan)
    actions[1] = (0.0, 0.0)  # no turn, no throttle: robot 1 stays where it is
    mask = np.zeros(50, bool)
    mask[1] = True
    xy = world.state.robot_xy[1].copy()
    world.step(1, actions=actions, controlled=mask)
    assert world.step_count == 1
    assert np.array_equal(world.state.robot_xy[1], xy)


def test_observations_into_a_buffer():
    world = _world()
    flat = np.empty((50, 32), np.float32)
    assert world.observations(out=flat) is flat
    assert np.array_equal(flat.reshape(50, 16, 2), world.observations())
    with pytest.raises(ValueError, match="expected float32 of shape"):
        world.observations(out=np.empty((50, 32), np.float64))
