"""Runs as library calls: :func:`run` evolves worlds into a run folder, :func:`resume`
continues (or extends) one; both return a :class:`RunResult`.

``evosim evolve`` and ``evosim resume`` are these two calls with flags mapped onto
their arguments and a progress bar drawn from the ``progress`` hook. Errors name the
argument (``steps: ...``), never a flag.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from evosim._atomic import disk_full, fsync_dir, make_dirs
from evosim._version import __version__
from evosim.errors import AGAIN, DiskFullError, EvosimError, RunDirError
from evosim.evolve import metrics
from evosim.evolve.batch import BACKENDS, check_workers, run_batch
from evosim.evolve.checkpoints import (
    FINAL_FILE,
    METRICS_FILE,
    checkpoint_path,
    remove_temp_files,
    world_dir,
)
from evosim.evolve.lock import LOCK_FILE, run_lock
from evosim.evolve.metrics import rebuild_metrics
from evosim.evolve.plan import RunPlan, world_seeds
from evosim.evolve.resuming import final_step
from evosim.evolve.runfile import (
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_METRICS_EVERY,
    DEFAULT_RECORD_STEPS,
    check_metrics_rows,
)
from evosim.evolve.worker import Clipper, Listener
from evosim.limits import MAX_STEP
from evosim.scenario import Scenario, load_scenario, scenario_from_dict

if TYPE_CHECKING:
    from evosim.world import World

Progress = Callable[[Path, RunPlan], AbstractContextManager[Listener | None]]
"""``progress(run_dir, plan)``: a context manager around the stepping whose value is
the listener of the batch's progress messages (see :func:`~evosim.evolve.batch.run_batch`)."""


@dataclass(frozen=True)
class RunResult:
    """What a run left and its figures: rates per robot per 1,000 steps over the ticks
    from ``start`` to ``steps``, summed over every world."""

    run_dir: Path
    """The run folder."""
    finals: tuple[Path, ...]
    """Each world's final state (``RUN/world-NNN/final.npz``), in world order."""
    scenario: str
    """The scenario's name."""
    seeds: tuple[int, ...]
    """Each world's seed."""
    start: int
    """The step the worlds started from (0, or a continued checkpoint's step)."""
    steps: int
    """The step every world ended at."""
    seconds: float
    """Wall-clock seconds this call stepped (0 when there was nothing to do)."""
    fruit_per_robot_per_1k: float
    mine_deaths_per_robot_per_1k: float
    final_mean_speed_gene: float
    """Mean over worlds of each world's mean speed gene at the last step."""
    max_generation: int
    """The highest generation alive at the last step, over all worlds."""
    ran: bool = True
    """False when :func:`resume` found the run finished and changed nothing."""

    @property
    def worlds(self) -> int:
        return len(self.seeds)

    def as_dict(self) -> dict[str, Any]:
        """The figures as ``evosim evolve --json`` prints them."""
        return {
            "run_dir": str(self.run_dir),
            "scenario": self.scenario,
            "worlds": self.worlds,
            "seeds": list(self.seeds),
            "start": self.start,
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "fruit_per_robot_per_1k": self.fruit_per_robot_per_1k,
            "mine_deaths_per_robot_per_1k": self.mine_deaths_per_robot_per_1k,
            "final_mean_speed_gene": self.final_mean_speed_gene,
            "max_generation": self.max_generation,
        }


def result_of(run_dir: Path, plan: RunPlan, seconds: float = 0.0, ran: bool = True
              ) -> RunResult:
    """The :class:`RunResult` of the finished run in ``run_dir`` (from its ``metrics.csv``)."""
    rows = metrics.read_rows(run_dir / METRICS_FILE)
    last = [r for r in rows if r["step"] == plan.steps]
    robots = plan.build_scenario().robots.count
    per_k = 1000.0 / ((plan.steps - plan.start) * robots * plan.worlds)
    return RunResult(
        run_dir=run_dir,
        finals=tuple(world_dir(run_dir, i) / FINAL_FILE for i in range(plan.worlds)),
        scenario=plan.scenario_name,
        seeds=tuple(plan.seeds),
        start=plan.start,
        steps=plan.steps,
        seconds=seconds,
        fruit_per_robot_per_1k=sum(r["fruit_eaten"] for r in rows) * per_k,
        mine_deaths_per_robot_per_1k=sum(r["mine_deaths"] for r in rows) * per_k,
        final_mean_speed_gene=sum(r["mean_speed_gene"] for r in last) / max(len(last), 1),
        max_generation=max((int(r["max_generation"]) for r in last), default=0),
        ran=ran,
    )


