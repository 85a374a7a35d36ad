"""Scenario model: validated, immutable world settings loaded from TOML."""

from evosim.scenario.genome import GenomeLayout
from evosim.scenario.kinds import CHANNELS, EDGE, OBJECT_KINDS, ObjectKind
from evosim.scenario.loading import (
    SCENARIO_DIR,
    list_scenarios,
    load_scenario,
    saved_scenario,
    scenario_from_dict,
)
from evosim.scenario.model import Scenario

__all__ = [
    "CHANNELS",
    "EDGE",
    "OBJECT_KINDS",
    "SCENARIO_DIR",
    "GenomeLayout",
    "ObjectKind",
    "Scenario",
    "list_scenarios",
    "load_scenario",
    "saved_scenario",
    "scenario_from_dict",
]
