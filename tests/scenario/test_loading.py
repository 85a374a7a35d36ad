"""Scenario files: every built-in loads; bad files name file, key, expected, given."""

from __future__ import annotations

import pytest

from evosim import ScenarioError, list_scenarios, load_scenario
from evosim.scenario import SCENARIO_DIR


def test_builtins_exist():
    assert {"classic", "genesis"} <= set(list_scenarios())


@pytest.mark.parametrize("name", list_scenarios())
def test_every_scenario_file_loads(name):
    by_name = load_scenario(name)
    by_path = load_scenario(SCENARIO_DIR / f"{name}.toml")
    assert by_name == by_path
    assert by_name.name == name


def test_classic_has_the_design_defaults():
    s = load_scenario("classic")
    assert (s.world.width, s.world.height) == (800, 600)
    assert (s.robots.count, s.robots.radius) == (50, 6)
    assert (s.mines.count, s.mines.radius, s.fruit.count, s.fruit.radius) == (30, 8, 30, 8)
    assert (s.vision.rays, s.vision.fov_degrees, s.vision.range) == (16, 120, 150)
    assert s.brain.hidden == 16 and s.fruit.life_bonus == 600
    assert s.evolution.mutation_sigma == 0.15 and s.evolution.mutation_rate == 1.0


def test_genesis_is_the_seeds_two_days_and_nothing_more():
    s = load_scenario("genesis")
    assert s.fruit.count == 0 and s.mines.count > 0 and not s.robots.ageing
    assert len(s.phases) == 1, "one phase: day two; speed and balance follow from the rules"
    day_two = s.phases[0]
    assert day_two.step > 0 and day_two.fruit.count > 0 and day_two.robots.ageing
    schedule = s.phase_schedule()
    changed = {k for k in schedule[1] if k != "step" and schedule[1][k] != schedule[0][k]}
    assert changed == {"fruit_count", "ageing"}
    # Speed has its price in the rules: the same rule in classic, at classic's own
    # (lower) price.
    classic = load_scenario("classic").robots
    assert 0 < classic.metabolic_cost < s.robots.metabolic_cost
    assert classic.metabolic_exponent == s.robots.metabolic_exponent


def test_genesis_staged_keeps_the_old_four_acts_for_comparison():
    s = load_scenario("genesis-staged")
    assert len(s.phases) == 3 and s.phases[-1].evolution.mutation_sigma == 0.0


def test_scenario_is_immutable():
    s = load_scenario("classic")
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own ValidationError
        s.vision.rays = 3


BAD = [
    ("[vision]\nrays = -3\n", r"vision\.rays: expected an integer from 1 to 256, got -3"),
    ("[vision]\nrays = 2.5\n", r"vision\.rays: expected an integer from 1 to 256, got 2\.5"),
    ("[vision]\nrays = \"16\"\n", r"vision\.rays: expected an integer .*got '16'"),
    ("[vision]\nbeams = 3\n", r"vision\.beams: unknown key \(valid keys here: rays"),
    ("[visoin]\nrays = 3\n", r"visoin: unknown key \(valid keys here: name, description, world"),
    ("[vision]\nchannels = [\"mine\", \"smell\"]\n", r"vision\.channels: expected a list of"),
    ("[vision]\nchannels = []\n", r"vision\.channels: expected at least one channel"),
    ("[world]\nwidth = 0\n", r"world\.width: expected a number from 0\.01 to 1e\+06, got 0"),
    ("[evolution]\nreproduction = 1\n", r"evolution\.reproduction: expected true or false, got 1"),
    ("[evolution]\nrespawn = \"never\"\n", r"evolution\.respawn: expected one of 'random', "
     r"'same_genome', got 'never'"),
    ("[robots]\nspeed_init_min = 4.0\nspeed_init_max = 3.0\n",
     r"robots\.speed_init_min: expected at most robots\.speed_init_max"),
    ("[mines]\ncount = 5000\n", r"mines\.count: expected mines to leave free room"),
    ("[[phases]]\nstep = 10\n[[phases]]\nstep = 5\n", r"phases\[1\]\.step: expected steps in "
     r"increasing order"),
    ("[[phases]]\nstep = 10\nfruit = { count = -1 }\n", r"phases\[0\]\.fruit\.count: expected an "
     r"integer from 0"),
    ("[[phases]]\nname = \"x\"\n", r"phases\[0\]\.step: missing"),
    ("[vision\nrays = 3\n", r"invalid TOML"),
]


@pytest.mark.parametrize(("text", "pattern"), BAD)
def test_bad_scenario_files_name_file_key_expected_given(tmp_path, text, pattern):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=pattern) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path)) or "bad.toml" in message
    assert "\n" not in message


def test_unknown_scenario_name_lists_builtins():
    with pytest.raises(ScenarioError, match="built-in: classic, classic-sparse, genesis"):
        load_scenario("no-such-world")
