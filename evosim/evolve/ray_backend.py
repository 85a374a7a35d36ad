"""The Ray backend: each world's epoch (the ticks between two migration
boundaries, or the whole run without migration) is one Ray task, on whatever
cluster ``ray.init`` joins (a new local one when no address is given).

A task runs :func:`evosim.evolve.worker.run_world`, which reads and writes the run
folder itself: on a cluster the folder must be on a file system every node
mounts at the same path. The driver waits for every world at each boundary, so
the results are those of the local backend, byte for byte. A task whose worker
process dies (``kill -9``, a lost node) is retried by Ray up to ``RERUNS`` times;
the retry starts from the world's last checkpoint, which gives the same bytes.

A world has one writer at a time, even across a lost node: a task's process ends
as soon as its node's raylet is gone (Ray alone would let it run on, writing), and
a task holds its world's lock (:func:`evosim.evolve.lock.world_lock`), so a retry
waits for any attempt still running. Ray is imported only here, and only when this
backend is chosen.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evosim._atomic import disk_full
from evosim._process import exit_when_orphaned
from evosim.errors import EvosimError
from evosim.evolve import metrics
from evosim.evolve.checkpoints import remove_temp_files, world_dir
from evosim.evolve.lock import world_lock
from evosim.evolve.plan import RunPlan
from evosim.evolve.resuming import reached
from evosim.evolve.worker import RERUNS, SINGLE_THREAD_ENV, Clipper, Listener, run_world


def _world_epoch(run_dir: str, plan: dict, index: int, until: int,
                 clipper: Clipper | None = None, threads: int = 1) -> list[int]:
    """A Ray task: bring world ``index`` to step ``until``; its counters at the end."""
    from evosim.evolve.checkpoints import FINAL_FILE, checkpoint_path
    from evosim.world import World

    _exit_with_raylet()
    folder = world_dir(Path(run_dir), index)
    run_plan = RunPlan(**plan)
    try:
        with world_lock(folder):  # an earlier attempt (on a lost node) has ended
            remove_temp_files(folder)  # what a killed attempt left half-written
            run_world(Path(run_dir), run_plan, index, until, clipper, threads)
    except OSError as exc:  # a full disk outside the atomic writers: still one line
        full = disk_full(exc, exc.filename or run_dir)
        if full is None:
            raise
        raise full from None
    path = (folder / FINAL_FILE if until == run_plan.steps
            else checkpoint_path(Path(run_dir), index, until))
    return metrics.counters_vector(World.load(path))


_watched = False


def _exit_with_raylet() -> None:
    """Once per Ray worker process: end it when its parent, its node's raylet, dies
    (a lost node), so that its task's retry elsewhere is the world's only writer.
    Ray itself lets such a worker run on for a while."""
    global _watched
    if not _watched:
        _watched = True
        exit_when_orphaned(os.getppid(), poll=0.2)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EvosimError("--backend ray: Ray is not installed; install it with: "
                          "pip install 'evosim[ray]'") from None
    return ray


def run_ray(run_dir: Path, plan: RunPlan, listener: Listener | None,
            address: str | None, clipper: Clipper | None = None, threads: int = 1) -> None:
    """Bring every world of ``plan`` to its end, epoch by epoch, as Ray tasks.

    Uses the Ray already initialised in this process if there is one; otherwise
    joins ``address`` (a new local Ray when None) and shuts it down at the end.
    """
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        try:
            env = {**SINGLE_THREAD_ENV, "NUMBA_NUM_THREADS": str(threads)}
            ray.init(address=address, runtime_env={"env_vars": env},
                     logging_level=logging.ERROR, log_to_driver=False,
                     include_dashboard=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EvosimError(f"--ray-address {address}: cannot join Ray ({first})") from None
    task = ray.remote(num_cpus=threads, max_retries=RERUNS, retry_exceptions=False)(_world_epoch)
    folder = str(run_dir.resolve())
    pending: dict[Any, int] = {}
    try:
        for until in plan.epoch_ends():
            for i in range(plan.worlds):
                if reached(run_dir, plan, i) < until:
                    pending[task.remote(folder, asdict(plan), i, until, clipper, threads)] = i
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                index = pending.pop(ready[0])
                counters = _result(ray, ready[0], index, run_dir)
                if listener is not None:
                    listener(("step", index, until, counters))
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def _result(ray: Any, ref: Any, index: int, run_dir: Path) -> list[int]:
    """The task's value; its error as an EvosimError (one line)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, EvosimError):  # its own kind (a DiskFullError stays one)
            raise cause.with_traceback(None) from None
        raise EvosimError(f"world {index}: Ray task failed: {cause!r}") from None
    except ray.exceptions.RayError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EvosimError(f"world {index}: its Ray worker died {RERUNS + 1} times (last: "
                          f"{first}); continue with: evosim evolve --resume {run_dir}") from None
