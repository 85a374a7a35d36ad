"""``evosim evolve``: start, resume, extend or continue a batch run, with a progress
bar and a summary. The runs themselves are :mod:`evosim.evolve.batch`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from evosim._version import __version__
from evosim.commands._signals import sigterm_as_interrupt
from evosim.errors import EvosimError, RunDirError
from evosim.evolve import metrics
from evosim.evolve.batch import (
    RunPlan,
    check_workers,
    final_step,
    rebuild_metrics,
    run_batch,
    world_seeds,
)
from evosim.evolve.checkpoints import (
    FINAL_FILE,
    METRICS_FILE,
    checkpoint_path,
    remove_temp_files,
    world_dir,
)
from evosim.evolve.lock import LOCK_FILE, run_lock
from evosim.evolve.runfile import check_metrics_rows
from evosim.limits import MAX_STEP
from evosim.scenario import Scenario, load_scenario, scenario_from_dict

DEFAULT_CHECKPOINT_EVERY = 10_000
DEFAULT_METRICS_EVERY = 1_000
DEFAULT_RECORD_STEPS = 600  # ticks per clip of --record-every (300 frames, 10 s)
PLAIN_EVERY = 10.0  # seconds between progress lines where stderr is not a terminal
WIDE = 110  # columns from which the bar also shows recent fruit and mine-death rates


def prepare_out_dir(out: Path) -> Path:
    """Create ``out``, refusing one that already holds files (never overwrite a run)."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out}: --out exists and is not a folder")
    if out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir()):
        raise RunDirError(f"{out}: --out folder is not empty; choose a new folder "
                          f"(or continue a stopped run with --resume {out})")
    out.mkdir(parents=True, exist_ok=True)
    return out


def compact(n: float) -> str:
    """12,345 -> '12.3k', 4,800,000 -> '4.80M': counts that fit an 80-column bar."""
    for limit, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            value = n / limit
            return f"{value:.3g}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return f"{n:.0f}"


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class _Live:
    """Progress over all worlds: steps, steps/s, time left (and, where the terminal is
    wide, recent fruit and mine-death rates). Not a terminal: a plain line every
    ``PLAIN_EVERY`` seconds."""

    def __init__(self, plan: RunPlan, robots: int, quiet: bool) -> None:
        self.plan = plan
        self.robots = robots
        self.quiet = quiet
        self.total = (plan.steps - plan.start) * plan.worlds
        self.steps: dict[int, int] = {}
        self.counts: dict[int, list[int]] = {}
        self.history: deque[tuple[float, int, int, int]] = deque(maxlen=50)
        self.console = Console(stderr=True)
        self.terminal = self.console.is_terminal
        self.label = f"{plan.scenario_name} x{plan.worlds}"
        self.last_plain = time.monotonic()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=None if self.console.width >= WIDE else 16),
            TextColumn("{task.fields[info]}"),
            console=self.console,
            disable=quiet or not self.terminal,
            expand=False,
        )
        self.task = self.progress.add_task(self.label, total=self.total, info="")

    def __call__(self, message: tuple) -> None:
        kind, index, step, counters = message
        self.steps[index] = step - self.plan.start
        self.counts[index] = counters
        fruit_i = metrics.COUNT_COLUMNS.index("fruit_eaten")
        mine_i = metrics.COUNT_COLUMNS.index("mine_deaths")
        done = sum(self.steps.values())
        fruit = sum(c[fruit_i] for c in self.counts.values())
        mines = sum(c[mine_i] for c in self.counts.values())
        now = time.monotonic()
        if kind == "start":  # a resumed world: its earlier steps are not this session's
            self.history.clear()
        self.history.append((now, done, fruit, mines))
        t0, d0, f0, m0 = self.history[0]
        rate = (done - d0) / (now - t0) if now > t0 and done > d0 else 0.0
        left = (self.total - done) / rate if rate > 0 else None
        text = (f"{100 * done / max(self.total, 1):3.0f}% {compact(done)}/{compact(self.total)} "
                f"steps {compact(rate)}/s {clock(left)} left")
        if self.console.width >= WIDE and done > d0:
            per_k = 1000.0 / ((done - d0) * self.robots)
            text += (f"  fruit {(fruit - f0) * per_k:.2f} mines {(mines - m0) * per_k:.3f}"
                     f" /robot/1k")
        self.progress.update(self.task, completed=done, info=text)
        if not self.quiet and not self.terminal and now - self.last_plain >= PLAIN_EVERY:
            self.last_plain = now
            print(f"{self.label}: {text}", file=sys.stderr, flush=True)


