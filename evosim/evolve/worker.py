"""One world's run, and the main loop of a worker process.

:func:`run_world` brings one world of a run folder from where it stands to a step
(a migration boundary, or the end); the local backend's workers and the Ray
tasks both call it, so the backend never changes the results. Crash safety comes
from the order of writes, each atomic: a world's ``metrics.csv`` (every row up
to step T) is written before its checkpoint at step T, and the checkpoint keeps
the counters of the last metrics boundary. A resume truncates the rows beyond
the checkpoint and recomputes them, so no row is lost or doubled.

Each world's event log (:mod:`evosim.evolve.events`) follows the same rule: the
events up to step T are written before the checkpoint at T, and a resume removes
the files past its checkpoint.

Progress goes out as messages, ``("start"|"step", world, step, counters)`` while a
world runs, then ``("done", world)`` or ``("error", world, exception)`` from
:func:`worker_main`, over the pipe the worker was given.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evosim._atomic import disk_full
from evosim._process import die_with_parent
from evosim.errors import EvosimError
from evosim.evolve import events, metrics
from evosim.evolve.checkpoints import FINAL_FILE, METRICS_FILE, checkpoint_path, world_dir
from evosim.evolve.plan import RunPlan, multiple_after
from evosim.evolve.resuming import final_step, immigrants, start_world

if TYPE_CHECKING:
    from evosim.world import World

CHUNK = 1000  # most ticks per kernel call between progress reports
RERUNS = 2  # times a lost world is rerun from its last checkpoint before the run stops
# Set in each worker before numba loads: one thread per process.
SINGLE_THREAD_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

Listener = Callable[[tuple], None]
"""Gets each progress message of a run (see above)."""

_progress: Any = None  # the pipe a worker reports to (set in worker_main)


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


def worker_main(conn: Any, jobs: Any, parent: int, run_dir: str, plan: dict,
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
        except BaseException as exc:
            # A full disk outside the atomic writers (a folder made, a clip's ffmpeg)
            # is still the one-line error, not a traceback.
            full = disk_full(exc, getattr(exc, "filename", None) or run_dir)
            _report(("error", index, full if full is not None else RuntimeError(
                f"world {index}: worker failed:\n{traceback.format_exc()}")))
            sys.exit(1)
        _report(("done", index))


def _clip(run_dir: Path, plan: RunPlan, index: int, world: World,
          clipper: Clipper | None) -> None:
    """World ``index``'s clip from its step now, if clips are recorded, the step is a
    multiple of ``plan.record_every`` and the clip's file does not exist yet."""
    step = world.step_count
    if clipper is None or step % plan.record_every:
        return
    path = clip_path(run_dir, index, step)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        clipper(world, path, plan.record_steps)


def _save(run_dir: Path, plan: RunPlan, index: int, world: World, pending: np.ndarray,
          rows: list[dict[str, int | float]], previous: list[int]) -> None:
    """World ``index``'s events and metric rows up to its step now, then its state
    there (a checkpoint, or the final state at the run's end): a resume from the
    state finds the rows and events of every step before it."""
    step = world.step_count
    folder = world_dir(run_dir, index)
    events.write_events(events.events_path(run_dir, index, step), pending)
    metrics.write_rows(folder / METRICS_FILE, rows)
    world.save(folder / FINAL_FILE if step == plan.steps
               else checkpoint_path(run_dir, index, step),
               extra={"world": index, "run_steps": plan.steps, "metrics_previous": previous})


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
    world, rows, previous = start_world(run_dir, plan, index, threads)
    step = world.step_count
    if step >= until:
        return index
    _report(("start", index, world.step_count, metrics.counters_vector(world)))
    # The event log past this point is recomputed; the run's first file lists the
    # robots it starts with.
    events.drop_after(run_dir, index, step)
    pending = [world.initial_events()] if step == plan.start else []
    clips = clipper if plan.record_every > 0 and plan.record_steps > 0 else None
    _clip(run_dir, plan, index, world, clips)
    every, _ = plan.migration()
    if every and 0 < step < plan.steps and step % every == 0:
        world.receive_offspring(immigrants(run_dir, plan, index, step))
    while step < until:
        target = min(until, step + CHUNK, multiple_after(step, plan.metrics_every),
                     multiple_after(step, plan.checkpoint_every),
                     multiple_after(step, plan.record_every) if clips else plan.steps)
        world.step(target - step, events=True)
        pending.append(world.drain_events())
        step = target
        _clip(run_dir, plan, index, world, clips)
        if step % plan.metrics_every == 0 or step == plan.steps:
            rows.append(metrics.metrics_row(world, index, previous))
            previous = metrics.counters_vector(world)
        if (step == plan.steps or step % plan.checkpoint_every == 0
                or (every and step % every == 0)):
            _save(run_dir, plan, index, world, np.concatenate(pending), rows, previous)
            pending = []
        _report(("step", index, step, metrics.counters_vector(world)))
    return index
