"""Many worlds evolved on a backend, epoch by epoch, with checkpoints, resume and
migration.

Worlds advance epoch by epoch: the whole run without migration, else the ticks
between two migration boundaries, after which every world waits for the others
and then takes its ring neighbour's emigrants (from the neighbour's checkpoint
of that boundary). Each world's epoch is one call of
:func:`evosim.evolve.worker.run_world`, in a local worker process
(:mod:`~evosim.evolve.local_backend`) or a Ray task (:mod:`~evosim.evolve.ray_backend`),
so a run's results depend neither on the number of workers nor on the backend.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from evosim.errors import EvosimError
from evosim.evolve.local_backend import run_local
from evosim.evolve.metrics import write_metrics
from evosim.evolve.plan import RunPlan
from evosim.evolve.worker import Clipper, Listener


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


def _warn(message: str) -> None:
    print(f"evosim evolve: {message}", file=sys.stderr)


BACKENDS = ("local", "ray")


def run_batch(run_dir: Path, plan: RunPlan, workers: int, listener: Listener | None = None,
              poll: float = 0.2, warn: Callable[[str], None] = _warn, backend: str = "local",
              ray_address: str | None = None, clipper: Clipper | None = None,
              threads: int = 1) -> None:
    """Run every unfinished world of ``plan``, epoch by epoch (one epoch without
    migration): locally in at most ``workers`` processes, or as Ray tasks.

    ``listener`` gets each progress message: ``("start"|"step", world, step, counters)``.
    A world whose worker dies without a word is rerun from its last checkpoint (``warn``
    says so), up to ``worker.RERUNS`` times; a worker's error is raised here. Between epochs
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
        run_local(run_dir, plan, workers, listener, poll, warn, clipper, threads)
    else:
        raise EvosimError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    write_metrics(run_dir, plan)


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
