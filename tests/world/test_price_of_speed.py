"""The price of speed, against hand computations: a body built for speed burns more life
(``robots.metabolic_cost`` x s^``robots.metabolic_exponent``), and a fast robot turns
less (``robots.lateral_accel``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.errors import ScenarioError
from evosim.scenario import scenario_from_dict
from tests.helpers import small_scenario

EMPTY = {"mines": {"count": 0}, "fruit": {"count": 0}}


def _world(robots: dict, seed: int = 3) -> World:
    return World(small_scenario(robots={"count": 6, "lifespan": 1000, "max_life": 3000,
                                        **robots}, **EMPTY), seed=seed)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_each_step_costs_one_plus_c_times_the_top_speed_to_the_exponent(k):
    c = 0.5
    world = _world({"metabolic_cost": c, "metabolic_exponent": k, "speed_limit": 4.0})
    s = world.writable_state()
    genes = np.array([0.0, 0.5, 1.0, 2.5, 4.0, 4.0], np.float32)
    s.genome[:, -1] = genes
    world.set_genomes(s.genome.copy())
    life0 = world.state.robot_life.copy()
    world.step(7)
    top = np.minimum(genes.astype(np.float64), 4.0)
    power = top.copy()
    for _ in range(k - 1):  # s^k as the kernel multiplies it, left to right
        power = power * top
    want = life0.copy()
    for _ in range(7):
        want -= 1.0 + c * power
    assert np.array_equal(world.state.robot_life, want)
    # By hand: a robot built for 2.5 units per step spends 1 + 0.5 x 2.5^k a step.
    by_hand = {1: 2.25, 2: 4.125, 3: 8.8125, 4: 20.53125}[k]
    assert world.state.robot_life[3] == pytest.approx(1000 - 7 * by_hand, abs=1e-9)
    assert world.state.robot_life[0] == 1000 - 7  # a robot that cannot move pays 1


def test_the_default_price_is_cubic():
    """The model's default, which genesis keeps: 1 + 0.17 s^3, so a robot built for 3
    units per step spends 5.59 life a step and one built for 2 spends 2.36."""
    data = load_scenario("classic").model_dump(mode="json")
    del data["robots"]["metabolic_cost"], data["robots"]["metabolic_exponent"]
    default = scenario_from_dict(data, source="<test>").robots
    assert (default.metabolic_cost, default.metabolic_exponent) == (0.17, 3)
    robots = load_scenario("genesis").robots
    assert (robots.metabolic_cost, robots.metabolic_exponent) == (0.17, 3)
    _assert_two_and_three_cost(_world({"metabolic_cost": 0.17}), 5.59, 2.36)


def test_classic_prices_speed_at_0_08():
    """Classic: 1 + 0.08 s^3 (and a max_age of 3,000), so a robot built for 3 units per
    step spends 3.16 life a step and one built for 2 spends 1.64."""
    robots = load_scenario("classic").robots
    assert (robots.metabolic_cost, robots.metabolic_exponent, robots.max_age) == (0.08, 3, 3000)
    _assert_two_and_three_cost(_world({}), 3.16, 1.64)


def _assert_two_and_three_cost(world: World, at_three: float, at_two: float) -> None:
    s = world.writable_state()
    s.genome[:, -1] = np.float32(3.0)
    s.genome[0, -1] = np.float32(2.0)
    world.set_genomes(s.genome.copy())
    world.step(10)
    assert world.state.robot_life[1] == pytest.approx(1000 - 10 * at_three)
    assert world.state.robot_life[0] == pytest.approx(1000 - 10 * at_two)


def test_the_cost_is_paid_moving_or_not_and_only_while_ageing():
    world = _world({"metabolic_cost": 0.2, "metabolic_exponent": 2})
    s = world.writable_state()
    s.genome[:, -1] = 3.0
    world.set_genomes(s.genome.copy())
    still = np.zeros((6, 2), np.float32)  # no throttle: nobody moves
    xy = world.state.robot_xy.copy()
    world.step(10, actions=still, controlled=np.ones(6, bool))
    assert np.array_equal(world.state.robot_xy, xy)
    assert np.allclose(world.state.robot_life, 1000 - 10 * (1 + 0.2 * 9.0))
    resting = _world({"metabolic_cost": 0.2, "ageing": False})
    resting.step(50)
    assert (resting.state.robot_life == 1000).all()


def test_a_robot_built_for_speed_starves_sooner():
    world = _world({"metabolic_cost": 0.5, "metabolic_exponent": 2, "lifespan": 100,
                    "max_life": 100})
    s = world.writable_state()
    s.genome[:, -1] = np.float32(2.0)  # 1 + 0.5 x 4 = 3 a step: 100 life lasts 34 steps
    s.genome[0, -1] = np.float32(0.0)  # 1 a step: 100 steps
    world.set_genomes(s.genome.copy())
    world.step(33)
    assert world.counters["age_deaths"] == 0
    world.step(1)
    assert world.counters["age_deaths"] == 5 and world.state.robot_age[0] == 34


def test_without_the_price_the_rules_are_the_old_ones():
    free = _world({"metabolic_cost": 0.0, "lateral_accel": 0.0})
    free.step(25)
    assert (free.state.robot_life == 1000 - 25).all()


@pytest.mark.parametrize(("gene", "a"), [(1.0, 0.3), (2.0, 0.3), (4.0, 0.3), (4.0, 2.0),
                                         (3.0, 0.0)])
def test_the_turn_per_step_is_at_most_lateral_accel_over_speed(gene, a):
    world = _world({"lateral_accel": a, "metabolic_cost": 0.0, "speed_limit": 4.5})
    s = world.writable_state()
    s.genome[:, -1] = np.float32(gene)
    world.set_genomes(s.genome.copy())
    actions = np.zeros((6, 2), np.float32)
    actions[:, 0] = 1.0  # full turn
    actions[:, 1] = [1.0, 1.0, 0.5, 0.25, 0.0, 1.0]  # throttle: speed = throttle x gene
    h0 = world.state.robot_heading.copy()
    world.step(1, actions=actions, controlled=np.ones(6, bool))
    turned = (world.state.robot_heading - h0 + math.pi) % (2 * math.pi) - math.pi
    max_turn = math.radians(world.scenario.robots.max_turn_degrees)
    for i, throttle in enumerate(actions[:, 1]):
        v = float(throttle) * gene
        want = max_turn if a == 0 or v * max_turn <= a else a / v
        assert turned[i] == pytest.approx(want, abs=1e-12), (i, v)
        if a > 0 and v > 0:  # the lateral acceleration v x turn rate is bounded by a
            assert v * turned[i] <= a + 1e-12
    # At full speed with a = 0.3, a robot built for 4 turns 0.075 rad (4.3 degrees).
    if (gene, a) == (4.0, 0.3):
        assert turned[0] == pytest.approx(0.075)


def test_the_rule_of_the_price_is_the_same_in_every_scenario_file():
    """One rule (the cube, no turn bound) everywhere; the price itself is a scenario's:
    genesis at the default 0.17, classic and its sparse copy at 0.08."""
    from evosim import list_scenarios

    robots = {n: load_scenario(n).robots for n in list_scenarios()}
    assert {(r.metabolic_exponent, r.lateral_accel) for r in robots.values()} == {(3, 0.0)}
    assert {n: r.metabolic_cost for n, r in robots.items()} == {
        "classic": 0.08, "classic-sparse": 0.08, "genesis": 0.17, "genesis-staged": 0.17}


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("metabolic_cost", -0.1, "robots.metabolic_cost: expected a number from 0"),
    ("metabolic_cost", "fast", "robots.metabolic_cost: expected a number"),
    ("lateral_accel", -1.0, "robots.lateral_accel: expected a number from 0"),
    ("lateral_accel", float("nan"), "robots.lateral_accel: expected"),
    ("metabolic_exponent", 0, "robots.metabolic_exponent: expected an integer from 1 to 8"),
    ("metabolic_exponent", 9, "robots.metabolic_exponent: expected an integer from 1 to 8"),
    ("metabolic_exponent", 2.5, "robots.metabolic_exponent: expected an integer"),
])
def test_bad_prices_are_one_line_errors(key, value, needle):
    data = load_scenario("classic").model_dump(mode="json")
    data["robots"][key] = value
    with pytest.raises(ScenarioError, match=needle) as info:
        scenario_from_dict(data, source="x.toml")
    assert "\n" not in str(info.value)
