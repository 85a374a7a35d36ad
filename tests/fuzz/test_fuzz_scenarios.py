"""Fuzzing scenarios: generated settings and mutated TOML files.

Every input either loads (and then builds and steps a world quickly, with
finite state) or is refused with one ScenarioError line; nothing else.
"""

from __future__ import annotations

import math
import time

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evosim import ScenarioError, World, limits, load_scenario
from evosim.errors import EvosimError
from evosim.scenario import CHANNELS, SCENARIO_DIR, Scenario, scenario_from_dict
from tests.helpers import examples

# Values that broke or nearly broke the kernels in the past, and their neighbours.
NASTY = st.sampled_from([
    math.inf, -math.inf, math.nan, 0.0, -0.0, -1.0, 1e-310, 5e-324, 1e-5, 1e39, 3.4e38, 1e300,
    0, -1, 1, 2, 255, 256, 257, 359.999, 360.0, 360, 20_000, 20_001, 1_000_000, 10**9, 2**62,
    2**62 + 1, 2**63 - 1, 2**64, 2**70, "", "x", "\0", "../../escaped", "/abs/path", ".", "..",
    "a" * 65, True, False, [], [1, 2], {}, {"x": 1}, None,
])
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
VALUES = st.one_of(NASTY, FLOATS, st.integers(-(2**70), 2**70), st.text(max_size=8))

BASE = load_scenario("classic").model_dump(mode="json")
KEYS = [(table, key) for table, values in BASE.items() if isinstance(values, dict)
        for key in values]
PHASE_KEYS = [("mines", "count"), ("fruit", "count"), ("fruit", "life_bonus"),
              ("evolution", "mutation_rate"), ("evolution", "mutation_sigma")]

# Small worlds where a generated scenario is also built and stepped.
SMALL = {"robots": {"count": 8}, "mines": {"count": 5}, "fruit": {"count": 5},
         "vision": {"rays": 5}, "brain": {"hidden": 4}}


def plausible(base: object) -> st.SearchStrategy:
    """Values of the base value's type, from zero to well past it (edges included)."""
    if isinstance(base, bool):
        return st.booleans()
    if isinstance(base, int):
        return st.one_of(st.integers(0, 2 * base + 2), st.sampled_from([0, 1, base * 10]))
    if isinstance(base, float):
        return st.one_of(st.floats(0.0, 2 * base + 1.0),
                         st.sampled_from([0.0, 0.01, base * 0.5, base * 10]))
    if isinstance(base, list):
        return st.lists(st.sampled_from(CHANNELS), min_size=1,
                        max_size=4, unique=True)
    return st.just(base)


@st.composite
def scenario_dicts(draw) -> dict:
    """Classic (made small) with a few keys, top-level fields or phases set to odd or
    plausible values."""
    data = {t: dict(v) if isinstance(v, dict) else v for t, v in BASE.items()}
    for table, values in SMALL.items():
        data[table].update(values)
    data["evolution"]["seed_brain"] = None
    for _ in range(draw(st.integers(1, 4))):
        table, key = draw(st.sampled_from(KEYS))
        nasty = draw(st.integers(0, 3)) == 0
        original = SMALL.get(table, {}).get(key, BASE[table][key])
        data[table][key] = draw(VALUES if nasty else plausible(original))
    if draw(st.booleans()):
        data[draw(st.sampled_from(["name", "description", "phases"]))] = draw(VALUES)
    if draw(st.booleans()):
        table, key = draw(st.sampled_from(PHASE_KEYS))
        data["phases"] = [{"step": draw(st.one_of(st.integers(0, 50), VALUES)),
                           table: {key: draw(VALUES)}}]
    return data


def _finite_everywhere(scenario: Scenario) -> bool:
    def walk(x: object) -> bool:
        if isinstance(x, float):
            return math.isfinite(x)
        if isinstance(x, dict):
            return all(walk(v) for v in x.values())
        if isinstance(x, list | tuple):
            return all(walk(v) for v in x)
        return True

    return walk(scenario.model_dump())


@settings(max_examples=examples(400), suppress_health_check=list(HealthCheck))
@given(scenario_dicts())
def test_generated_scenarios_load_and_run_or_fail_in_one_line(data):
    start = time.monotonic()
    try:
        scenario = scenario_from_dict(data, source="<fuzz>")
    except ScenarioError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("<fuzz>: ")
        event("refused")
        return
    event("accepted")
    assert _finite_everywhere(scenario)
    assert scenario.memory_bytes() <= limits.STATE_MEMORY_BUDGET
    assert scenario.vision.fov_degrees < 360
    assert scenario.mine_capacity <= limits.MAX_OBJECTS >= scenario.fruit_capacity
    if scenario.robots.count <= 1000 and scenario.genome_length <= 100_000:
        try:
            world = World(scenario, seed=1)
        except EvosimError as exc:  # e.g. a seed_brain file that does not exist
            assert "\n" not in str(exc)
            event("refused when built")
            return
        event("stepped")
        world.step(3)
        s = world.state
        assert np.isfinite(s.robot_xy).all() and np.isfinite(s.mine_xy).all()
        assert np.isfinite(s.genome).all()
        assert (s.robot_life >= 0).all()
    assert time.monotonic() - start < 10.0


CLASSIC_TEXT = (SCENARIO_DIR / "classic.toml").read_bytes()


@st.composite
def mutated_toml(draw) -> bytes:
    """classic.toml with bytes flipped, deleted, inserted, or a line replaced by a nasty one."""
    text = bytearray(CLASSIC_TEXT)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "line"]))
        at = draw(st.integers(0, len(text) - 1))
        if op == "flip":
            text[at] = draw(st.integers(0, 255))
        elif op == "delete":
            del text[at:at + draw(st.integers(1, 20))]
        elif op == "insert":
            text[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            lines = bytes(text).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = draw(st.sampled_from([
                b"range = inf", b"count = 1000000", b"fov_degrees = 360", b"radius = 1e-310",
                b"speed_limit = 1e39", b"x = " + b"[" * 2000 + b"]" * 2000,
                b"y = " + b"{a=" * 600 + b"1" + b"}" * 600, b'name = "../x"', b"step = -1",
                b"\x00", b"\xff\xfe", b"[[phases]]\nstep = 147573952589676412928",
            ]))
            text = bytearray(b"\n".join(lines))
        if not text:
            text = bytearray(b"#")
    return bytes(text)


@settings(max_examples=examples(300), suppress_health_check=list(HealthCheck))
@given(mutated_toml())
def test_mutated_scenario_files_load_or_fail_in_one_line(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("toml") / "fuzz.toml"
    path.write_bytes(text)
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        assert "\n" not in str(exc) and "fuzz.toml" in str(exc)
        event("refused")
        return
    event("accepted")
    assert _finite_everywhere(scenario)
    assert scenario.memory_bytes() <= limits.STATE_MEMORY_BUDGET