def summary(run_dir: Path, plan: RunPlan, robots: int, seconds: float) -> dict[str, Any]:
    """The run's figures: rates per robot per 1,000 steps over the whole run."""
    rows = metrics.read_rows(run_dir / METRICS_FILE)
    last = [r for r in rows if r["step"] == plan.steps]
    per_k = 1000.0 / ((plan.steps - plan.start) * robots * plan.worlds)
    return {
        "run_dir": str(run_dir),
        "scenario": plan.scenario_name,
        "worlds": plan.worlds,
        "seeds": plan.seeds,
        "start": plan.start,
        "steps": plan.steps,
        "seconds": round(seconds, 3),
        "fruit_per_robot_per_1k": sum(r["fruit_eaten"] for r in rows) * per_k,
        "mine_deaths_per_robot_per_1k": sum(r["mine_deaths"] for r in rows) * per_k,
        "final_mean_speed_gene": sum(r["mean_speed_gene"] for r in last) / max(len(last), 1),
        "max_generation": max((int(r["max_generation"]) for r in last), default=0),
    }


def _summary_text(s: dict[str, Any]) -> str:
    return (f"{s['worlds']} world(s) x {s['steps'] - s['start']} steps in {s['seconds']:.1f}s: "
            f"fruit {s['fruit_per_robot_per_1k']:.2f} and mine deaths "
            f"{s['mine_deaths_per_robot_per_1k']:.3f} per robot per 1k steps, "
            f"final mean speed gene {s['final_mean_speed_gene']:.2f}, max generation "
            f"{s['max_generation']}; results in {s['run_dir']}")


def _execute(run_dir: Path, plan: RunPlan, workers: int, quiet: bool,
             as_json: bool = False, threads: int = 1, backend: str = "local",
             ray_address: str | None = None) -> int:
    robots = plan.build_scenario().robots.count
    live = _Live(plan, robots, quiet)
    start = time.monotonic()
    try:
        clipper = None
        if plan.record_every:
            from evosim.record.clips import record_clip  # pygame: only for clips

            clipper = record_clip
        with sigterm_as_interrupt(), live.progress:
            run_batch(run_dir, plan, workers, listener=live, clipper=clipper,
                      threads=threads, backend=backend, ray_address=ray_address)
    except KeyboardInterrupt:
        print(f"stopped; continue with: evosim evolve --resume {run_dir}", file=sys.stderr)
        raise
    result = summary(run_dir, plan, robots, time.monotonic() - start)
    print(json.dumps(result, indent=2) if as_json else _summary_text(result))
    return 0


def check_evolve_args(args: argparse.Namespace) -> None:
    """``--resume DIR`` takes its settings from the folder; otherwise SCENARIO and --steps."""
    if args.resume is not None:
        given = [flag for flag, value in (
            ("SCENARIO", args.scenario), ("--out", args.out),
            ("--checkpoint-every", args.checkpoint_every),
            ("--metrics-every", args.metrics_every),
            ("--migrate-every", getattr(args, "migrate_every", None)),
            ("--migrants", getattr(args, "migrants", None)),
            ("--record-every", getattr(args, "record_every", None)),
            ("--record-steps", getattr(args, "record_steps", None))) if value is not None]
        if args.worlds != 1 or args.seed != 0:
            given.append("--worlds/--seed")
        if given:
            raise EvosimError(f"--resume takes its settings from the run folder; "
                              f"drop {', '.join(given)}")
    if getattr(args, "ray_address", None) is not None and _backend(args) != "ray":
        raise EvosimError("--ray-address: only with --backend ray")
    if args.resume is None and (args.scenario is None or args.steps is None):
        raise EvosimError("expected SCENARIO and --steps N (SCENARIO may be a checkpoint "
                          ".npz), or --resume DIR")
    if args.resume is None and getattr(args, "record_steps", None) is not None and \
            getattr(args, "record_every", None) is None:
        raise EvosimError("--record-steps: needs --record-every T (how often to record)")


