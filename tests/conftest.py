"""Shared test set-up: headless SDL, a compiled engine, small scenarios."""

from __future__ import annotations

import os

# Before anything imports pygame: no window, no audio device.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pytest

from evosim import World, load_scenario
from evosim.scenario import Scenario, scenario_from_dict


@pytest.fixture(scope="session", autouse=True)
def compiled_engine() -> None:
    """Compile (or load from cache) every kernel once per test session."""
    world = World(load_scenario("classic"), seed=0)
    world.step(2)
    world.observations()
    world.actions()


def small_scenario(**tables: dict) -> Scenario:
    """Classic with some tables changed, e.g. ``small_scenario(robots={"count": 5})``."""
    data = load_scenario("classic").model_dump(mode="json")
    for table, values in tables.items():
        if isinstance(values, dict):
            data[table] = {**data.get(table, {}), **values}
        else:
            data[table] = values
    return scenario_from_dict(data, source="<test>")


def module_actions(scenario: Scenario, genomes, obs):
    """float32 [N, 2]: each robot's ``policy_module`` (evosim.torch) applied to its own
    flattened observation (torch is imported here, by the tests that have it)."""
    import numpy as np
    import torch

    from evosim.torch import policy_module

    flat = torch.from_numpy(np.ascontiguousarray(obs.reshape(obs.shape[0], -1)))
    with torch.no_grad():
        rows = [policy_module(scenario, genomes[i])(flat[i:i + 1]) for i in range(len(genomes))]
    return torch.cat(rows).numpy()
