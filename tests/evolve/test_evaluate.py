"""Scenario.settings_at and the evaluation scenario (phases frozen, no reproduction)."""

from __future__ import annotations

import pytest

from evosim.evolve.evaluate import evaluation_scenario
from tests.helpers import small_scenario

PHASES = [
    {"step": 100, "name": "fewer fruit", "fruit": {"count": 10}},
    {"step": 500, "name": "more mines", "mines": {"count": 40},
     "evolution": {"mutation_sigma": 0.05}},
]


def test_settings_at_is_the_last_phase_started():
    scenario = small_scenario(phases=PHASES)
    base = {"mine_count": 30, "fruit_count": 30, "life_bonus": 600, "lifespan": 1000,
            "max_age": 3000, "ageing": True, "speed_limit": 4.5, "reproduction": True,
            "mutation_rate": 1.0, "mutation_sigma": 0.15, "speed_sigma": 0.075}
    first = {**base, "fruit_count": 10}
    second = {**first, "mine_count": 40, "mutation_sigma": 0.05, "speed_sigma": 0.025}
    for step, want, began in [(0, base, 0), (99, base, 0), (100, first, 100),
                              (499, first, 100), (500, second, 500),
                              (10**9, second, 500)]:
        assert scenario.settings_at(step) == {"step": began, **want}, step
    assert small_scenario().settings_at(12345) == {"step": 0, **base}
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="non-negative integer"):
            scenario.settings_at(bad)


def test_evaluation_scenario_freezes_the_active_phase():
    scenario = small_scenario(phases=PHASES)
    frozen = evaluation_scenario(scenario, 600)
    assert frozen.phases == ()
    assert frozen.mines.count == 40 and frozen.fruit.count == 10
    assert frozen.evolution.mutation_sigma == 0.05
    assert frozen.evolution.reproduction is False
    assert frozen.evolution.respawn == "same_genome"
    early = evaluation_scenario(scenario, 150)
    assert early.mines.count == 30 and early.fruit.count == 10


def test_phases_set_lifespan_ageing_reproduction_and_speed_limit():
    scenario = small_scenario(phases=[
        {"step": 10, "robots": {"lifespan": 500, "ageing": False, "max_age": 0,
                                "speed_limit": 1.5},
         "fruit": {"life_bonus": 100}, "evolution": {"reproduction": False}},
    ])
    frozen = scenario.frozen_at(10)
    assert frozen.phases == ()
    assert (frozen.robots.lifespan, frozen.robots.ageing, frozen.robots.max_age) == (500, False, 0)
    assert frozen.robots.speed_limit == 1.5 and frozen.robots.speed_init_max == 1.5
    assert frozen.fruit.life_bonus == 100 and frozen.evolution.reproduction is False
    assert scenario.frozen_at(9).robots.lifespan == 1000
    assert scenario.speed_cap == 4.5


def test_evaluation_scenario_drops_seed_brain():
    # No file is read: the evaluation scenario never seeds from a brain.
    seeded = small_scenario(evolution={"seed_brain": "/nowhere/seed.pt"})
    assert evaluation_scenario(seeded, 0).evolution.seed_brain is None
