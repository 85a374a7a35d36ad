"""The kernels' first compile: say so when Numba's on-disk cache of the engine is cold
(the first world then takes seconds to compile, which would otherwise look like a
hang), and spread that compile over two processes when there are cores for it."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, TextIO


def _entries(observing: bool, threaded: bool = False) -> list[Any]:
    """The kernels Python calls: building a world, stepping it (``threaded``: also on
    several threads) and (``observing``) ``World.observations()``/``actions()``.
    Every other kernel compiles inside them."""
    from evosim.kernels.step import prepare, run_steps, run_steps_threaded

    entries = [prepare, run_steps]
    if threaded:
        entries.append(run_steps_threaded)
    if observing:
        from evosim.kernels.observe import look

        entries.append(look)
    return entries


def kernels_cold(observing: bool = False, threaded: bool = False) -> bool:
    """True when an entry kernel has no usable cache entry for its source (each
    takes more than a second to compile; a cached one loads in milliseconds)."""
    try:
        # An index whose stamp differs from the source file's loads as empty.
        return any(not k._cache._cache_file._load_index()
                   for k in _entries(observing, threaded))
    except Exception:  # a Numba without these internals: say nothing rather than guess
        return False


def say_if_compiling(quiet: bool = False, stream: TextIO | None = None,
                     observing: bool = False, threaded: bool = False) -> bool:
    """Print one line if the kernels are about to compile, and compile them (see
    :func:`compile_kernels`); returns whether they were cold.

    ``observing``: the command will also ask for observations (rays drawn);
    ``threaded``: its worlds step on several threads (``World(threads=K)``, K > 1)."""
    if not kernels_cold(observing=observing, threaded=threaded):
        return False
    if not quiet:
        print("compiling the kernels (first run only)...", file=stream or sys.stderr,
              flush=True)
    compile_kernels(observing, threaded)
    return True


def _typing_world() -> tuple[Any, ...]:
    """The argument tuples of the entry kernels, for a small world (every scenario
    gives the same types, so the compiled kernels serve them all)."""
    from evosim.kernels.life import no_events
    from evosim.scenario import load_scenario
    from evosim.world.kernel_args import make_params, make_schedule, make_scratch
    from evosim.world.state import WorldState

    sc = load_scenario("classic")
    params = make_params(sc)
    return (WorldState.empty(sc), params, make_schedule(sc), make_scratch(sc, params),
            no_events())


def _compile_stepping() -> None:
    from evosim.kernels.step import run_steps

    s, p, sch, work, ev = _typing_world()
    run_steps(s, p, sch, work, ev, 0)  # no tick: compiles (and caches) only


def compile_kernels(observing: bool = False, threaded: bool = False) -> None:
    """Compile the entry kernels into Numba's on-disk cache (or load them from it).

    With two cores or more, the stepping kernel (the biggest) compiles in a child
    process while this one compiles the others; this one then loads it from the
    cache the child wrote. Both write the cache through Numba's own temporary files
    and renames; a kernel both compile gets the same code either way.
    """
    from evosim.kernels.step import prepare

    child = None
    if (os.cpu_count() or 1) >= 2:
        try:
            child = subprocess.Popen([sys.executable, "-m", "evosim._compile", str(os.getpid())],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        except OSError:  # no child to be had: compile it all here
            child = None
    s, p, sch, work, ev = _typing_world()
    prepare(s, p, sch, work, build=False)
    if observing:
        from evosim.kernels.observe import look

        look(s, p, work, decide=True)
    if threaded:
        from evosim.kernels.step import run_steps_threaded

        run_steps_threaded(s, p, sch, work, ev, 0)  # no tick: compiles (and caches) only
    if child is not None:
        child.wait()
    _compile_stepping()  # loaded from the child's cache, or compiled here if it failed


if __name__ == "__main__":
    from evosim._process import die_with_parent

    die_with_parent(int(sys.argv[1]))
    _compile_stepping()
