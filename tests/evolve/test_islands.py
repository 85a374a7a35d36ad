"""Islands: migrants are chosen and received as documented, a run with migration
equals an in-memory reference, and its results do not depend on the workers."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from evosim import World
from evosim.cli import main
from evosim.errors import CheckpointError, EvosimError, ScenarioError
from evosim.evolve.batch import run_batch
from evosim.evolve.checkpoints import FINAL_FILE, METRICS_FILE, RUN_FILE, checkpoint_path, world_dir
from evosim.evolve.plan import RunPlan
from evosim.kernels.layout import (
    NEXT_ID,
    NEXT_LINEAGE,
    NURSERY_HEAD,
    NURSERY_SIZE,
    OFFSPRING_DROPPED,
)
from evosim.scenario import scenario_from_dict
from evosim.world.migration import Migrants, emigrants, receive
from tests.evolve.test_batch import tiny_plan
from tests.helpers import assert_states_equal, small_scenario, states_equal


def island_plan(steps: int = 900, worlds: int = 3, every: int = 300, count: int = 2,
                checkpoint_every: int = 1000) -> RunPlan:
    # Short lives, much fruit, a small arena: robots eat and die within an epoch.
    scenario = small_scenario(world={"width": 300.0, "height": 300.0},
                              robots={"count": 8, "lifespan": 120, "max_age": 400},
                              mines={"count": 2}, fruit={"count": 12}, vision={"rays": 5},
                              brain={"hidden": 4},
                              migration={"every": every, "count": count})
    plan = tiny_plan(steps=steps, worlds=worlds, checkpoint_every=checkpoint_every)
    return replace(plan, scenario=scenario.model_dump(mode="json"))


def reference_islands(plan: RunPlan) -> list[World]:
    """The documented rule, in memory: step every world one epoch, then each world
    receives its ring predecessor's best robots, all chosen before any arrives."""
    every, _ = plan.migration()
    worlds = [World(plan.build_scenario(), seed=s) for s in plan.seeds]
    step = 0
    while step < plan.steps:
        n = min(every, plan.steps - step)
        for w in worlds:
            w.step(n)
        step += n
        if step < plan.steps:
            leaving = [emigrants(w.state, plan.migration()[1]) for w in worlds]
            for i, w in enumerate(worlds):
                w.receive_offspring(leaving[i - 1])
    return worlds


def final_states(run_dir, plan):
    return [World.load(world_dir(run_dir, i) / FINAL_FILE).state for i in range(plan.worlds)]


def test_best_robots_are_the_top_fruit_eaters_ties_by_lowest_slot():
    world = World(small_scenario(robots={"count": 8}), seed=1)
    s = world.writable_state()
    s.robot_fruit[:] = [0, 3, 1, 3, 0, 5, 1, 0]
    s.robot_generation[:] = np.arange(8)
    out = emigrants(world.state, 4)
    assert out.generation.tolist() == [5, 1, 3, 2]  # 5 fruit, then 3 (slots 1, 3), then 1
    assert np.array_equal(out.genome, world.state.genome[[5, 1, 3, 2]])
    s.robot_fruit[:] = [0, 0, 0, 0, 0, 0, 2, 0]
    assert emigrants(world.state, 3).generation.tolist() == [6]  # who ate nothing stays


def migrants(n: int, genes: int, start: int = 0) -> Migrants:
    g = np.arange(start, start + n, dtype=np.float32)[:, None] * np.ones(genes, np.float32)
    return Migrants(g, np.full(n, 7))


@pytest.mark.parametrize("nursery", [0, 3, 10])
def test_arrivals_queue_in_the_nursery_and_a_full_one_drops_the_oldest(nursery):
    world = World(small_scenario(robots={"count": 8}, evolution={"nursery": nursery}), seed=1)
    s = world.writable_state()
    genes = s.genome.shape[1]
    living = s.genome.copy()
    lineage0, id0 = s.clock[NEXT_LINEAGE], s.clock[NEXT_ID]
    receive(s, migrants(5, genes))
    assert np.array_equal(s.genome, living)  # no living robot is replaced
    kept = min(5, nursery)
    assert s.clock[NURSERY_SIZE] == kept
    assert s.counters[OFFSPRING_DROPPED] == 5 - kept
    order = [(s.clock[NURSERY_HEAD] + k) % max(nursery, 1) for k in range(kept)]
    assert s.nursery_genome[order, 0].tolist() == list(range(5 - kept, 5))  # newest kept
    assert (s.nursery_generation[order] == 7).all() and (s.nursery_parent[order] == -1).all()
    arrived = 5 if nursery else 0  # each arrival founds a lineage, dropped or not
    assert s.clock[NEXT_LINEAGE] == lineage0 + arrived and s.clock[NEXT_ID] == id0 + arrived
    if kept:
        assert s.nursery_lineage[order].tolist() == list(range(lineage0 + 5 - kept,
                                                                lineage0 + 5))


