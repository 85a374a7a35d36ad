"""The max-speed gene mutates with its own sigma (``evolution.speed_sigma``, unset: half
the brain's ``mutation_sigma``), so that speed drifts less than the brain evolves."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.errors import ScenarioError
from evosim.kernels.life import mutate_genome
from evosim.scenario import saved_scenario, scenario_from_dict
from evosim.world.kernel_args import make_schedule
from tests.helpers import small_scenario

G = 9  # eight brain genes and the speed gene


def _mutants(sigma: float, speed_sigma: float, n: int = 4000, rate: float = 1.0) -> np.ndarray:
    src = np.full(G, 0.25, np.float32)
    src[-1] = 50.0  # far from both clips
    out = np.empty((n, G), np.float32)
    for i in range(n):
        mutate_genome(src, out[i], rate, sigma, 100.0, np.uint64(777), 5, i, 0, 0, 0.0, 1.0,
                      speed_sigma)
    return out - src


def test_the_speed_gene_takes_speed_sigma_and_the_brain_sigma():
    d = _mutants(0.2, 0.05)
    assert np.std(d[:, :-1]) == pytest.approx(0.2, rel=0.05)
    assert np.std(d[:, -1]) == pytest.approx(0.05, rel=0.05)
    # The same draws, only scaled: a speed sigma 4x as large moves the speed gene
    # 4x as far and leaves every brain gene as it was.
    wide = _mutants(0.2, 0.2)
    assert np.array_equal(wide[:, :-1], d[:, :-1])
    assert np.allclose(wide[:, -1], 4 * d[:, -1], atol=1e-5)
    assert not _mutants(0.2, 0.0)[:, -1].any()  # speed sigma 0: the gene stays


def test_an_unset_speed_sigma_is_half_the_mutation_sigma_in_every_phase():
    scenario = small_scenario(evolution={"mutation_sigma": 0.2}, phases=[
        {"step": 100, "evolution": {"mutation_sigma": 0.1}},
        {"step": 200, "evolution": {"speed_sigma": 0.3}},
        {"step": 300, "evolution": {"mutation_sigma": 0.4}},
    ])
    sch = make_schedule(scenario)
    assert sch.mutation_sigma.tolist() == [0.2, 0.1, 0.1, 0.4]
    assert sch.speed_sigma.tolist() == [0.1, 0.05, 0.3, 0.3]
    assert load_scenario("genesis").settings_at(50_000)["speed_sigma"] == 0.075


def test_a_frozen_scenario_keeps_the_speed_sigma_in_force():
    scenario = small_scenario(evolution={"mutation_sigma": 0.2},
                              phases=[{"step": 100, "evolution": {"mutation_sigma": 0.1}}])
    frozen = scenario.frozen_at(150)
    assert frozen.evolution.speed_sigma == 0.05 and frozen.phases == ()


@pytest.mark.parametrize(("where", "value"), [("evolution", -0.1), ("evolution", "slow"),
                                              ("phase", -1.0)])
def test_a_bad_speed_sigma_is_a_one_line_error(where, value):
    data = load_scenario("classic").model_dump(mode="json")
    if where == "phase":
        data["phases"] = [{"step": 10, "evolution": {"speed_sigma": value}}]
        key = r"phases\[0\]\.evolution\.speed_sigma"
    else:
        data["evolution"]["speed_sigma"] = value
        key = r"evolution\.speed_sigma"
    with pytest.raises(ScenarioError, match=f"x.toml: {key}: expected a number from 0") as info:
        scenario_from_dict(data, source="x.toml")
    assert "\n" not in str(info.value)


def test_a_save_from_before_these_rules_resumes_under_the_rules_it_ran_with():
    """Checkpoints and run files written before metabolic_exponent and speed_sigma
    existed lack the keys: they ran under the square and one sigma, and load so."""
    data = load_scenario("genesis").model_dump(mode="json")
    data["phases"].append({"step": 50_000, "evolution": {"mutation_sigma": 0.05}})
    del data["robots"]["metabolic_exponent"]
    del data["evolution"]["speed_sigma"]
    for phase in data["phases"]:
        phase.get("evolution", {}).pop("speed_sigma", None)
    old = saved_scenario(data, source="old.npz (scenario)")
    assert old.robots.metabolic_exponent == 2
    assert old.settings_at(0)["speed_sigma"] == 0.15
    assert old.settings_at(60_000)["speed_sigma"] == 0.05
    # A save of today keeps what it had, unset speed sigma included.
    today = load_scenario("genesis")
    assert saved_scenario(today.model_dump(mode="json")) == today


def test_a_checkpoint_keeps_its_rules(tmp_path):
    scenario = small_scenario(robots={"metabolic_exponent": 4},
                              evolution={"speed_sigma": 0.02})
    world = World(scenario, seed=1)
    world.step(5)
    loaded = World.load(world.save(tmp_path / "w.npz"))
    assert loaded.scenario == scenario
    assert loaded.scenario.robots.metabolic_exponent == 4
    assert loaded.scenario.evolution.speed_sigma == 0.02
