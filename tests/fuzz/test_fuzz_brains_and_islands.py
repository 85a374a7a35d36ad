"""Fuzzing the newer scenario keys and flags: DCT-encoded and sparse (evolved
connections) brains, the [migration] table, and evolve's --migrate-every/--migrants.

Each input goes through ``evosim evolve`` in-process (the stepping itself replaced by a
marker, as in test_fuzz_cli): exit 0, or exit 2 with one line that names the key or
flag at fault. A scenario that loads is also built and stepped, with finite state.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evosim import World, load_scenario
from evosim.errors import ScenarioError
from tests.helpers import TINY_TOML, examples, run_cli, tiny_scenario

# TOML literals: valid TOML, of every type, at and past each key's edges.
NUMBERS = ["0", "1", "2", "3", "4", "5", "8", "16", "255", "256", "257", "-1", "1.5", "0.0",
           "0.002", "0.5", "1.0", "1.01", "-0.1", "100", "101", "1e308", "nan", "inf", "-inf",
           "9223372036854775807", "1000000000"]
OTHERS = ['"dct"', '"direct"', '"DCT"', '"sparse"', '"evolved"', '"dense"', '"ring"',
          '"units"', '"connections"', '"star"', '""', '"4"', "true", "false", "[]", "[4]",
          "{}", '"\\u0000"']
LITERALS = st.sampled_from(NUMBERS + OTHERS)
# (table, key): the DCT and sparse brain keys, the rays they depend on, and migration.
KEYS = [("brain", "encoding"), ("brain", "dct_coefficients"), ("brain", "connections"),
        ("brain", "connection_flip_rate"), ("brain", "initial_connections"),
        ("brain", "initial_pattern"), ("brain", "connection_cost"), ("brain", "hidden"),
        ("vision", "rays"),
        ("migration", "every"), ("migration", "count"), ("migration", "topology")]
# Values that make each key mean something (so that accepted files get stepped).
PLAUSIBLE = {"encoding": ['"dct"', '"direct"'], "connections": ['"evolved"', '"dense"'],
             "topology": ['"ring"'], "dct_coefficients": ["1", "2", "3", "4"],
             "rays": ["3", "4", "6"], "hidden": ["2", "4"], "every": ["0", "5", "10"],
             "count": ["0", "1", "2", "6"], "connection_flip_rate": ["0.0", "0.1", "1.0"],
             "initial_connections": ["0.0", "0.5", "1.0"], "connection_cost": ["0.0", "0.5"],
             "initial_pattern": ['"units"', '"connections"']}


# TINY_TOML as tables of TOML literals, for the generated files to change.
TINY_TABLES = {"robots": {"count": "6"}, "mines": {"count": "4"}, "fruit": {"count": "4"},
               "vision": {"rays": "4"}, "brain": {"hidden": "4"}}


@st.composite
def scenario_files(draw) -> tuple[str, set[tuple[str, str]]]:
    """The tiny scenario with some DCT, sparse, vision and migration keys set; the
    (table, key) pairs set."""
    tables = {t: dict(v) for t, v in TINY_TABLES.items()}
    changed = set()
    for _ in range(draw(st.integers(1, 5))):
        table, key = draw(st.sampled_from(KEYS))
        nasty = draw(st.integers(0, 2)) == 0
        tables.setdefault(table, {})[key] = draw(
            LITERALS if nasty else st.sampled_from(PLAUSIBLE[key]))
        changed.add((table, key))
    lines = ['name = "tiny"']
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
    return "\n".join(lines) + "\n", changed


@pytest.fixture
def no_stepping(monkeypatch):
    """evolve's stepping replaced by a marker (what the summary reads is written)."""
    from evosim.evolve import metrics, runs

    reached: list[str] = []

    def fake_batch(run_dir, plan, *_, **__):
        reached.append("evolve")
        metrics.write_metrics(run_dir, plan)

    monkeypatch.setattr(runs, "run_batch", fake_batch)
    return reached


