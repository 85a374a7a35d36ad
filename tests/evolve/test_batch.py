"""Batch runs: seeds, metrics rows, checkpoints, and exact resume after a crash."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from evosim import World
from evosim.errors import CheckpointError, RunDirError
from evosim.evolve import metrics, resume
from evosim.evolve.batch import run_batch
from evosim.evolve.checkpoints import FINAL_FILE, METRICS_FILE, list_checkpoints, world_dir
from evosim.evolve.events import list_event_files
from evosim.evolve.lock import LOCK_FILE
from evosim.evolve.plan import RunPlan, world_seeds
from evosim.evolve.worker import run_world
from tests.helpers import assert_states_equal, small_scenario


def tiny_plan(steps: int = 900, worlds: int = 2, checkpoint_every: int = 300,
              metrics_every: int = 200, seed: int = 5, **brain) -> RunPlan:
    scenario = small_scenario(robots={"count": 8}, mines={"count": 6}, fruit={"count": 6},
                              vision={"rays": 5}, brain={"hidden": 4, **brain})
    return RunPlan(scenario=scenario.model_dump(mode="json"), seed=seed,
                   seeds=world_seeds(seed, worlds), steps=steps,
                   checkpoint_every=checkpoint_every, metrics_every=metrics_every)


def run_in_process(run_dir: Path, plan: RunPlan) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    plan.save(run_dir)
    for i in range(plan.worlds):
        run_world(run_dir, plan, i)
    from evosim.evolve.metrics import write_metrics

    write_metrics(run_dir, plan)


def test_world_seeds_come_from_seed_sequence_spawn():
    seeds = world_seeds(7, 3)
    expected = [int(c.generate_state(1, np.uint64)[0])
                for c in np.random.SeedSequence(7).spawn(3)]
    assert seeds == expected and len(set(seeds)) == 3
    assert world_seeds(7, 2) == seeds[:2]  # adding worlds keeps the earlier ones


def test_final_state_equals_a_direct_run(tmp_path):
    plan = tiny_plan()
    run_in_process(tmp_path, plan)
    for i, seed in enumerate(plan.seeds):
        final = World.load(world_dir(tmp_path, i) / FINAL_FILE)
        direct = World(plan.build_scenario(), seed=seed)
        direct.step(plan.steps)
        assert_states_equal(final, direct)
    steps = [s for s, _ in list_checkpoints(tmp_path, 0)]
    assert steps == [300, 600]  # the last step is final.npz, not a checkpoint


def test_metrics_rows_are_interval_deltas(tmp_path):
    plan = tiny_plan()
    run_in_process(tmp_path, plan)
    rows = metrics.read_rows(tmp_path / METRICS_FILE)
    assert [(r["step"], r["world"]) for r in rows] == [
        (s, w) for s in (200, 400, 600, 800, 900) for w in (0, 1)]
    assert (tmp_path / METRICS_FILE).read_text().splitlines()[0] == ",".join(metrics.COLUMNS)
    for w in (0, 1):
        final = World.load(world_dir(tmp_path, w) / FINAL_FILE)
        mine = [r for r in rows if r["world"] == w]
        for name in metrics.COUNT_COLUMNS:  # deltas add up to the world's counters
            assert sum(r[name] for r in mine) == final.counters[name]
        last = mine[-1]
        assert last["seed"] == plan.seeds[w]
        assert last["max_generation"] == final.state.robot_generation.max()
        assert last["mean_speed_gene"] == pytest.approx(final.state.speed_gene.mean(), abs=1e-6)
        assert 1 <= last["lineages_alive"] <= 8
        assert 1 / 8 <= last["dominant_lineage_share"] <= 1
        assert all(r["active_connections"] == 1.0 for r in mine)  # dense brains


def test_metrics_report_the_mean_fraction_of_active_connections(tmp_path):
    plan = tiny_plan(connections="evolved", initial_connections=0.3,
                     connection_flip_rate=0.05)
    run_in_process(tmp_path, plan)
    rows = metrics.read_rows(tmp_path / METRICS_FILE)
    lay = plan.build_scenario().genome_layout
    for w in (0, 1):
        final = World.load(world_dir(tmp_path, w) / FINAL_FILE)
        last = [r for r in rows if r["world"] == w][-1]
        want = round(float(lay.active(final.state.genome).mean()), metrics.DIGITS)
        assert last["active_connections"] == want
        assert 0.15 < want < 0.6 and want != 0.3


def test_same_seed_writes_identical_metrics(tmp_path):
    plan = tiny_plan(steps=400)
    run_in_process(tmp_path / "a", plan)
    run_in_process(tmp_path / "b", plan)
    assert (tmp_path / "a" / METRICS_FILE).read_bytes() == \
        (tmp_path / "b" / METRICS_FILE).read_bytes()


def _crashed_copy(tmp_path: Path, plan, keep_checkpoints: int) -> tuple[Path, Path]:
    """``whole``: the run done; ``crashed``: a copy as a crash leaves it, with no run
    metrics, no final states and only the first ``keep_checkpoints`` checkpoints of
    each world (its per-world metrics and event files run past them)."""
    whole, crashed = tmp_path / "whole", tmp_path / "crashed"
    run_in_process(whole, plan)
    shutil.copytree(whole, crashed)
    (crashed / METRICS_FILE).unlink()
    for i in range(plan.worlds):
        (world_dir(crashed, i) / FINAL_FILE).unlink()
        for _, path in list_checkpoints(crashed, i)[keep_checkpoints:]:
            path.unlink()
    return whole, crashed


@pytest.mark.parametrize("keep_checkpoints", [0, 1, 2])
def test_resume_after_a_crash_is_exact(tmp_path, keep_checkpoints):
    """A crash leaves per-world metrics with rows past the last checkpoint (written
    first) and no final state: the resume must drop and recompute exactly those."""
    plan = tiny_plan()
    whole, crashed = _crashed_copy(tmp_path, plan, keep_checkpoints)
    # The event files past the checkpoint (written first) stay, as after a kill, and
    # one of them is damaged, as if the kill came while writing it.
    list_event_files(crashed, 1)[-1][1].write_bytes(b"half")
    (world_dir(crashed, 0) / "checkpoints" / ".step-000000900.npz.abc.tmp").write_bytes(b"x")
    run_batch(crashed, plan, workers=1)
    assert (crashed / METRICS_FILE).read_bytes() == (whole / METRICS_FILE).read_bytes()
    for i in range(plan.worlds):
        files = list_event_files(whole, i)
        assert [s for s, _ in files] == [300, 600, 900]
        assert [(s, p.read_bytes()) for s, p in files] == \
            [(s, p.read_bytes()) for s, p in list_event_files(crashed, i)]
        a = World.load(world_dir(whole, i) / FINAL_FILE).state
        b = World.load(world_dir(crashed, i) / FINAL_FILE).state
        assert_states_equal(a, b)


def test_resume_of_evolved_connections_is_exact(tmp_path):
    """Masks, decoded brains and active counts come back from a checkpoint exactly."""
    plan = tiny_plan(connections="evolved", connection_flip_rate=0.02,
                     connection_cost=0.002)
    whole, crashed = _crashed_copy(tmp_path, plan, 1)
    run_batch(crashed, plan, workers=1)
    assert (crashed / METRICS_FILE).read_bytes() == (whole / METRICS_FILE).read_bytes()
    for i in range(plan.worlds):
        a = World.load(world_dir(whole, i) / FINAL_FILE).state
        b = World.load(world_dir(crashed, i) / FINAL_FILE).state
        assert_states_equal(a, b)


def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    plan = tiny_plan(steps=300)
    run_in_process(tmp_path, plan)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.rglob("*")
              if p.is_file() and p.name != LOCK_FILE}
    assert not resume(tmp_path, workers=1).ran
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.rglob("*")
             if p.is_file() and p.name != LOCK_FILE}  # the lock is taken, nothing else
    assert before == after


def test_corrupt_checkpoint_is_a_checkpoint_error(tmp_path):
    plan = tiny_plan()
    run_in_process(tmp_path, plan)
    (world_dir(tmp_path, 1) / FINAL_FILE).unlink()
    _, last = list_checkpoints(tmp_path, 1)[-1]
    last.write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match=r"step-000000600\.npz"):
        run_world(tmp_path, plan, 1)


def test_foreign_checkpoint_is_refused(tmp_path):
    plan = tiny_plan()
    run_in_process(tmp_path, plan)
    (world_dir(tmp_path, 1) / FINAL_FILE).unlink()
    _, last = list_checkpoints(tmp_path, 1)[-1]
    shutil.copy(list_checkpoints(tmp_path, 0)[-1][1], last)  # world 0's state
    with pytest.raises(CheckpointError, match="foreign checkpoint"):
        run_world(tmp_path, plan, 1)


def test_run_folder_errors(tmp_path):
    with pytest.raises(RunDirError, match="no such run folder"):
        RunPlan.load(tmp_path / "nowhere")
    with pytest.raises(RunDirError, match=r"no run\.json"):
        RunPlan.load(tmp_path)
    (tmp_path / "run.json").write_text('{"format": "something else"}')
    with pytest.raises(RunDirError, match="not an evosim run file"):
        RunPlan.load(tmp_path)


def test_threads_per_world_change_nothing(tmp_path):
    """``evolve --threads 2``: workers step their world on two threads, same bytes."""
    plan = tiny_plan(worlds=1, steps=600)
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, threads in ((one, 1), (two, 2)):
        folder.mkdir()
        plan.save(folder)
        run_batch(folder, plan, workers=1, threads=threads)
    a = World.load(world_dir(one, 0) / FINAL_FILE)
    b = World.load(world_dir(two, 0) / FINAL_FILE)
    assert_states_equal(a, b)
    assert (world_dir(one, 0) / METRICS_FILE).read_bytes() == \
        (world_dir(two, 0) / METRICS_FILE).read_bytes()