def evolve_command(args: argparse.Namespace) -> int:
    from evosim._compile import say_if_compiling

    check_evolve_args(args)
    if args.resume is not None:
        return resume_command(args.resume, args.workers, args.quiet, steps=args.steps,
                              threads=getattr(args, "threads", 1),
                              as_json=getattr(args, "json", False), backend=_backend(args),
                              ray_address=getattr(args, "ray_address", None))
    quiet = args.quiet or getattr(args, "json", False)
    start_world = None
    if Path(args.scenario).suffix == ".npz":
        from evosim.world import World

        say_if_compiling(quiet, threaded=getattr(args, "threads", 1) > 1)
        start_world = World.load(args.scenario)
        scenario = start_world.scenario
        default_out = Path("runs") / f"{scenario.name}-from-step{start_world.step_count}"
        seeds = [start_world.seed]
        seed = start_world.seed
        if args.worlds != 1:
            raise EvosimError("a checkpoint is one world: drop --worlds")
        if _migration_flags(args):
            raise EvosimError("a checkpoint is one world, with no neighbour to migrate to: "
                              "drop --migrate-every/--migrants")
    else:
        scenario = _with_migration(load_scenario(args.scenario), args)
        default_out = Path("runs") / f"{scenario.name}-seed{args.seed}"
        seeds = world_seeds(args.seed, args.worlds)
        seed = args.seed
    out = args.out if args.out is not None else default_out
    begin = start_world.step_count if start_world is not None else 0
    plan = RunPlan(
        scenario=scenario.model_dump(mode="json"),
        seed=seed,
        seeds=seeds,
        steps=begin + args.steps,
        checkpoint_every=args.checkpoint_every or DEFAULT_CHECKPOINT_EVERY,
        metrics_every=args.metrics_every or DEFAULT_METRICS_EVERY,
        record_every=getattr(args, "record_every", None) or 0,
        record_steps=(getattr(args, "record_steps", None) or DEFAULT_RECORD_STEPS)
        if getattr(args, "record_every", None) else 0,
        evosim_version=__version__,
        command=recorded_command(sys.argv[1:]),
        start=begin,
    )
    if plan.steps > MAX_STEP:
        raise EvosimError(f"--steps: expected a run of at most {MAX_STEP:,} steps, got "
                          f"{plan.steps:,}")
    check_metrics_rows(plan.steps, plan.metrics_every, "--steps/--metrics-every")
    workers = _workers(args.workers, plan.worlds)
    if start_world is None:
        say_if_compiling(quiet, threaded=getattr(args, "threads", 1) > 1)
        _check_world_builds(scenario, plan.seeds[0])
    prepare_out_dir(out)
    with run_lock(out):
        prepare_out_dir(out)  # again, now that no other writer can come in between
        plan.save(out)
        if start_world is not None:
            start_world.save(checkpoint_path(out, 0, begin), extra={
                "world": 0, "run_steps": plan.steps,
                "metrics_previous": metrics.counters_vector(start_world)})
        return _execute(out, plan, workers, quiet, getattr(args, "json", False),
                        getattr(args, "threads", 1), _backend(args),
                        getattr(args, "ray_address", None))


def _check_world_builds(scenario: Scenario, seed: int) -> None:
    """Build the first world here, so a scenario that cannot start (a missing or
    ill-fitting ``seed_brain``...) fails before the run folder exists, not in a worker."""
    from evosim.world import World

    World(scenario, seed=seed)


