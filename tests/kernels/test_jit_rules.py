"""Kernels follow the project's JIT rules and allocate nothing per step."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import evosim.kernels
from evosim.kernels._jit import JIT_OPTIONS

KERNELS = Path(evosim.kernels.__file__).parent


def test_jit_options_live_in_one_place():
    """No kernel module sets its own Numba options (stumpy's habit)."""
    for path in KERNELS.glob("*.py"):
        if path.name == "_jit.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                assert name not in {"njit", "jit", "vectorize"}, f"{path.name} uses {name}"


def test_no_fastmath_that_breaks_inf():
    fm = JIT_OPTIONS["fastmath"]
    assert fm is False or (isinstance(fm, set) and not {"nnan", "ninf", "fast"} & fm)
    assert JIT_OPTIONS["cache"] is True


def test_kernels_import_nothing_else_from_evosim():
    for path in KERNELS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            module = getattr(node, "module", None) or ""
            if isinstance(node, ast.ImportFrom) and module.startswith("evosim"):
                assert node.module.startswith("evosim.kernels"), f"{path.name}: {node.module}"


_PROBE = """
from numba.core.runtime import rtsys
from evosim import World, load_scenario
from tests.helpers import small_scenario
w = World(small_scenario(vision={"channels": ["mine", "fruit", "robot", "edge"]},
                         mines={"speed": 1.0}), seed=0)
w.step(5)
counts = []
for events in (False, True):
    w.step(1, events=events)  # the event buffer is allocated on the first ask
    for n in (1, 3000):
        before = rtsys.get_allocation_stats().alloc
        w.step(n, events=events)
        counts.append(rtsys.get_allocation_stats().alloc - before)
print(*counts, w.counters["births"], len(w.drain_events()))
"""


def test_step_allocates_nothing_per_tick():
    """Numba's allocation counter: step(3000) allocates as much as step(1) (only the
    call's own argument handling), so no tick allocates."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         env={"NUMBA_NRT_STATS": "1", "PATH": "", "PYTHONPATH": str(root)},
                         cwd=root, check=True, timeout=600)
    one, many, one_ev, many_ev, births, logged = (int(v) for v in out.stdout.split())
    assert births > 0  # the long run did reach births, respawns and fruit placement
    assert many == one
    assert logged > 0 and many_ev == one_ev  # recording events allocates nothing per tick
