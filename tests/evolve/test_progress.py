"""Progress readable at 80 columns, in a terminal or not; the cold-cache notice."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import pytest
from rich.console import Console

from evosim import _compile
from evosim.commands import _progress as run_module
from evosim.commands._progress import Live, compact
from evosim.evolve import metrics
from tests.evolve.test_batch import tiny_plan

ZERO = [0] * len(metrics.COUNT_COLUMNS)


def test_compact_counts():
    assert [compact(n) for n in (999, 5000, 65_000, 160_000, 4_800_000)] == \
        ["999", "5k", "65k", "160k", "4.8M"]


def test_bar_keeps_count_and_time_left_at_80_columns():
    plan = tiny_plan(steps=600_000, worlds=8)
    live = Live(plan, robots=50, quiet=True)
    for i in range(8):
        live(("start", i, 0, ZERO))
    for i in range(8):
        live(("step", i, 20_000, ZERO))
    console = Console(width=80, file=io.StringIO(), record=True, force_terminal=True)
    console.print(live.progress.make_tasks_table(live.progress.tasks))
    line = console.export_text().splitlines()[0]
    assert len(line) <= 80
    assert "160k/4.8M steps" in line and "left" in line and "…" not in line


def test_not_a_terminal_prints_plain_lines(monkeypatch, capsys):
    monkeypatch.setattr(run_module, "PLAIN_EVERY", 0.0)
    live = Live(tiny_plan(steps=900, worlds=1), robots=8, quiet=False)
    assert not live.terminal  # pytest captures stderr
    live(("start", 0, 0, ZERO))
    live(("step", 0, 450, ZERO))
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("classic x1:") and "450/900 steps" in err[-1]
    assert all(len(line) <= 80 for line in err)


def test_cold_cache_is_announced(tmp_path, capsys, monkeypatch):
    assert not _compile.kernels_cold()  # the session compiled the engine (conftest)
    assert not _compile.kernels_cold(observing=True)
    assert not _compile.say_if_compiling(observing=True)
    code = "from evosim._compile import kernels_cold; print(kernels_cold())"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # an empty cache
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip() == "True"
    monkeypatch.setattr(_compile, "kernels_cold", lambda observing=False, threaded=False: True)
    assert _compile.say_if_compiling()
    assert "compiling the kernels (first run only)" in capsys.readouterr().err
    assert _compile.say_if_compiling(quiet=True)  # cold, compiled, and not said
    assert capsys.readouterr().err == ""


def _assert_loads_after_compiling(code: str, cache) -> None:
    """Run ``code`` in a fresh process on the empty Numba cache ``cache``; it prints
    the seconds a world then took to build and step, which must be a load from the
    cache its compile filled, not a compile."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip().splitlines()[-1]) < 5.0  # loaded, not compiled


@pytest.mark.slow
def test_a_cold_compile_fills_the_cache_for_building_and_stepping(tmp_path):
    """say_if_compiling compiles the entry kernels (the stepping one in a child
    process): afterwards the cache is warm and a world builds and steps from it."""
    code = textwrap.dedent("""
        import time
        from evosim import World, load_scenario
        from evosim._compile import kernels_cold, say_if_compiling
        assert kernels_cold()
        assert say_if_compiling(quiet=True)
        assert not kernels_cold()
        t = time.perf_counter()
        World(load_scenario("classic"), seed=0).step(5)
        print(time.perf_counter() - t)
    """)
    _assert_loads_after_compiling(code, tmp_path)


# A fresh compile of the threaded kernel (~20 s): with the slow tests.
@pytest.mark.slow
def test_worlds_on_threads_get_the_notice_for_the_threaded_kernel(tmp_path):
    """With the serial kernels cached, the threaded one (evolve --threads K) is still
    cold: the notice is given and the threaded kernel compiled, then it loads."""
    code = textwrap.dedent("""
        import io, time
        from evosim import World, load_scenario
        from evosim._compile import kernels_cold, say_if_compiling
        say_if_compiling(quiet=True)
        assert not kernels_cold() and kernels_cold(threaded=True)
        out = io.StringIO()
        assert say_if_compiling(stream=out, threaded=True)
        assert out.getvalue() == "compiling the kernels (first run only)...\\n"
        assert not kernels_cold(threaded=True)
        t = time.perf_counter()
        World(load_scenario("classic"), seed=0, threads=2).step(5)
        print(time.perf_counter() - t)
    """)
    _assert_loads_after_compiling(code, tmp_path)
