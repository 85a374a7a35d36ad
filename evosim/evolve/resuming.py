"""Where each world of a run folder stands, and what it continues from: its last
checkpoint (checked to belong to this run), its metrics rows up to there, and the
migrants its ring neighbour's checkpoint holds for it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosim.errors import CheckpointError, RunDirError
from evosim.evolve import metrics
from evosim.evolve.checkpoints import (
    FINAL_FILE,
    METRICS_FILE,
    RUN_FILE,
    checkpoint_path,
    list_checkpoints,
    world_dir,
)
from evosim.evolve.plan import RunPlan

if TYPE_CHECKING:
    from evosim.world.migration import Migrants


def check_belongs(path: Path, world: Any, plan: RunPlan, index: int) -> None:
    """A checkpoint must come from this run's world ``index`` (same seed and scenario)."""
    if world.seed != plan.seeds[index]:
        raise CheckpointError(f"{path}: foreign checkpoint: seed {world.seed}, but this run's "
                              f"world {index} has seed {plan.seeds[index]}")
    if world.scenario.model_dump(mode="json") != plan.build_scenario().model_dump(mode="json"):
        raise CheckpointError(f"{path}: foreign checkpoint: its scenario differs from "
                              f"{RUN_FILE}'s")
    if world.step_count > plan.steps:
        raise CheckpointError(f"{path}: step {world.step_count} is beyond the run's "
                              f"{plan.steps} steps")


def kept_rows(run_dir: Path, plan: RunPlan, index: int, upto: int) -> list[dict]:
    """The world's metrics rows up to step ``upto``; they must be exactly the expected ones."""
    path = world_dir(run_dir, index) / METRICS_FILE
    expected = [s for s in plan.metrics_steps() if s <= upto]
    if not expected:
        return []
    rows = [r for r in metrics.read_rows(path) if int(r["step"]) <= upto]
    if [int(r["step"]) for r in rows] != expected or any(r["world"] != index for r in rows):
        raise RunDirError(f"{path}: rows do not match the checkpoints (expected steps "
                          f"{expected[0]}..{expected[-1]})")
    return rows


def start_world(run_dir: Path, plan: RunPlan, index: int, threads: int = 1
           ) -> tuple[Any, list[dict], list[int]]:
    """The world to continue (stepping on ``threads`` threads), its metrics rows so far,
    and the counters of the last boundary."""
    from evosim.world import World

    found = list_checkpoints(run_dir, index)
    if not found:
        world = World(plan.build_scenario(), seed=plan.seeds[index], threads=threads)
        return world, [], metrics.counters_vector(world)
    step, path = found[-1]
    world = World.load(path, threads=threads)
    check_belongs(path, world, plan, index)
    if world.step_count != step:
        raise CheckpointError(f"{path}: holds step {world.step_count}, its name says {step}")
    extra = checkpoint_extra(path)
    previous = extra.get("metrics_previous")
    if not (isinstance(previous, list) and len(previous) == len(metrics.COUNT_COLUMNS)
            and all(type(v) is int and v >= 0 for v in previous)):
        raise CheckpointError(f"{path}: not a checkpoint of an evolve run (no metrics state)")
    return world, kept_rows(run_dir, plan, index, step), [int(v) for v in previous]


def checkpoint_extra(path: Path) -> dict:
    from evosim.world.checkpoint import read_checkpoint

    meta, _ = read_checkpoint(path)
    extra = meta.get("extra")
    return extra if isinstance(extra, dict) else {}


def final_step(run_dir: Path, plan: RunPlan, index: int) -> bool:
    """Whether world ``index`` is finished (its final state exists and fits the run)."""
    from evosim.world import World

    path = world_dir(run_dir, index) / FINAL_FILE
    if not path.exists():
        return False
    world = World.load(path)
    check_belongs(path, world, plan, index)
    if world.step_count != plan.steps:
        raise CheckpointError(f"{path}: final state at step {world.step_count}, "
                              f"expected {plan.steps}")
    return True


def reached(run_dir: Path, plan: RunPlan, index: int) -> int:
    """The step world ``index`` has saved: its final state's, else its last checkpoint's."""
    if final_step(run_dir, plan, index):
        return plan.steps
    found = list_checkpoints(run_dir, index)
    return found[-1][0] if found else plan.start


def immigrants(run_dir: Path, plan: RunPlan, index: int, step: int) -> Migrants:
    """The robots world ``index`` receives at migration boundary ``step``: the emigrants
    of its ring neighbour (world index-1 mod K) in that world's checkpoint of ``step``,
    saved before any migration of that boundary."""
    from evosim.world import World
    from evosim.world.migration import emigrants

    _, count = plan.migration()
    source = (index - 1) % plan.worlds
    path = checkpoint_path(run_dir, source, step)
    if not path.exists():
        raise CheckpointError(f"{path}: missing; world {index} takes its migrants of step "
                              f"{step} from it (continue with --resume, or start again)")
    world = World.load(path)
    check_belongs(path, world, plan, source)
    return emigrants(world.state, count)
