"""Scenario model: validated, immutable world settings loaded from TOML."""

from evosim.scenario.loading import SCENARIO_DIR, list_scenarios, load_scenario, scenario_from_dict
from evosim.scenario.model import CHANNELS, Scenario

__all__ = [
    "CHANNELS",
    "SCENARIO_DIR",
    "Scenario",
    "list_scenarios",
    "load_scenario",
    "scenario_from_dict",
]