def _at_least(name: str, value: int, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise EvosimError(f"{name}: expected an integer of at least {lo}, got {value!r}")


def run(scenario: str | Path | Scenario, steps: int, *, worlds: int = 1, seed: int = 0,
        out: str | Path | None = None, checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        metrics_every: int = DEFAULT_METRICS_EVERY, migrate_every: int | None = None,
        migrants: int | None = None, record_every: int = 0,
        record_steps: int = DEFAULT_RECORD_STEPS, clipper: Clipper | None = None,
        workers: int | None = None, threads: int = 1, backend: str = "local",
        ray_address: str | None = None, progress: Progress | None = None,
        notice: TextIO | None = None, command: Sequence[str] = ()) -> RunResult:
    """Evolve ``worlds`` worlds of ``scenario`` for ``steps`` ticks into the new run
    folder ``out``; returns the :class:`RunResult`.

    :param scenario: a built-in scenario name, a ``.toml`` path, a
        :class:`~evosim.scenario.Scenario`, or a checkpoint ``.npz`` whose world
        continues (one world; ``steps`` then counts from its step).
    :param worlds: independent worlds, seeded by :func:`~evosim.evolve.plan.world_seeds`
        from ``seed``.
    :param out: the run folder, new or empty (default ``runs/NAME-seedS``, or
        ``runs/NAME-from-stepN`` for a checkpoint).
    :param migrate_every: ticks between migrations (islands), overriding the scenario's
        ``migration.every``; ``migrants`` overrides ``migration.count``.
    :param record_every: a clip of each world every this many ticks (0: none), of
        ``record_steps`` ticks each, written by ``clipper``
        (:func:`evosim.record.clips.record_clip`; injected, as evolve does not import
        the recorder).
    :param workers: worker processes (default: the cores this process may use);
        ``threads``: threads per world. Neither changes the results.
    :param backend: ``"local"`` worker processes or ``"ray"`` tasks (at ``ray_address``).
    :param progress: see :data:`~evosim.evolve.runs.Progress`.
    :param notice: where to say, once, that the kernels compile (cold cache only);
        None: compile silently.
    :param command: the command line recorded in ``run.json``.
    :raises EvosimError: on a bad value, scenario, checkpoint or folder.
    """
    from evosim._compile import say_if_compiling

    for name, value, lo in (("steps", steps, 1), ("worlds", worlds, 1),
                            ("checkpoint_every", checkpoint_every, 1),
                            ("metrics_every", metrics_every, 1), ("threads", threads, 1),
                            ("record_every", record_every, 0),
                            ("record_steps", record_steps, 1)):
        _at_least(name, value, lo)
    if record_every and clipper is None:
        raise EvosimError("record_every: needs a clipper (evosim.record.clips.record_clip)")
    _check_backend(backend, ray_address)
    start = _starting_point(scenario, worlds, seed, migrate_every, migrants, threads, notice)
    run_dir = Path(out) if out is not None else start.default_out
    plan = _new_plan(start, steps, checkpoint_every=checkpoint_every,
                     metrics_every=metrics_every, record_every=record_every,
                     record_steps=record_steps, command=command)
    workers = check_workers(workers, plan.worlds)
    if start.world is None:
        say_if_compiling(notice is None, stream=notice, threaded=threads > 1)
        _check_world_builds(start.scenario, plan.seeds[0])
    _prepare_out_dir(run_dir)
    with run_lock(run_dir):
        _prepare_out_dir(run_dir)  # again, now that no other writer can come in between
        _write_start(run_dir, plan, start.world)
        return _execute(run_dir, plan, workers, threads, backend, ray_address, progress,
                        clipper)


@dataclass(frozen=True)
class _Start:
    """Where a new run begins: a scenario's step 0, or a checkpoint's world."""

    scenario: Scenario
    seed: int
    seeds: list[int]
    step: int
    default_out: Path
    world: World | None = None  # a checkpoint's world: world 0's first checkpoint


def _starting_point(scenario: str | Path | Scenario, worlds: int, seed: int,
                    migrate_every: int | None, migrants: int | None, threads: int,
                    notice: TextIO | None) -> _Start:
    """The :class:`_Start` of :func:`run`'s ``scenario`` argument (see there)."""
    if isinstance(scenario, Scenario) or Path(scenario).suffix != ".npz":
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        sc = _with_migration(sc, migrate_every, migrants)
        return _Start(sc, seed, world_seeds(seed, worlds), 0,
                      Path("runs") / f"{sc.name}-seed{seed}")
    from evosim._compile import say_if_compiling
    from evosim.world import World

    if worlds != 1:
        raise EvosimError(f"worlds: a checkpoint is one world, got {worlds}")
    if migrate_every is not None or migrants is not None:
        raise EvosimError("migrate_every/migrants: a checkpoint is one world, with no "
                          "neighbour to migrate to")
    say_if_compiling(notice is None, stream=notice, threaded=threads > 1)
    world = World.load(scenario)
    step = world.step_count
    return _Start(world.scenario, world.seed, [world.seed], step,
                  Path("runs") / f"{world.scenario.name}-from-step{step}", world)


def _new_plan(start: _Start, steps: int, *, checkpoint_every: int, metrics_every: int,
              record_every: int, record_steps: int, command: Sequence[str]) -> RunPlan:
    """The :class:`RunPlan` of a new run of ``steps`` ticks from ``start``."""
    plan = RunPlan(
        scenario=start.scenario.model_dump(mode="json"),
        seed=start.seed,
        seeds=start.seeds,
        steps=start.step + steps,
        checkpoint_every=checkpoint_every,
        metrics_every=metrics_every,
        record_every=record_every,
        record_steps=record_steps if record_every else 0,
        evosim_version=__version__,
        command=list(command),
        start=start.step,
    )
    if plan.steps > MAX_STEP:
        raise EvosimError(f"steps: expected a run of at most {MAX_STEP:,} steps, got "
                          f"{plan.steps:,}")
    check_metrics_rows(plan.steps, plan.metrics_every, "steps/metrics_every")
    return plan


def _write_start(run_dir: Path, plan: RunPlan, start_world: World | None) -> None:
    """``run.json`` and, for a run from a checkpoint, world 0's first checkpoint; on a
    full disk the folder is left empty (there is no run to continue yet)."""
    try:
        plan.save(run_dir)
        if start_world is not None:
            start_world.save(checkpoint_path(run_dir, 0, plan.start), extra={
                "world": 0, "run_steps": plan.steps,
                "metrics_previous": metrics.counters_vector(start_world)})
    except DiskFullError as exc:
        _empty_out_dir(run_dir)
        raise exc.with_hint(AGAIN) from None


def resume(run_dir: str | Path, steps: int | None = None, *, workers: int | None = None,
           threads: int = 1, backend: str = "local", ray_address: str | None = None,
           clipper: Clipper | None = None, progress: Progress | None = None,
           notice: TextIO | None = None, command: Sequence[str] | None = None) -> RunResult:
    """Continue the stopped run in ``run_dir`` from its last checkpoints; with ``steps``
    beyond the run's end, extend it to ``steps``. The result equals, byte for byte, that
    of a run made that long from the start. A finished run is left alone
    (:attr:`RunResult.ran` is False).

    :param clipper: records the run's clips, if it records any (see :func:`run`).
    :param command: the command line recorded in ``run.json`` when the run is extended
        (default: the one it has).

    The other arguments are those of :func:`run`.
    :raises RunDirError: on a folder that is not a run, or ``steps`` below its length.
    """
    run_dir = Path(run_dir)
    _check_backend(backend, ray_address)
    if steps is not None:
        _at_least("steps", steps, 1)
    RunPlan.load(run_dir)  # a folder that is no run fails before a lock file is made
    try:
        return _resume(run_dir, steps, workers, threads, backend, ray_address, clipper,
                       progress, notice, command)
    except DiskFullError as exc:
        raise exc.with_hint(continue_hint(run_dir)) from None


def _resume(run_dir: Path, steps: int | None, workers: int | None, threads: int,
            backend: str, ray_address: str | None, clipper: Clipper | None,
            progress: Progress | None, notice: TextIO | None,
            command: Sequence[str] | None) -> RunResult:
    with run_lock(run_dir):
        plan = RunPlan.load(run_dir)  # as the last writer left it
        if steps is not None and steps != plan.steps:
            if steps < plan.steps:
                raise RunDirError(f"{run_dir}: steps {steps} is below the run's "
                                  f"{plan.steps} steps; a run cannot be shortened")
            check_metrics_rows(steps, plan.metrics_every, "steps")
            plan = replace(plan, steps=steps,
                           command=plan.command if command is None else list(command))
            plan.save(run_dir)
        if plan.record_every and clipper is None:
            raise EvosimError("clipper: this run records clips every "
                              f"{plan.record_every} ticks; pass one "
                              "(evosim.record.clips.record_clip)")
        _reopen_finals(run_dir, plan)
        finished = all(final_step(run_dir, plan, i) for i in range(plan.worlds))
        current = run_dir / METRICS_FILE
        # Bytes, not text: a garbage metrics.csv is simply rebuilt, never decoded.
        if (finished and current.is_file()
                and current.read_bytes() == rebuild_metrics(run_dir, plan).encode()):
            return result_of(run_dir, plan, ran=False)
        remove_temp_files(run_dir)
        from evosim._compile import say_if_compiling

        say_if_compiling(notice is None, stream=notice, threaded=threads > 1)
        return _execute(run_dir, plan, check_workers(workers, plan.worlds), threads, backend,
                        ray_address, progress, clipper)


def _execute(run_dir: Path, plan: RunPlan, workers: int, threads: int, backend: str,
             ray_address: str | None, progress: Progress | None,
             clipper: Clipper | None) -> RunResult:
    started = time.monotonic()
    hook = progress(run_dir, plan) if progress is not None else contextlib.nullcontext()
    try:
        with hook as listener:
            run_batch(run_dir, plan, workers, listener=listener,
                      clipper=clipper if plan.record_every else None, threads=threads,
                      backend=backend, ray_address=ray_address)
    except OSError as exc:  # a full disk outside the atomic writers (a folder made)
        full = disk_full(exc, exc.filename or run_dir)
        if full is None:
            raise
        raise full.with_hint(continue_hint(run_dir)) from None
    except DiskFullError as exc:
        raise exc.with_hint(continue_hint(run_dir)) from None
    return result_of(run_dir, plan, time.monotonic() - started)


def continue_hint(run_dir: Path) -> str:
    """What to do after a full disk stopped the run in ``run_dir``: its files are whole
    (every write is atomic), so it continues where it stopped, with the same bytes."""
    return (f"free some space, then continue with: evosim evolve --resume {run_dir} "
            f"(or: evosim resume {run_dir})")


def _empty_out_dir(out: Path) -> None:
    """Remove what this run wrote into ``out`` (new or empty when it began: checked)."""
    for path in out.iterdir():
        if path.name == LOCK_FILE:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _check_backend(backend: str, ray_address: str | None) -> None:
    if backend not in BACKENDS:
        raise EvosimError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if ray_address is not None and backend != "ray":
        raise EvosimError("ray_address: only with backend 'ray'")


def _prepare_out_dir(out: Path) -> None:
    """Create ``out``, refusing one that already holds files (never overwrite a run)."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir()):
        raise RunDirError(f"{out}: folder is not empty; choose a new folder (or continue "
                          f"a stopped run with: evosim resume {out})")
    out.mkdir(parents=True, exist_ok=True)


def _check_world_builds(scenario: Scenario, seed: int) -> None:
    """Build the first world here, so a scenario that cannot start (a missing or
    ill-fitting ``seed_brain``...) fails before the run folder exists, not in a worker."""
    from evosim.world import World

    World(scenario, seed=seed)


def _with_migration(scenario: Scenario, every: int | None, count: int | None) -> Scenario:
    """``scenario`` with ``every``/``count`` in its ``[migration]`` table (so run.json
    records them where the scenario's own values would be)."""
    if every is None and count is None:
        return scenario
    data = scenario.model_dump(mode="json")
    if every is not None:
        data["migration"]["every"] = every
    if count is not None:
        data["migration"]["count"] = count
    return scenario_from_dict(data, source="migrate_every/migrants")


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
            make_dirs(target.parent)
            path.replace(target)
            fsync_dir(target.parent)
        else:
            path.unlink()
        fsync_dir(path.parent)
