"""Many worlds evolved in worker processes, with checkpoints, resume and migration.

Worlds advance epoch by epoch: the whole run without migration, else the ticks
between two migration boundaries, after which every world waits for the others
and then takes its ring neighbour's emigrants (from the neighbour's checkpoint
of that boundary). A worker (a spawned process, single-threaded, alive for the
whole run) takes one (world, epoch) job after another, so a run's results never
depend on how many workers it had, nor on the backend (``ray_backend``). Crash safety comes
from the order of writes, each atomic: a world's ``metrics.csv`` (every row up
to step T) is written before its checkpoint at step T, and the checkpoint keeps
the counters of the last metrics boundary. A resume truncates the rows beyond
the checkpoint and recomputes them, so no row is lost or doubled.

Each world's event log (:mod:`evosim.evolve.events`) follows the same rule: the
events up to step T are written before the checkpoint at T, and a resume removes
the files past its checkpoint.

Faults: each world runs in a process of its own that dies with the main process
(``PR_SET_PDEATHSIG`` on Linux, and a watchdog thread everywhere), and reports
over a pipe (no semaphores, so nothing for ``resource_tracker`` to complain
about). A worker that dies without reporting an error (``kill -9``, the
out-of-memory killer, a crash) is noticed through its sentinel; its world is
rerun from its last checkpoint, which gives the same bytes as an unbroken run.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evosim._atomic import atomic_write_text
from evosim._process import die_with_parent
from evosim.errors import CheckpointError, EvosimError, RunDirError
from evosim.evolve import events, metrics
from evosim.evolve.checkpoints import (
    FINAL_FILE,
    METRICS_FILE,
    RUN_FILE,
    checkpoint_path,
    list_checkpoints,
    remove_temp_files,
    world_dir,
)
from evosim.evolve.runfile import check_run_data
from evosim.limits import MAX_JSON_BYTES
from evosim.scenario import Scenario, scenario_from_dict

if TYPE_CHECKING:
    from evosim.world.migration import Migrants

RUN_FORMAT = "evosim-run"
RUN_SCHEMA = 1
CHUNK = 1000  # most ticks per kernel call between progress reports
RERUNS = 2  # times a lost world is rerun from its last checkpoint before the run stops
# Set in each worker before numba loads: one thread per process.
SINGLE_THREAD_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def world_seeds(seed: int, worlds: int) -> list[int]:
    """Per-world seeds: the first 64-bit word of each ``SeedSequence(seed).spawn(worlds)``."""
    children = np.random.SeedSequence(seed).spawn(worlds)
    return [int(child.generate_state(1, np.uint64)[0]) for child in children]


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


@dataclass(frozen=True)
class RunPlan:
    """Everything that decides a run's results; saved as ``run.json``."""

    scenario: dict[str, Any]
    seed: int
    seeds: list[int]
    steps: int
    checkpoint_every: int
    metrics_every: int
    evosim_version: str = ""
    command: list[str] = field(default_factory=list)
    format: str = RUN_FORMAT
    schema: int = RUN_SCHEMA
    start: int = 0  # the step the worlds start from (a run continuing a checkpoint)
    record_every: int = 0  # a clip of each world every this many ticks (0: none)
    record_steps: int = 0  # ticks per clip

    @property
    def worlds(self) -> int:
        return len(self.seeds)

    @property
    def scenario_name(self) -> str:
        return str(self.scenario.get("name", "scenario"))

    def build_scenario(self) -> Scenario:
        return scenario_from_dict(self.scenario, source=f"{RUN_FILE} (scenario)")

    def metrics_steps(self) -> list[int]:
        """Steps that end a metrics interval: multiples of metrics_every after ``start``,
        and the last step."""
        first = _multiple_after(self.start, self.metrics_every)
        out = list(range(first, self.steps + 1, self.metrics_every))
        if not out or out[-1] != self.steps:
            out.append(self.steps)
        return out

    def migration(self) -> tuple[int, int]:
        """(every, count) of the scenario's ``[migration]``: ticks between migrations and
        migrants per world; (0, 0) when the worlds never migrate (one world alone, too)."""
        table = self.build_scenario().migration
        if self.worlds < 2 or table.every == 0 or table.count == 0:
            return 0, 0
        return table.every, table.count

    def epoch_ends(self) -> list[int]:
        """Steps at which every world stops and waits for the others (migration
        boundaries after ``start``, and the last step); just the last without migration."""
        every, _ = self.migration()
        if every == 0:
            return [self.steps]
        return [*range(_multiple_after(self.start, every), self.steps, every), self.steps]

    def save(self, run_dir: Path) -> None:
        data = asdict(self)
        data["worlds"] = self.worlds
        atomic_write_text(run_dir / RUN_FILE, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, run_dir: Path) -> RunPlan:
        path = run_dir / RUN_FILE
        if not run_dir.is_dir():
            raise RunDirError(f"{run_dir}: no such run folder")
        try:
            if path.stat().st_size > MAX_JSON_BYTES:
                raise RunDirError(f"{path}: larger than {MAX_JSON_BYTES:,} bytes; not a run file")
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise RunDirError(f"{run_dir}: not an evosim run folder (no {RUN_FILE})") from None
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{path}: unreadable ({exc})") from None
        except RecursionError:
            raise RunDirError(f"{path}: unreadable (JSON nested too deeply)") from None
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            raise RunDirError(f"{path}: not an evosim run file (format is not {RUN_FORMAT!r})")
        if data.get("schema") != RUN_SCHEMA:
            raise RunDirError(f"{path}: schema: expected {RUN_SCHEMA}, got {data.get('schema')!r}")
        data.pop("worlds", None)
        check_run_data(path, data)
        try:
            plan = cls(**data)
            ok = (0 <= plan.start < plan.steps and plan.checkpoint_every >= 1
                  and plan.metrics_every >= 1 and len(plan.seeds) >= 1)
        except TypeError as exc:
            raise RunDirError(f"{path}: unexpected contents ({exc})") from None
        if not ok:
            raise RunDirError(f"{path}: steps, intervals and seeds must be positive")
        plan.build_scenario()  # a bad scenario fails here, as a one-line error
        return plan


