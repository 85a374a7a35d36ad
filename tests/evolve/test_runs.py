"""Runs as library calls: evosim.evolve.run and resume, without the command line."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from evosim import World
from evosim.errors import EvosimError, RunDirError
from evosim.evolve import RunResult, resume, run
from evosim.evolve.checkpoints import FINAL_FILE, METRICS_FILE, list_checkpoints, world_dir
from evosim.evolve.events import read_events
from evosim.evolve.plan import RunPlan, world_seeds
from tests.helpers import assert_states_equal, small_scenario

SCENARIO = small_scenario(robots={"count": 8}, mines={"count": 6}, fruit={"count": 6},
                          vision={"rays": 5}, brain={"hidden": 4})
SHORT = {"checkpoint_every": 300, "metrics_every": 200, "workers": 1}


def _same_run(a, b) -> None:
    """Two run folders hold the same metrics, final states and event logs."""
    assert (a / METRICS_FILE).read_bytes() == (b / METRICS_FILE).read_bytes()
    for i in range(RunPlan.load(a).worlds):
        assert (world_dir(a, i) / METRICS_FILE).read_bytes() == \
            (world_dir(b, i) / METRICS_FILE).read_bytes()
        x = World.load(world_dir(a, i) / FINAL_FILE).state
        y = World.load(world_dir(b, i) / FINAL_FILE).state
        assert_states_equal(x, y)
        assert np.array_equal(read_events(a, i), read_events(b, i))


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "whole"
    return run(SCENARIO, 900, worlds=2, seed=5, out=out, **SHORT)


def test_run_returns_its_folder_finals_and_figures(whole):
    assert isinstance(whole, RunResult) and whole.ran
    assert whole.finals == tuple(world_dir(whole.run_dir, i) / FINAL_FILE for i in range(2))
    assert whole.seeds == tuple(world_seeds(5, 2)) and whole.worlds == 2
    assert (whole.start, whole.steps, whole.scenario) == (0, 900, SCENARIO.name)
    finals = [World.load(path) for path in whole.finals]
    assert [w.step_count for w in finals] == [900, 900]
    assert [w.seed for w in finals] == list(whole.seeds)
    # The figures are those of the metrics rows the run wrote.
    from evosim.evolve import metrics

    rows = metrics.read_rows(whole.run_dir / METRICS_FILE)
    per_k = 1000.0 / (900 * SCENARIO.robots.count * 2)
    assert whole.fruit_per_robot_per_1k == sum(r["fruit_eaten"] for r in rows) * per_k
    assert whole.fruit_per_robot_per_1k > 0
    assert whole.mine_deaths_per_robot_per_1k == sum(r["mine_deaths"] for r in rows) * per_k
    genes = [float(w.state.speed_gene.astype(np.float64).mean()) for w in finals]
    assert whole.final_mean_speed_gene == pytest.approx(np.mean(genes), abs=1e-6)
    assert whole.max_generation == max(int(w.state.robot_generation.max()) for w in finals)
    assert whole.seconds > 0
    assert set(whole.as_dict()) == {"run_dir", "scenario", "worlds", "seeds", "start",
                                    "steps", "seconds", "fruit_per_robot_per_1k",
                                    "mine_deaths_per_robot_per_1k", "final_mean_speed_gene",
                                    "max_generation"}
    with pytest.raises(AttributeError):  # frozen
        whole.steps = 1  # type: ignore[misc]


def test_run_equals_a_direct_world(whole):
    direct = World(SCENARIO, seed=whole.seeds[1])
    direct.step(900)
    final = World.load(whole.finals[1])
    assert_states_equal(final, direct)


def test_resume_after_a_crash_gives_the_same_bytes(whole, tmp_path):
    crashed = tmp_path / "crashed"
    shutil.copytree(whole.run_dir, crashed)
    (crashed / METRICS_FILE).unlink()
    for i in range(2):
        (world_dir(crashed, i) / FINAL_FILE).unlink()
    list_checkpoints(crashed, 1)[-1][1].unlink()  # world 1 goes back to step 300
    result = resume(crashed, workers=1)
    assert result.ran and result.steps == 900 and result.run_dir == crashed
    _same_run(crashed, whole.run_dir)
    assert result.fruit_per_robot_per_1k == whole.fruit_per_robot_per_1k
    assert result.max_generation == whole.max_generation


def test_extending_equals_running_that_long(whole, tmp_path):
    short = run(SCENARIO, 500, worlds=2, seed=5, out=tmp_path / "short", **SHORT)
    assert short.steps == 500
    longer = resume(short.run_dir, 900, workers=1)
    assert longer.steps == 900 and longer.ran
    _same_run(short.run_dir, whole.run_dir)
    assert longer.as_dict() | {"run_dir": "", "seconds": 0} == \
        whole.as_dict() | {"run_dir": "", "seconds": 0}


def test_resume_of_a_finished_run_changes_nothing(whole):
    before = {p: p.read_bytes() for p in whole.run_dir.rglob("*") if p.is_file()
              and p.name != ".lock"}
    again = resume(whole.run_dir)
    assert not again.ran and again.seconds == 0.0
    assert again.fruit_per_robot_per_1k == whole.fruit_per_robot_per_1k
    assert before == {p: p.read_bytes() for p in whole.run_dir.rglob("*") if p.is_file()
                      and p.name != ".lock"}


def test_a_checkpoint_continues_in_a_new_run(whole, tmp_path):
    result = run(whole.finals[0], 300, out=tmp_path / "more", **SHORT)
    assert (result.start, result.steps, result.seeds) == (900, 1200, whole.seeds[:1])
    direct = World.load(whole.finals[0])
    direct.step(300)
    final = World.load(result.finals[0])
    assert_states_equal(final, direct)


def test_progress_hook_sees_every_world_reach_the_end(tmp_path):
    import contextlib

    seen: dict[int, int] = {}
    plans = []

    @contextlib.contextmanager
    def progress(run_dir, plan):
        plans.append((run_dir, plan.steps))
        yield lambda message: seen.__setitem__(message[1], message[2])

    result = run(SCENARIO, 400, worlds=2, out=tmp_path / "r", progress=progress, **SHORT)
    assert plans == [(result.run_dir, 400)] and seen == {0: 400, 1: 400}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"steps": 0}, "steps: expected an integer of at least 1"),
    ({"worlds": 0}, "worlds: expected an integer of at least 1"),
    ({"metrics_every": 1, "steps": 2_000_000}, "steps/metrics_every: expected at most"),
    ({"workers": 0}, "workers: expected at least 1"),
    ({"backend": "cloud"}, "backend: expected one of local, ray"),
    ({"ray_address": "auto"}, "ray_address: only with backend 'ray'"),
    ({"record_every": 100}, "record_every: needs a clipper"),
    ({"migrate_every": 100, "migrants": 10_000}, "migrate_every/migrants: migration.count"),
])
def test_bad_values_are_named_by_argument(tmp_path, kwargs, message):
    args = {"steps": 10, "out": tmp_path / "x", **kwargs}
    with pytest.raises(EvosimError, match=message.replace("(", r"\(")):
        run(SCENARIO, **args)
    assert not (tmp_path / "x").exists()  # nothing written for a bad value


def test_folder_errors(whole, tmp_path):
    with pytest.raises(RunDirError, match="folder is not empty"):
        run(SCENARIO, 10, out=whole.run_dir)
    with pytest.raises(RunDirError, match="no such run folder"):
        resume(tmp_path / "nowhere")
    with pytest.raises(RunDirError, match="cannot be shortened"):
        resume(whole.run_dir, 300)
