"""Run folders: bad run.json fields and metrics files are one line, or rebuilt.

In-process through ``evosim.cli.main`` (tests.helpers.run_cli asserts the contract);
crashes (signals) in a child process (tests.helpers.run_cli_error).
"""

from __future__ import annotations

import json
import time

import pytest

from evosim import World
from evosim.errors import CheckpointError
from evosim.evolve.checkpoints import FINAL_FILE, world_dir
from evosim.evolve.plan import RunPlan, world_seeds
from tests.helpers import (
    run_cli,
    tiny_scenario,
)


@pytest.fixture
def run_dir(tmp_path):
    """A finished one-world run, written directly (no worker processes)."""
    from evosim.evolve import metrics

    run = tmp_path / "run"
    plan = RunPlan(scenario=tiny_scenario().model_dump(mode="json"), seed=0,
                   seeds=world_seeds(0, 1), steps=20, checkpoint_every=10, metrics_every=10)
    world_dir(run, 0).mkdir(parents=True)
    plan.save(run)
    world = World(tiny_scenario(), seed=plan.seeds[0])
    rows, previous = [], metrics.counters_vector(world)
    for _ in range(2):
        world.step(10)
        rows.append(metrics.metrics_row(world, 0, previous))
        previous = metrics.counters_vector(world)
    metrics.write_rows(world_dir(run, 0) / "metrics.csv", rows)
    world.save(world_dir(run, 0) / FINAL_FILE,
               extra={"world": 0, "run_steps": 20, "metrics_previous": previous})
    metrics.write_rows(run / "metrics.csv", rows)
    return run


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("steps", 20.0, "steps: expected an integer from 1"),
    ("metrics_every", 10.0, "metrics_every: expected an integer from 1"),
    ("seeds", {"a": 1}, "seeds: expected a list of 1 to 4096 integers"),
    ("seeds", [1.5], "seeds: expected a list"),
    ("steps", 10**18, "steps/metrics_every: expected at most 1,000,000 metrics rows"),
    ("steps", True, "steps: expected an integer"),
    ("scenario", "classic", "scenario: expected an object"),
    ("command", [1], "command: expected a list of strings"),
    ("deep", None, "nested too deeply"),
])
def test_bad_run_files_are_one_line(run_dir, tmp_path, key, value, needle):
    plan = json.loads((run_dir / "run.json").read_text())
    plan[key] = value
    text = json.dumps(plan)
    if key == "deep":
        text = text.replace('"deep": null', '"deep": ' + "[" * 100_000 + "]" * 100_000)
    (run_dir / "run.json").write_text(text)
    for argv in (["evolve", "--resume", "run", "--workers", "1"], ["plot", "run"]):
        code, _, err = run_cli(argv, tmp_path)
        assert code == 2 and needle in err and "run.json" in err, err


def test_binary_top_level_metrics_of_a_finished_run_is_rebuilt(run_dir, tmp_path):
    good = (run_dir / "metrics.csv").read_bytes()
    (run_dir / "metrics.csv").write_bytes(b"\xff\xfe\x00garbage\x80" * 100)
    code, _, err = run_cli(["evolve", "--resume", "run", "--workers", "1", "--quiet"], tmp_path)
    assert code == 0, err
    assert (run_dir / "metrics.csv").read_bytes() == good
    code, _, err = run_cli(["plot", "run"], tmp_path)
    assert code == 0, err


def test_binary_world_metrics_are_one_line(run_dir, tmp_path):
    (world_dir(run_dir, 0) / "metrics.csv").write_bytes(b"\xff\x00\x80" * 100)
    code, _, err = run_cli(["evolve", "--resume", "run", "--workers", "1"], tmp_path)
    assert code == 2 and "metrics.csv" in err, err


def test_a_run_json_scenario_with_a_million_fruit_is_refused_on_resume(run_dir, tmp_path):
    plan = json.loads((run_dir / "run.json").read_text())
    plan["scenario"]["fruit"]["count"] = 1_000_000
    (run_dir / "run.json").write_text(json.dumps(plan))
    start = time.monotonic()
    code, _, err = run_cli(["evolve", "--resume", "run", "--workers", "1"], tmp_path)
    assert code == 2 and "fruit.count: expected an integer from 0 to 20000" in err, err
    assert time.monotonic() - start < 5.0


def test_metrics_state_of_wrong_type_in_a_checkpoint_is_one_line(run_dir, tmp_path):
    from evosim.evolve.resuming import start_world

    world = World(tiny_scenario(), seed=RunPlan.load(run_dir).seeds[0])
    world.step(10)
    ckpt = world_dir(run_dir, 0) / "checkpoints" / "step-000000010.npz"
    ckpt.parent.mkdir()
    world.save(ckpt, extra={"metrics_previous": ["x", 1, 2, 3, 4]})
    with pytest.raises(CheckpointError, match="no metrics state"):
        start_world(run_dir, RunPlan.load(run_dir), 0)


def _with_step(row: str, step: str) -> str:
    world, seed, _, rest = row.split(",", 3)
    return ",".join([world, seed, step, rest])


@pytest.mark.parametrize("command", ["plot", "story"])
@pytest.mark.parametrize(("edit", "needle"), [
    (lambda rows: [rows[0], rows[1] + ",7", *rows[2:]], "line 2: expected 16 fields"),
    (lambda rows: [rows[0], rows[1], rows[1], *rows[2:]], "world 0: expected increasing steps"),
    (lambda rows: [rows[0], "-5" + rows[1][1:], *rows[2:]], "world: expected 0 to 0, got -5"),
    (lambda rows: [rows[0], _with_step(rows[1], "9" * 20), *rows[2:]],
     "world 0: expected increasing steps up to"),
    (lambda rows: [rows[0], rows[1].replace(",0,", ",-3,", 1), *rows[2:]], "expected 0 to"),
])
def test_inconsistent_metrics_rows_are_one_line(run_dir, tmp_path, command, edit, needle):
    """Found by hand after the fuzzers: plot divided by zero on repeated steps, and
    story overflowed int64 on a step of 20 digits."""
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    (run_dir / "metrics.csv").write_text("\n".join(edit(rows)) + "\n")
    code, _, err = run_cli([command, "run"], tmp_path)
    assert code == 2 and needle in err and "Warning" not in err, err
    assert not (run_dir / "plots").exists()