# ------------------------------------------------------------------ one world (in a worker)

_progress: Any = None  # the pipe a worker reports to (set in _worker_main)


def _report(message: tuple) -> None:
    if _progress is not None:
        try:
            _progress.send(message)
        except OSError:  # the main process is gone: stop at once, quietly
            os._exit(1)


Clipper = Callable[[Any, Path, int], Any]
"""``clipper(world, path, steps)`` records ``steps`` ticks of a copy of ``world`` to a
video at ``path`` (``evosim.record.clips.record_clip``; injected, since evolve does not
import the recorder). It must leave ``world`` as it was."""
CLIPS_DIR = "clips"


def clip_path(run_dir: Path, index: int, step: int) -> Path:
    """``RUN/world-NNN/clips/step-NNNNNNNNN.mp4``."""
    return world_dir(run_dir, index) / CLIPS_DIR / f"step-{step:09d}.mp4"


def _worker_main(conn: Any, jobs: Any, parent: int, run_dir: str, plan: dict,
                 clipper: Clipper | None = None, threads: int = 1) -> None:
    """A worker process: take (world, until) jobs until told to stop (None); evolve the
    world to ``until``, report progress, then ("done"|"error", world, ...)."""
    global _progress
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    _progress = conn
    run_plan = RunPlan(**plan)
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):  # the main process is gone
            os._exit(1)
        if job is None:
            return
        index, until = job
        try:
            run_world(Path(run_dir), run_plan, index, until, clipper, threads)
        except EvosimError as exc:
            _report(("error", index, exc))
            sys.exit(1)
        except BaseException:
            _report(("error", index, RuntimeError(f"world {index}: worker failed:\n"
                                                  f"{traceback.format_exc()}")))
            sys.exit(1)
        _report(("done", index))


