"""The engine beside the two reference programs of ``../shared/bench/``.

The references (``numba_limit.py``: a tight Numba kernel with simpler rules;
``numpy_baseline.py``: a vectorised NumPy implementation) are loaded by path at
run time and driven the way their own ``__main__`` drives them; nothing of them
is copied here. The three programs are timed in turns, round after round, so
that load on a shared machine hits all three alike; the figures are medians.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from evosim.scenario import load_scenario
from evosim.world import World

NUMBA_REF = "numba_limit.py"
NUMPY_REF = "numpy_baseline.py"


def default_shared_dir() -> Path | None:
    """``../shared/bench`` beside the working directory or beside this checkout,
    when it holds both reference files."""
    checkout = Path(__file__).resolve().parents[2]
    for base in (Path.cwd().resolve(), checkout):
        cand = base.parent / "shared" / "bench"
        if (cand / NUMBA_REF).is_file() and (cand / NUMPY_REF).is_file():
            return cand
    return None


def load_reference(path: Path) -> ModuleType:
    """Import one reference file by path (its ``sys.argv`` reading sees no arguments)."""
    name = f"_evosim_ref_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    from numba.core import config

    argv, cache_dir = sys.argv, config.CACHE_DIR
    sys.argv = [str(path)]  # numba_limit.py reads its ray count from argv[1]
    try:
        # Numba's cache=True makes a __pycache__ beside the file at decoration time:
        # point it at a scratch folder, never at the references' own.
        with tempfile.TemporaryDirectory(prefix="evosim-ref-") as scratch:
            config.CACHE_DIR = scratch
            spec.loader.exec_module(module)
    finally:
        sys.argv, config.CACHE_DIR = argv, cache_dir
    # Compile in memory: no cache files written beside the references, none of
    # another run's (or another name's) loaded.
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    for value in vars(module).values():
        if isinstance(value, CPUDispatcher):
            value._cache = NullCache()
    return module


class _Engine:
    label = "evosim"

    def __init__(self) -> None:
        scenario = load_scenario("classic")
        self.robots = scenario.robots.count
        self.world = World(scenario, seed=0)
        self.world.step(200)

    def run(self, steps: int) -> None:
        self.world.step(steps)


class _NumbaRef:
    label = "numba_limit"

    def __init__(self, module: ModuleType) -> None:
        a = module.make(1)
        kind = a[4]
        # One world's arrays, as the reference's own __main__ takes them.
        self.args = [x[0] for x in a[:4]] + [kind] + [x[0] for x in a[5:]]
        self.step = module.step
        self.robots = int(module.N)
        self.step(*self.args, 0)  # compile (or load its cache)

    def run(self, steps: int) -> None:
        step, args = self.step, self.args
        for _ in range(steps):
            step(*args, 0)


class _NumpyRef:
    label = "numpy_baseline"

    def __init__(self, module: ModuleType) -> None:
        import numpy as np

        self.world = module.World(seed=0, dtype=np.float32, culled=True)
        self.robots = int(self.world.A)
        for _ in range(20):
            self.world.step()

    def run(self, steps: int) -> None:
        step = self.world.step
        for _ in range(steps):
            step()


def compare_shared(shared_dir: Path, rounds: int = 3, seconds: float = 1.0) -> dict[str, Any]:
    """Robot-steps/s of evosim (classic, one thread) and of the two references.

    Each round times every program for about ``seconds`` in turn; the result
    holds per-program medians, spreads and the ratios evosim / reference.
    """
    numba_ref = load_reference(shared_dir / NUMBA_REF)
    numpy_ref = load_reference(shared_dir / NUMPY_REF)
    programs: list[_Engine | _NumbaRef | _NumpyRef] = [
        _Engine(), _NumbaRef(numba_ref), _NumpyRef(numpy_ref)]
    # Steps per timing: calibrated once so each takes about ``seconds``.
    steps = {}
    for prog in programs:
        n = 10
        while True:
            t = time.perf_counter()
            prog.run(n)
            dt = time.perf_counter() - t
            if dt > 0.1 or n > 10_000_000:
                break
            n *= 4
        steps[prog.label] = max(10, int(n * seconds / dt))
    rates: dict[str, list[float]] = {p.label: [] for p in programs}
    for _ in range(rounds):
        for prog in programs:
            n = steps[prog.label]
            t = time.perf_counter()
            prog.run(n)
            rates[prog.label].append(prog.robots * n / (time.perf_counter() - t))
    out: dict[str, Any] = {"dir": str(shared_dir), "rounds": rounds}
    for label, r in rates.items():
        out[label] = {"median": statistics.median(r), "min": min(r), "max": max(r),
                      "repeats": len(r)}
    ev = out["evosim"]["median"]
    out["evosim_vs_numba_limit"] = ev / out["numba_limit"]["median"]
    out["evosim_vs_numpy_baseline"] = ev / out["numpy_baseline"]["median"]
    return out