def test_arrivals_are_born_into_freed_slots_as_exact_copies():
    world = World(small_scenario(robots={"count": 8}), seed=3)
    genes = world.state.genome.shape[1]
    incoming = Migrants(np.full((1, genes), 0.25, np.float32), np.array([4]))
    world.receive_offspring(incoming)
    for _ in range(5000):
        world.step(1)
        hit = np.flatnonzero(world.state.genome[:, 0] == np.float32(0.25))
        if hit.size:
            break
    assert hit.size == 1, "the arrival was never born"
    j = hit[0]
    assert world.state.robot_generation[j] == 4 and world.state.robot_parent[j] == -1
    assert np.array_equal(world.state.genome[j, :-1], incoming.genome[0, :-1])


def test_a_run_with_migration_equals_the_in_memory_reference(tmp_path):
    plan = island_plan()
    plan.save(tmp_path)
    run_batch(tmp_path, plan, workers=1)
    expected = reference_islands(plan)
    for got, want in zip(final_states(tmp_path, plan), expected, strict=True):
        assert_states_equal(got, want)
    alone = replace(plan, scenario={**plan.scenario, "migration": {"every": 0}})
    isolated = World(alone.build_scenario(), seed=plan.seeds[1])
    isolated.step(plan.steps)
    assert not states_equal(final_states(tmp_path, plan)[1], isolated)  # migrants came
    # A checkpoint at each boundary, saved before the migrants arrived.
    assert checkpoint_path(tmp_path, 0, 300).exists() and checkpoint_path(tmp_path, 2, 600).exists()


def test_islands_give_the_same_bytes_for_any_workers(tmp_path):
    plan = island_plan(checkpoint_every=200)
    runs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        out.mkdir()
        plan.save(out)
        run_batch(out, plan, workers=workers)
        runs.append(out)
    a, b = runs
    assert (a / METRICS_FILE).read_bytes() == (b / METRICS_FILE).read_bytes()
    for x, y in zip(final_states(a, plan), final_states(b, plan), strict=True):
        assert_states_equal(x, y)


def test_a_missing_neighbour_checkpoint_is_a_one_line_error(tmp_path):
    from evosim.evolve.worker import run_world

    plan = island_plan()
    plan.save(tmp_path)
    run_batch(tmp_path, plan, workers=1)
    (world_dir(tmp_path, 1) / FINAL_FILE).unlink()
    checkpoint_path(tmp_path, 1, 600).unlink()  # world 1 goes back to step 300
    checkpoint_path(tmp_path, 0, 300).unlink()
    with pytest.raises(CheckpointError, match=r"step-000000300.npz: missing; world 1 takes"):
        run_world(tmp_path, plan, 1, until=600)


def test_migration_table_is_validated():
    data = small_scenario(robots={"count": 8}).model_dump(mode="json")
    data["migration"] = {"every": 10, "count": 9}
    with pytest.raises(ScenarioError, match=r"migration.count: expected at most robots.count"):
        scenario_from_dict(data, source="s.toml")
    data["migration"] = {"every": 10, "count": 1, "topology": "star"}
    with pytest.raises(ScenarioError, match=r"migration.topology"):
        scenario_from_dict(data, source="s.toml")


def test_migration_flags_are_recorded_in_run_json(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    argv = ["evolve", "classic", "--steps", "200", "--worlds", "2", "--workers", "1",
            "--migrate-every", "100", "--migrants", "3", "--metrics-every", "100",
            "--backend", "local", "--out", str(out), "--quiet"]
    monkeypatch.setattr("sys.argv", ["evosim", *argv])
    assert main(argv) == 0
    data = json.loads((out / RUN_FILE).read_text())
    assert data["scenario"]["migration"] == {"every": 100, "count": 3, "topology": "ring"}
    assert "--backend" not in data["command"] and "--migrants" in data["command"]
    assert main(["evolve", "--resume", str(out), "--migrants", "1"]) == 2
    assert "drop --migrants" in capsys.readouterr().err


def test_evosim_and_the_local_backend_never_import_ray():
    import subprocess
    import sys

    code = ("import sys, evosim, evosim.evolve.batch, evosim.evolve.local_backend, "
            "evosim.commands.evolve, evosim.cli; "
            "assert 'ray' not in sys.modules, 'ray imported'")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_backend_ray_without_ray_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # as if not installed
    plan = island_plan()
    plan.save(tmp_path)
    with pytest.raises(EvosimError, match=r"Ray is not installed; install it with: pip "
                                          r"install 'evosim\[ray\]'"):
        run_batch(tmp_path, plan, workers=1, backend="ray")
    assert main(["evolve", "classic", "--steps", "10", "--ray-address", "auto"]) == 2
    assert "--ray-address: only with --backend ray" in capsys.readouterr().err