def _multiple_after(step: int, every: int) -> int:
    return (step // every + 1) * every


def _check_belongs(path: Path, world: Any, plan: RunPlan, index: int) -> None:
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


def _kept_rows(run_dir: Path, plan: RunPlan, index: int, upto: int) -> list[dict]:
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


def _start(run_dir: Path, plan: RunPlan, index: int, threads: int = 1
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
    _check_belongs(path, world, plan, index)
    if world.step_count != step:
        raise CheckpointError(f"{path}: holds step {world.step_count}, its name says {step}")
    extra = _extra(path)
    previous = extra.get("metrics_previous")
    if not (isinstance(previous, list) and len(previous) == len(metrics.COUNT_COLUMNS)
            and all(type(v) is int and v >= 0 for v in previous)):
        raise CheckpointError(f"{path}: not a checkpoint of an evolve run (no metrics state)")
    return world, _kept_rows(run_dir, plan, index, step), [int(v) for v in previous]


def _extra(path: Path) -> dict:
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
    _check_belongs(path, world, plan, index)
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
    _check_belongs(path, world, plan, source)
    return emigrants(world.state, count)


def run_world(run_dir: Path, plan: RunPlan, index: int, until: int | None = None,
              clipper: Clipper | None = None, threads: int = 1) -> int:
    """Evolve world ``index`` from its last checkpoint (or step 0) to step ``until``
    (the end by default; a migration boundary with islands) on ``threads`` threads
    (the same results on any number); returns ``index``.

    A world starting from a migration boundary first takes in its neighbour's
    migrants: its checkpoint there is the state before they came.

    With ``plan.record_every`` and a ``clipper``, a clip of ``plan.record_steps`` ticks
    is recorded from a copy of the world at every multiple of ``record_every`` (from
    the start), unless its file exists already (a resumed run).
    """
    until = plan.steps if until is None else until
    if final_step(run_dir, plan, index):
        return index
    world, rows, previous = _start(run_dir, plan, index, threads)
    folder = world_dir(run_dir, index)
    step = world.step_count
    if step >= until:
        return index
    _report(("start", index, world.step_count, metrics.counters_vector(world)))
    # The event log past this point is recomputed; the run's first file lists the
    # robots it starts with.
    events.drop_after(run_dir, index, step)
    pending = [world.initial_events()] if step == plan.start else []
    clips = clipper is not None and plan.record_every > 0 and plan.record_steps > 0

    def clip() -> None:
        path = clip_path(run_dir, index, step)
        if clips and clipper is not None and step % plan.record_every == 0 \
                and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            clipper(world, path, plan.record_steps)

    clip()
    every, _ = plan.migration()
    if every and 0 < step < plan.steps and step % every == 0:
        world.receive_offspring(immigrants(run_dir, plan, index, step))
    while step < until:
        target = min(until, step + CHUNK, _multiple_after(step, plan.metrics_every),
                     _multiple_after(step, plan.checkpoint_every),
                     _multiple_after(step, plan.record_every) if clips else plan.steps)
        world.step(target - step, events=True)
        pending.append(world.drain_events())
        step = target
        clip()
        if step % plan.metrics_every == 0 or step == plan.steps:
            rows.append(metrics.metrics_row(world, index, previous))
            previous = metrics.counters_vector(world)
        extra = {"world": index, "run_steps": plan.steps, "metrics_previous": previous}
        if (step == plan.steps or step % plan.checkpoint_every == 0
                or (every and step % every == 0)):
            # Rows and events up to ``step`` before the state of ``step``: see above.
            events.write_events(events.events_path(run_dir, index, step),
                                np.concatenate(pending))
            pending = []
            metrics.write_rows(folder / METRICS_FILE, rows)
            world.save(folder / FINAL_FILE if step == plan.steps
                       else checkpoint_path(run_dir, index, step), extra=extra)
        _report(("step", index, step, metrics.counters_vector(world)))
    return index


# ------------------------------------------------------------------ the batch (main process)


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for processes started inside the block, then restore."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def rebuild_metrics(run_dir: Path, plan: RunPlan) -> str:
    """``RUN/metrics.csv`` text: every world's rows, ordered by step then world."""
    per_world = []
    for i in range(plan.worlds):
        path = world_dir(run_dir, i) / METRICS_FILE
        per_world.append(metrics.read_rows(path) if path.exists() else [])
    return metrics.rows_to_csv(metrics.merged(per_world))


def write_metrics(run_dir: Path, plan: RunPlan) -> None:
    atomic_write_text(run_dir / METRICS_FILE, rebuild_metrics(run_dir, plan))


Listener = Callable[[tuple], None]


def _warn(message: str) -> None:
    print(f"evosim evolve: {message}", file=sys.stderr)


BACKENDS = ("local", "ray")


@dataclass
class _Worker:
    process: Any
    conn: Any  # its reports
    jobs: Any  # (world, until) to do next; None: stop
    index: int | None = None  # the world it works on; None when idle
    error: BaseException | None = None


def run_batch(run_dir: Path, plan: RunPlan, workers: int, listener: Listener | None = None,
              poll: float = 0.2, warn: Callable[[str], None] = _warn, backend: str = "local",
              ray_address: str | None = None, clipper: Clipper | None = None,
              threads: int = 1) -> None:
    """Run every unfinished world of ``plan``, epoch by epoch (one epoch without
    migration): locally in at most ``workers`` processes, or as Ray tasks.

    ``listener`` gets each progress message: ``("start"|"step", world, step, counters)``.
    A world whose worker dies without a word is rerun from its last checkpoint (``warn``
    says so), up to ``RERUNS`` times; a worker's error is raised here. Between epochs
    every world waits for the others, so migrants come from the same step whatever
    the number of workers or the backend. Local workers live for the whole run and
    take one (world, epoch) job after another. ``clipper`` (a module-level function:
    workers are spawned) records the clips of ``plan.record_every``. Each world steps
    on ``threads`` threads (for fewer worlds than cores).
    """
    if backend == "ray":
        from evosim.evolve.ray_backend import run_ray

        run_ray(run_dir, plan, listener, ray_address, clipper, threads)
    elif backend == "local":
        pool: list[_Worker] = []
        lost: dict[int, int] = {}
        try:
            for until in plan.epoch_ends():
                _run_local(run_dir, plan, workers, listener, poll, warn, until, lost, pool,
                           clipper, threads)
            for w in pool:
                with contextlib.suppress(OSError):
                    w.jobs.send(None)
        finally:
            for w in pool:
                if w.index is not None:
                    w.process.terminate()
            for w in pool:
                w.process.join()
                w.conn.close()
                w.jobs.close()
    else:
        raise EvosimError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    write_metrics(run_dir, plan)


def _run_local(run_dir: Path, plan: RunPlan, workers: int, listener: Listener | None,
               poll: float, warn: Callable[[str], None], until: int,
               lost: dict[int, int], pool: list[_Worker],
               clipper: Clipper | None = None, threads: int = 1) -> None:
    """Bring every world to step ``until`` with at most ``workers`` processes in ``pool``."""
    todo = deque(i for i in range(plan.worlds) if reached(run_dir, plan, i) < until)
    ctx = mp.get_context("spawn")  # a local context: never the global start method
    last_merge = time.monotonic()
    while todo or any(w.index is not None for w in pool):
        for w in pool:
            if todo and w.index is None:
                w.index = todo.popleft()
                w.jobs.send((w.index, until))
        while todo and len(pool) < workers:
            w = _spawn(ctx, run_dir, plan, clipper, threads)
            pool.append(w)
            w.index = todo.popleft()
            w.jobs.send((w.index, until))
        waitables = [w.conn for w in pool] + [w.process.sentinel for w in pool]
        ready = set(mp_connection.wait(waitables, timeout=poll))
        for w in list(pool):
            if w.conn in ready or w.process.sentinel in ready:
                _receive(w, listener)
            if w.error is not None:
                raise w.error
            if w.process.sentinel not in ready:
                continue
            w.process.join()
            _receive(w, listener)  # what it sent just before it ended
            pool.remove(w)
            w.conn.close()
            w.jobs.close()
            if w.error is not None:
                raise w.error
            if w.index is None:  # it ended between jobs: nothing lost
                continue
            lost[w.index] = lost.get(w.index, 0) + 1
            how = _exit_text(w.process.exitcode)
            if lost[w.index] > RERUNS:
                raise EvosimError(f"world {w.index}: its worker died {lost[w.index]} "
                                  f"times (last: {how}); continue with: "
                                  f"evosim evolve --resume {run_dir}")
            remove_temp_files(world_dir(run_dir, w.index))
            warn(f"world {w.index}: its worker died ({how}); rerunning it from its "
                 f"last checkpoint")
            todo.appendleft(w.index)
        if time.monotonic() - last_merge > 5.0:  # keep RUN/metrics.csv fresh
            write_metrics(run_dir, plan)
            last_merge = time.monotonic()


def _spawn(ctx: Any, run_dir: Path, plan: RunPlan, clipper: Clipper | None = None,
           threads: int = 1) -> _Worker:
    receiver, sender = ctx.Pipe(duplex=False)
    jobs_in, jobs_out = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker_main, name="evosim-worker", daemon=True,
                          args=(sender, jobs_in, os.getpid(), str(run_dir), asdict(plan),
                                clipper, threads))
    env = dict(SINGLE_THREAD_ENV)
    env["NUMBA_NUM_THREADS"] = str(threads)  # numba's pool for World(threads=...)
    with _env(env):
        process.start()
    sender.close()  # the worker holds the only writing end: EOF when it ends
    jobs_in.close()
    return _Worker(process, receiver, jobs_out)


def _receive(w: _Worker, listener: Listener | None) -> None:
    with contextlib.suppress(EOFError, OSError):
        while w.conn.poll():
            message = w.conn.recv()
            if message[0] == "error":
                w.error = message[2]
            elif message[0] == "done":
                w.index = None
            elif listener is not None:
                listener(message)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def check_workers(workers: int | None, worlds: int, warn: Callable[[str], None] = _warn) -> int:
    """The number of worker processes to start; a warning if more than the cores."""
    cores = default_workers()
    if workers is None:
        workers = cores
    if workers < 1:
        raise EvosimError(f"workers: expected at least 1, got {workers}")
    used = min(workers, worlds)
    if used > cores:
        warn(f"warning: {workers} workers is more than the {cores} core(s) this process "
             f"may use; {used} workers will share them (slower, same results)")
    return used
