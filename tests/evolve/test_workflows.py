"""evolve from a checkpoint, --json summaries, the --workers warning, and the
command line's first impressions (plain evosim, subcommand errors, evaluate on a .toml)."""

from __future__ import annotations

import json

from evosim import World, load_scenario
from evosim.cli import main
from evosim.evolve import metrics
from evosim.evolve.batch import default_workers
from evosim.evolve.checkpoints import FINAL_FILE, METRICS_FILE, world_dir
from evosim.evolve.plan import RunPlan
from evosim.scenario import SCENARIO_DIR
from tests.helpers import assert_states_equal, run_cli_child


def test_evolve_from_a_checkpoint_continues_that_world(tmp_path, capsys):
    world = World(load_scenario("classic"), seed=11)
    world.step(300)
    world.save(tmp_path / "start.npz")
    out = tmp_path / "more"
    assert main(["evolve", str(tmp_path / "start.npz"), "--steps", "500", "--out", str(out),
                 "--metrics-every", "200", "--workers", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["start"] == 300 and summary["steps"] == 800 and summary["worlds"] == 1
    assert summary["seeds"] == [11] and summary["run_dir"] == str(out)
    final = World.load(world_dir(out, 0) / FINAL_FILE)
    world.step(500)
    assert_states_equal(final, world)
    assert [r["step"] for r in metrics.read_rows(out / METRICS_FILE)] == [400, 600, 800]
    assert RunPlan.load(out).start == 300


def test_evolve_json_and_workers_warning(tmp_path, capsys):
    too_many = default_workers() + 3
    assert main(["evolve", "classic", "--steps", "200", "--worlds", str(too_many),
                 "--workers", str(too_many), "--out", str(tmp_path / "r"), "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["worlds"] == too_many and summary["steps"] == 200
    assert {"fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k",
            "final_mean_speed_gene", "max_generation", "seconds"} <= set(summary)
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert f"{too_many} workers is more than the {default_workers()} core" in warnings[0]


def test_plain_evosim_prints_help():
    done = run_cli_child()
    assert done.returncode == 0
    assert "usage: evosim" in done.stdout and "evolve" in done.stdout


def test_argument_errors_name_the_subcommand():
    done = run_cli_child("bench", "--nonsense")
    assert done.returncode == 2
    assert done.stderr.startswith("evosim bench: error: unrecognized arguments: --nonsense")
    assert len(done.stderr.strip().splitlines()) == 1


def test_evaluate_on_a_scenario_file_is_our_one_line():
    done = run_cli_child("evaluate", str(SCENARIO_DIR / "classic.toml"), "--quiet")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a checkpoint" in lines[0]
    assert "pickle" not in done.stderr and "Traceback" not in done.stderr
