"""Shared test set-up: headless SDL, Hypothesis profiles, a compiled engine.

Only fixtures and settings live here; helpers to import are in tests/helpers.py.
"""

from __future__ import annotations

import os

# Before anything imports pygame: no window, no audio device.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pytest
from hypothesis import HealthCheck, settings

from evosim import World, load_scenario
from tests.helpers import DEV_EXAMPLES

# Property tests scale their example counts by the profile's max_examples (see
# tests.helpers.examples). dev: what `make test` runs; ci: the same budget, derandomized
# and without the local example database, so a CI run is reproducible; deep: 20 times
# the examples, for a search before a release (`pytest --hypothesis-profile deep`).
settings.register_profile("dev", max_examples=DEV_EXAMPLES, deadline=None)
settings.register_profile("ci", max_examples=DEV_EXAMPLES, deadline=None, derandomize=True,
                          database=None, print_blob=True)
settings.register_profile("deep", max_examples=20 * DEV_EXAMPLES, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
# --hypothesis-profile (read by Hypothesis's pytest plugin after this) overrides the variable.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session", autouse=True)
def compiled_engine() -> None:
    """Compile (or load from cache) every kernel once per test session."""
    world = World(load_scenario("classic"), seed=0)
    world.step(2)
    world.observations()
    world.actions()
