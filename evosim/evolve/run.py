"""``evosim evolve``: start or resume a batch run, with a progress bar and a summary."""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from evosim.errors import RunDirError
from evosim.evolve import metrics
from evosim.evolve.batch import (
    RunPlan,
    check_workers,
    final_step,
    rebuild_metrics,
    run_batch,
    world_seeds,
)
from evosim.evolve.checkpoints import METRICS_FILE, remove_temp_files
from evosim.evolve.runfile import check_metrics_rows
from evosim.scenario import Scenario, load_scenario

DEFAULT_CHECKPOINT_EVERY = 10_000
DEFAULT_METRICS_EVERY = 1_000


def prepare_out_dir(out: Path) -> Path:
    """Create ``out``, refusing one that already holds files (never overwrite a run)."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out}: --out exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise RunDirError(f"{out}: --out folder is not empty; choose a new folder "
                          f"(or continue a stopped run with --resume {out})")
    out.mkdir(parents=True, exist_ok=True)
    return out


class _Live:
    """Progress over all worlds: steps/s, ETA and recent fruit and mine-death rates."""

    def __init__(self, plan: RunPlan, robots: int, quiet: bool) -> None:
        self.plan = plan
        self.robots = robots
        self.steps: dict[int, int] = {}
        self.counts: dict[int, list[int]] = {}
        self.history: deque[tuple[int, int, int]] = deque(maxlen=50)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=quiet,
        )
        self.task = self.progress.add_task(
            f"{plan.scenario_name} x{plan.worlds}", total=plan.steps * plan.worlds, info="")

    def __call__(self, message: tuple) -> None:
        kind, index, step, counters = message
        self.steps[index] = step
        self.counts[index] = counters
        fruit_i = metrics.COUNT_COLUMNS.index("fruit_eaten")
        mine_i = metrics.COUNT_COLUMNS.index("mine_deaths")
        done = sum(self.steps.values())
        fruit = sum(c[fruit_i] for c in self.counts.values())
        mines = sum(c[mine_i] for c in self.counts.values())
        if kind == "start":  # a resumed world: its earlier steps are not this session's
            self.history.clear()
        self.history.append((done, fruit, mines))
        info = ""
        d0, f0, m0 = self.history[0]
        if done > d0:
            per_k = 1000.0 / ((done - d0) * self.robots)
            info = (f"fruit {(fruit - f0) * per_k:.2f} mines {(mines - m0) * per_k:.3f} "
                    f"/robot/1k")
        speed = self.progress.tasks[0].speed or 0.0
        self.progress.update(self.task, completed=done,
                             info=f"{speed:,.0f} steps/s  {info}")


def _summary(run_dir: Path, plan: RunPlan, robots: int, seconds: float) -> str:
    rows = metrics.read_rows(run_dir / METRICS_FILE)
    last = [r for r in rows if r["step"] == plan.steps]
    per_k = 1000.0 / (plan.steps * robots * plan.worlds)
    fruit = sum(r["fruit_eaten"] for r in rows) * per_k
    mines = sum(r["mine_deaths"] for r in rows) * per_k
    speed = sum(r["mean_speed_gene"] for r in last) / max(len(last), 1)
    gen = max((r["max_generation"] for r in last), default=0)
    return (f"{plan.worlds} world(s) x {plan.steps} steps in {seconds:.1f}s: "
            f"fruit {fruit:.2f} and mine deaths {mines:.3f} per robot per 1k steps, "
            f"final mean speed gene {speed:.2f}, max generation {gen}; results in {run_dir}")


def _execute(run_dir: Path, plan: RunPlan, workers: int, quiet: bool) -> int:
    robots = plan.build_scenario().robots.count
    live = _Live(plan, robots, quiet)
    start = time.monotonic()
    try:
        with live.progress:
            run_batch(run_dir, plan, workers, listener=live)
    except KeyboardInterrupt:
        print(f"stopped; continue with: evosim evolve --resume {run_dir}", file=sys.stderr)
        raise
    print(_summary(run_dir, plan, robots, time.monotonic() - start))
    return 0


def evolve_command(args: argparse.Namespace) -> int:
    if args.resume is not None:
        return resume_command(args.resume, args.workers, args.quiet)
    scenario = load_scenario(args.scenario)
    check_metrics_rows(args.steps, args.metrics_every or DEFAULT_METRICS_EVERY,
                       "--steps/--metrics-every")
    out = args.out if args.out is not None else Path("runs") / f"{scenario.name}-seed{args.seed}"
    plan = RunPlan(
        scenario=scenario.model_dump(mode="json"),
        seed=args.seed,
        seeds=world_seeds(args.seed, args.worlds),
        steps=args.steps,
        checkpoint_every=args.checkpoint_every or DEFAULT_CHECKPOINT_EVERY,
        metrics_every=args.metrics_every or DEFAULT_METRICS_EVERY,
        evosim_version=_version(),
        command=["evosim", *sys.argv[1:]],
    )
    workers = check_workers(args.workers, plan.worlds)
    _check_world_builds(scenario, plan.seeds[0])
    prepare_out_dir(out)
    plan.save(out)
    return _execute(out, plan, workers, args.quiet)


def _check_world_builds(scenario: Scenario, seed: int) -> None:
    """Build the first world here, so a scenario that cannot start (a missing or
    ill-fitting ``seed_brain``...) fails before the run folder exists, not in a worker."""
    from evosim.world import World

    World(scenario, seed=seed)


def resume_command(run_dir: Path, workers: int | None, quiet: bool) -> int:
    """Continue a stopped run from its last checkpoints; a finished run is left alone."""
    plan = RunPlan.load(run_dir)
    finished = all(final_step(run_dir, plan, i) for i in range(plan.worlds))
    current = run_dir / METRICS_FILE
    # Bytes, not text: a garbage metrics.csv is simply rebuilt, never decoded.
    if (finished and current.is_file()
            and current.read_bytes() == rebuild_metrics(run_dir, plan).encode()):
        print(f"{run_dir}: run already finished ({plan.worlds} world(s) x {plan.steps} steps); "
              f"nothing to do")
        return 0
    remove_temp_files(run_dir)
    return _execute(run_dir, plan, check_workers(workers, plan.worlds), quiet)


def _version() -> str:
    from evosim import __version__

    return __version__