@settings(max_examples=examples(250), suppress_health_check=list(HealthCheck))
@given(generated=scenario_files())
def test_dct_sparse_and_migration_keys_load_and_run_or_fail_in_one_line(
        tmp_path_factory, no_stepping, generated):
    text, changed = generated
    cwd = tmp_path_factory.mktemp("keys")
    (cwd / "fuzz.toml").write_text(text)
    code, _, err = run_cli(["evolve", "fuzz.toml", "--steps", "30", "--worlds", "2",
                            "--workers", "1", "--out", "run", "--quiet"], cwd)
    if code == 2:
        line = err.strip()
        assert "fuzz.toml" in line, line
        assert any(f"{table}.{key}" in line for table, key in changed), (line, changed)
        event("refused")
        with pytest.raises(ScenarioError):  # the library says the same, as its own kind
            load_scenario(cwd / "fuzz.toml")
        return
    event("accepted")
    scenario = load_scenario(cwd / "fuzz.toml")
    plan = json.loads((cwd / "run" / "run.json").read_text())
    assert plan["scenario"]["brain"] == scenario.model_dump(mode="json")["brain"]
    assert scenario.migration.every == 0 or scenario.migration.count <= scenario.robots.count
    if scenario.brain.encoding == "dct":
        assert scenario.brain.dct_coefficients <= scenario.vision.rays
    world = World(scenario, seed=2)
    world.step(5)
    s = world.state
    assert np.isfinite(s.genome).all() and np.isfinite(s.robot_xy).all()
    assert np.isfinite(world.observations()).all()


MIGRATION_VALUES = st.one_of(
    st.sampled_from(["0", "1", "2", "5", "6", "10"]),  # every and count that fit tiny
    st.sampled_from(["7", "1000000000", "1000000001", "-1", "1.5", "", "x", "1e3", "1_000",
                     "nan", str(2**63), "0x10"]))


@st.composite
def migration_argvs(draw) -> list[str]:
    source = draw(st.sampled_from(["tiny.toml", "tiny.toml", "good.npz"]))
    steps = draw(st.sampled_from(["20", "30"]) if draw(st.integers(0, 4))
                 else st.sampled_from(["0", "-5", "x"]))
    argv = ["evolve", source, "--steps", steps,
            "--workers", "1", "--out", "run", "--quiet"]
    if draw(st.booleans()):
        argv += ["--worlds", draw(st.sampled_from(["1", "2", "3", "0", "-1"]))]
    for flag in draw(st.lists(st.sampled_from(["--migrate-every", "--migrants"]),
                              min_size=1, max_size=3)):
        argv += [flag, draw(MIGRATION_VALUES)]
    if draw(st.integers(0, 5)) == 0:  # with --resume, they belong to the run folder
        argv = ["evolve", "--resume", "run", *argv[2:]]
    return argv


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    (root / "tiny.toml").write_text(TINY_TOML)
    World(tiny_scenario(), seed=0).save(root / "good.npz")
    return root


@settings(max_examples=examples(250), suppress_health_check=list(HealthCheck))
@given(argv=migration_argvs())
def test_migration_flags_run_or_fail_in_one_line(sources, no_stepping, tmp_path_factory,
                                                  argv):
    cwd = tmp_path_factory.mktemp("islands")
    for name in ("tiny.toml", "good.npz"):
        (cwd / name).symlink_to(sources / name)
    code, _, err = run_cli(argv, cwd)
    event(f"exit {code}")
    if code == 2:
        line = err.strip()
        assert any(word in line for word in ("--migrate-every", "--migrants", "--steps",
                                             "--worlds", "--resume", "migrat", "checkpoint")), \
            line
        return
    plan = json.loads((cwd / "run" / "run.json").read_text())
    given_every = [argv[i + 1] for i, a in enumerate(argv) if a == "--migrate-every"]
    if given_every:  # the last one given, as argparse takes it, is what run.json records
        assert plan["scenario"]["migration"]["every"] == int(given_every[-1].replace("_", ""))