def resume_command(run_dir: Path, workers: int | None, quiet: bool, steps: int | None = None,
                   as_json: bool = False, threads: int = 1, backend: str = "local",
                   ray_address: str | None = None) -> int:
    """Continue a stopped run from its last checkpoints; with ``steps`` beyond the run's
    end, extend it. A finished run is left alone."""
    plan = RunPlan.load(run_dir)
    with run_lock(run_dir):
        plan = RunPlan.load(run_dir)  # as the last writer left it
        if steps is not None and steps != plan.steps:
            if steps < plan.steps:
                raise RunDirError(f"{run_dir}: --steps {steps} is below the run's "
                                  f"{plan.steps} steps; a run cannot be shortened")
            check_metrics_rows(steps, plan.metrics_every, "--steps")
            plan = replace(plan, steps=steps, command=recorded_command(sys.argv[1:]))
            plan.save(run_dir)
        _reopen_finals(run_dir, plan)
        finished = all(final_step(run_dir, plan, i) for i in range(plan.worlds))
        current = run_dir / METRICS_FILE
        # Bytes, not text: a garbage metrics.csv is simply rebuilt, never decoded.
        if (finished and current.is_file()
                and current.read_bytes() == rebuild_metrics(run_dir, plan).encode()):
            print(f"{run_dir}: run already finished ({plan.worlds} world(s) x {plan.steps} "
                  f"steps); nothing to do (--steps N extends it)")
            return 0
        remove_temp_files(run_dir)
        quiet = quiet or as_json
        from evosim._compile import say_if_compiling

        say_if_compiling(quiet, threaded=threads > 1)
        return _execute(run_dir, plan, _workers(workers, plan.worlds), quiet, as_json,
                        threads, backend, ray_address)


def _backend(args: argparse.Namespace) -> str:
    return getattr(args, "backend", None) or "local"


def _migration_flags(args: argparse.Namespace) -> bool:
    return (getattr(args, "migrate_every", None) is not None
            or getattr(args, "migrants", None) is not None)


def _with_migration(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    """``scenario`` with ``--migrate-every``/``--migrants`` in its ``[migration]`` table
    (so run.json records them where the scenario's own values would be)."""
    if not _migration_flags(args):
        return scenario
    data = scenario.model_dump(mode="json")
    if args.migrate_every is not None:
        data["migration"]["every"] = args.migrate_every
    if args.migrants is not None:
        data["migration"]["count"] = args.migrants
    return scenario_from_dict(data, source="--migrate-every/--migrants")


# Flags that choose where a run computes, never what: left out of run.json's command,
# so that a run's folder is the same, byte for byte, on every backend.
_PLACE_FLAGS = ("--backend", "--ray-address")


def recorded_command(argv: list[str]) -> list[str]:
    """``evosim`` and ``argv`` without the backend flags (and their values)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _PLACE_FLAGS:
            skip = True
        elif not arg.startswith(tuple(f + "=" for f in _PLACE_FLAGS)):
            out.append(arg)
    return ["evosim", *out]


def _workers(workers: int | None, worlds: int) -> int:
    """``check_workers`` with its value named by the flag."""
    try:
        return check_workers(workers, worlds)
    except EvosimError as exc:
        raise EvosimError(f"--{exc}") from None


def _reopen_finals(run_dir: Path, plan: RunPlan) -> None:
    """Worlds that ended before ``plan.steps`` (an extended run) continue from there.

    A final state on a metrics boundary becomes the checkpoint of its step (its
    metrics state is that of the boundary, as in an unbroken run); any other is
    dropped, and the world reruns from its last checkpoint, so that the extended
    run's metrics and states equal those of a run made that long from the start.
    """
    from evosim.world.checkpoint import read_checkpoint

    for i in range(plan.worlds):
        path = world_dir(run_dir, i) / FINAL_FILE
        if not path.exists():
            continue
        meta, _ = read_checkpoint(path)
        step = int(meta["step"])
        if step >= plan.steps:
            continue
        if step % plan.metrics_every == 0:
            target = checkpoint_path(run_dir, i, step)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
        else:
            path.unlink()
