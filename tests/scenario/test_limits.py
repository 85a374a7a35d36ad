"""Scenarios beyond what the kernels hold are refused, in one line, before anything runs.

In-process through ``evosim.cli.main`` (tests.helpers.run_cli asserts the contract);
crashes (signals) in a child process (tests.helpers.run_cli_error).
"""

from __future__ import annotations

import time

import pytest

from evosim import World, limits, load_scenario
from evosim.errors import ScenarioError
from tests.helpers import (
    TINY_TOML,
    run_cli,
    run_cli_error,
    small_scenario,
)


def toml_file(tmp_path, text: str, name: str = "bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("tables", "needle"), [
    ({"vision": {"range": float("inf")}}, "vision.range: expected a number from 0.01"),
    ({"vision": {"fov_degrees": 360.0}}, "vision.fov_degrees: expected a number of at least "
                                         "0.01 and below 360"),
    ({"vision": {"fov_degrees": 5e-324}}, "vision.fov_degrees"),
    ({"robots": {"radius": 1e-310}}, "robots.radius: expected a number from 0.01"),
    ({"mines": {"radius": 5e-324}}, "mines.radius"),
    ({"fruit": {"count": 1_000_000}}, "fruit.count: expected an integer from 0 to 20000"),
    ({"fruit": {"count": 2000}}, "fruit.count: expected mines and fruit to leave free room"),
    ({"world": {"width": 1e6, "height": 1e6}, "mines": {"count": 1_000_000}},
     "mines.count: expected an integer from 0 to 20000"),
    ({"vision": {"rays": 256, "channels": ["mine", "fruit", "robot", "edge"]},
      "brain": {"hidden": 1024}, "robots": {"count": 2000}},
     "robots.count: expected the world's arrays to fit the memory budget of 2 GiB"),
    ({"robots": {"count": 1_000_000}}, "robots.count: expected an integer from 1 to 100000"),
    ({"vision": {"rays": 256, "channels": ["mine", "fruit", "robot", "edge"]},
      "brain": {"hidden": 1024}, "robots": {"count": 100_000}}, "2 GiB per world"),
    ({"phases": [{"step": 2**70}]}, "phases[0].step: expected an integer from 0 to "
                                    "4,611,686,018,427,387,904"),
    ({"phases": [{"step": 10, "fruit": {"count": 1_000_000}}]}, "phases[0].fruit.count"),
    ({"phases": [{"step": 10, "fruit": {"count": 5000}}]}, "fruit.count: expected mines and "
                                                           "fruit to leave free room"),
    ({"evolution": {"seed_brain": "brain\0.pt"}}, "evolution.seed_brain: expected a file path "
                                                 "without NUL"),
    ({"name": "../../escaped"}, "name: expected a plain file-name-safe word"),
    ({"name": "/some/abs/path"}, "name: expected a plain file-name-safe word"),
    ({"name": ".."}, "name: expected a plain file-name-safe word"),
    ({"robots": {"speed_init_max": float("inf")}}, "robots.speed_init_max: expected a number"),
    ({"robots": {"speed_limit": float("inf")}}, "robots.speed_limit: expected a number"),
    ({"robots": {"speed_limit": 1e39}}, "robots.speed_limit: expected a number greater than 0 "
                                        "and at most 1e+06, got 1e+39"),
    ({"mines": {"speed": float("inf")}}, "mines.speed: expected a number from 0 to 1e+06"),
    ({"mines": {"speed": float("nan")}}, "mines.speed"),
    ({"evolution": {"offspring_distance": float("inf")}}, "evolution.offspring_distance"),
    ({"phases": [{"step": i} for i in range(1001)]}, "phases: expected at most 1000 phases, "
                                                      "got 1001"),
])
def test_scenarios_beyond_what_the_kernels_hold_are_refused(tables, needle):
    start = time.monotonic()
    with pytest.raises(ScenarioError) as info:
        small_scenario(**tables)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert time.monotonic() - start < 1.0


def test_the_memory_budget_is_checked_before_allocating():
    sc = small_scenario(vision={"rays": 64}, brain={"hidden": 256}, robots={"count": 500})
    # The estimate covers what WorldState allocates.
    state_bytes = sum(a.nbytes for a in World(sc, seed=0).state)
    assert state_bytes <= sc.memory_bytes() <= limits.STATE_MEMORY_BUDGET


@pytest.mark.parametrize("text", [
    "x = " + "[" * 5000 + "]" * 5000,
    "x = " + "{a = " * 3000 + "1" + "}" * 3000,
])
def test_deeply_nested_toml_is_one_line(tmp_path, text):
    path = toml_file(tmp_path, text)
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(path)
    code, _, err = run_cli(["evolve", str(path), "--steps", "1"], tmp_path)
    assert code == 2 and "bad.toml" in err


def test_a_file_name_that_is_not_a_plain_word_still_gives_a_safe_default_name(tmp_path):
    path = toml_file(tmp_path, "[robots]\ncount = 5\n", name="my scenario (2).toml")
    assert load_scenario(path).name == "my-scenario--2-"


def test_vision_range_inf_no_longer_crashes_evolve(tmp_path):
    path = toml_file(tmp_path, TINY_TOML.replace("[vision]\n", "[vision]\nrange = inf\n"))
    result = run_cli_error(["evolve", str(path), "--steps", "5", "--out", "run"], tmp_path)
    assert "vision.range" in result.stderr
    assert not (tmp_path / "run").exists()


def test_escaping_names_write_nothing_outside(tmp_path):
    path = toml_file(tmp_path, 'name = "../../escaped"\n')
    code, _, err = run_cli(["evolve", str(path), "--steps", "1"], tmp_path)
    assert code == 2 and "name: expected a plain file-name-safe word" in err
    assert not (tmp_path.parent.parent / "escaped-seed0").exists()
