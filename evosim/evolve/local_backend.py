"""The local backend: worker processes on this machine.

Workers are spawned processes, single-threaded unless a world steps on several
threads, alive for the whole run; each takes one (world, epoch) job after another
(:func:`evosim.evolve.worker.worker_main`), so a run's results never depend on how
many workers it had.

Faults: each worker dies with the main process (``PR_SET_PDEATHSIG`` on Linux, and
a watchdog thread everywhere), and reports over a pipe (no semaphores, so nothing
for ``resource_tracker`` to complain about). A worker that dies without reporting
an error (``kill -9``, the out-of-memory killer, a crash) is noticed through its
sentinel; its world is rerun from its last checkpoint, which gives the same bytes
as an unbroken run.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evosim.errors import EvosimError
from evosim.evolve.checkpoints import remove_temp_files, world_dir
from evosim.evolve.metrics import write_metrics
from evosim.evolve.plan import RunPlan
from evosim.evolve.resuming import reached
from evosim.evolve.worker import RERUNS, SINGLE_THREAD_ENV, Clipper, Listener, worker_main


def run_local(run_dir: Path, plan: RunPlan, workers: int, listener: Listener | None,
              poll: float, warn: Callable[[str], None], clipper: Clipper | None = None,
              threads: int = 1) -> None:
    """Bring every world of ``plan`` to its end, epoch by epoch, in at most ``workers``
    processes that live for the whole run."""
    pool: list[_Worker] = []
    lost: dict[int, int] = {}
    try:
        for until in plan.epoch_ends():
            _run_epoch(run_dir, plan, workers, listener, poll, warn, until, lost, pool,
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
        # What stopped workers left half-written goes now, not at the resume: on a
        # full disk that is room the next writer needs.
        remove_temp_files(run_dir)


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


@dataclass
class _Worker:
    process: Any
    conn: Any  # its reports
    jobs: Any  # (world, until) to do next; None: stop
    index: int | None = None  # the world it works on; None when idle
    error: BaseException | None = None


def _run_epoch(run_dir: Path, plan: RunPlan, workers: int, listener: Listener | None,
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
    process = ctx.Process(target=worker_main, name="evosim-worker", daemon=True,
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
