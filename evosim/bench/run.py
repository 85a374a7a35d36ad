"""``evosim bench``: throughput of this machine, as medians and spreads over repeats.

Figures: robot-steps/s of the classic world on one thread and of a world
scaled x100 in area and population (same density), the cost per robot-step of
both, the NumPy baseline measured side by side, the scaled world on 1 and 2
threads (``World(threads=K)``), K worlds over all cores and the parallel
efficiency, draw and record frames/s, the first-step compile time with a cold
and a warm Numba cache, and (``shared``) the engine timed in turns beside the
reference programs of ``../shared/bench`` (see :mod:`evosim.bench.shared`).
docs/development/performance.md lists every JSON key.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from evosim.bench.baseline import NumpyWorld
from evosim.evolve.batch import default_workers
from evosim.scenario import Scenario, load_scenario, scenario_from_dict
from evosim.world import World

SCALE = 100  # area and population factor of the scaled world


def scaled_scenario(base: Scenario, factor: int = SCALE) -> Scenario:
    """``base`` with area and every population multiplied by ``factor`` (same density)."""
    side = factor**0.5
    data = base.model_dump(mode="json")
    data["world"]["width"] = base.world.width * side
    data["world"]["height"] = base.world.height * side
    data["robots"]["count"] = base.robots.count * factor
    data["mines"]["count"] = base.mines.count * factor
    data["fruit"]["count"] = base.fruit.count * factor
    data["name"] = f"{base.name}-x{factor}"
    return scenario_from_dict(data, source=f"{base.name} x{factor}")


def _spread(samples: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "repeats": len(samples),
    }


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _throughput(step: Callable[[int], None], robots: int, steps: int, repeats: int
                ) -> dict[str, Any]:
    """Median and spread of robot-steps/s of ``step(steps)`` over ``repeats`` calls."""
    rates = [robots * steps / _timed(lambda: step(steps)) for _ in range(repeats)]
    out = _spread(rates)
    out["robots"] = robots
    out["ns_per_robot_step"] = 1e9 / out["median"]
    return out


def robot_steps_per_s(scenario: Scenario, steps: int, repeats: int, warm: int = 200
                      ) -> dict[str, Any]:
    """Engine throughput on one thread: ``steps`` ticks per repeat after ``warm`` ticks."""
    world = World(scenario, seed=0)
    world.step(warm)
    return _throughput(world.step, scenario.robots.count, steps, repeats)


def numpy_steps_per_s(scenario: Scenario, steps: int, repeats: int) -> dict[str, Any]:
    """The NumPy baseline's throughput, starting from the engine's state after 200 ticks."""
    world = World(scenario, seed=0)
    world.step(200)
    base = NumpyWorld(scenario, world.state, seed=0)
    return _throughput(base.step, scenario.robots.count, steps, repeats)


def threaded(scenario: Scenario, threads: int, steps: int, rounds: int, warm: int = 20
             ) -> dict[str, Any]:
    """One world of ``scenario`` on 1 thread and on ``threads``, timed in turns
    (``rounds`` of ``steps`` ticks each, medians): the speedup of ``World(threads=K)``."""
    worlds = {t: World(scenario, seed=0, threads=t) for t in sorted({1, threads})}
    rates: dict[int, list[float]] = {t: [] for t in worlds}
    for w in worlds.values():
        w.step(warm)  # and compile (or load) the threaded kernels
    robots = scenario.robots.count
    for _ in range(rounds):
        for t, w in worlds.items():
            rates[t].append(robots * steps / _timed(partial(w.step, steps)))
    one = statistics.median(rates[1])
    many = statistics.median(rates[threads])
    return {
        "robots": robots,
        "threads": threads,
        "robot_steps_per_s_1_thread": one,
        "robot_steps_per_s": many,
        "speedup": many / one,
        "rounds": rounds,
    }


def _world_task(args: tuple[int, int]) -> float:
    seed, steps = args
    world = World(load_scenario("classic"), seed=seed)
    world.step(steps)
    return float(world.step_count)


def _one_thread() -> None:
    os.environ["NUMBA_NUM_THREADS"] = "1"


def parallel(worlds: int, steps: int, workers: int) -> dict[str, Any]:
    """Robot-steps/s of ``worlds`` classic worlds on 1 worker and on ``workers``."""
    ctx = mp.get_context("spawn")  # a local context; the global start method is untouched
    robots = load_scenario("classic").robots.count
    rates = {}
    for w in sorted({1, workers}):
        with ctx.Pool(w, initializer=_one_thread) as pool:
            pool.map(_world_task, [(k, 10) for k in range(w)])  # import + load cached kernels
            start = time.perf_counter()
            pool.map(_world_task, [(k, steps) for k in range(worlds)], chunksize=1)
            rates[w] = worlds * steps * robots / (time.perf_counter() - start)
    speedup = rates[workers] / rates[1]
    return {
        "worlds": worlds,
        "workers": workers,
        "robot_steps_per_s_1_worker": rates[1],
        "robot_steps_per_s": rates[workers],
        "speedup": speedup,
        "efficiency": speedup / workers,
    }


_COMPILE_PROBE = (
    "import time; t = time.perf_counter(); "
    "from evosim import World, load_scenario; from evosim._compile import say_if_compiling; "
    "say_if_compiling(quiet=True); "
    "w = World(load_scenario('classic'), seed=0); w.step(1); "
    "print(time.perf_counter() - t)"
)


def compile_times(cold: bool) -> dict[str, float | None]:
    """Seconds from import to the first step done, with a fresh and a warm cache."""
    out: dict[str, float | None] = {"cold_s": None, "cached_s": None}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = ["cold_s", "cached_s"] if cold else ["cached_s"]
        if not cold:
            env.pop("NUMBA_CACHE_DIR")  # the project's usual cache, already warm
        for key in runs:
            result = subprocess.run([sys.executable, "-c", _COMPILE_PROBE], env=env,
                                    capture_output=True, text=True, check=True)
            out[key] = float(result.stdout.strip().splitlines()[-1])
    return out


def _draw_record(quick: bool) -> dict[str, float | None]:
    try:
        from evosim.bench.media import bench_draw, bench_record
    except ImportError:  # pragma: no cover - the render extra is part of the install
        return {"draw_fps": None, "record_fps": None}
    return {
        "draw_fps": bench_draw(frames=100 if quick else 300),
        "record_fps": bench_record(frames=40 if quick else 120),
    }


VECTOR_ENVS = 8
"""Worlds in the vector-env figures."""


def env_rates(steps: int, repeats: int) -> dict[str, dict[str, Any] | None]:
    """RobotEnv steps/s and ParallelEnv agent-steps/s on classic, and env-steps/s of
    :class:`~evosim.envs.RobotVectorEnv` against Gymnasium's ``SyncVectorEnv`` over
    the same ``VECTOR_ENVS`` worlds, the two timed in turn (random actions drawn
    beforehand; resets included), or None without the ``rl`` extra."""
    try:
        import gymnasium

        from evosim.envs import RobotEnv, parallel_env
    except ImportError:
        return {"robot_env": None, "parallel_env": None, "vector_env": None,
                "sync_vector_env": None}
    rng = np.random.default_rng(0)  # one generator: single, parallel, vector actions
    return {"robot_env": _robot_env_rate(RobotEnv, rng, steps, repeats),
            "parallel_env": _parallel_env_rate(parallel_env, rng, steps, repeats),
            **_vector_env_rates(gymnasium, rng, steps, repeats)}


def _robot_env_rate(make_env: Any, rng: np.random.Generator, steps: int, repeats: int
                    ) -> dict[str, Any]:
    """RobotEnv steps/s: one learner on classic, ``steps`` random actions a repeat."""
    single = make_env(scenario="classic")
    single.reset(seed=0)
    acts = rng.uniform([-1, 0], [1, 1], (steps, 2)).astype(np.float32)

    def run_single() -> None:
        for a in acts:
            _, _, term, trunc, _ = single.step(a)
            if term or trunc:
                single.reset()

    run_single()  # warm: kernels loaded, first world built
    return _spread([steps / _timed(run_single) for _ in range(repeats)])


def _parallel_env_rate(make_env: Any, rng: np.random.Generator, steps: int, repeats: int
                       ) -> dict[str, Any]:
    """ParallelEnv agent-steps/s on classic (every robot an agent), ``steps // 5`` steps
    a repeat through 16 tables of random actions."""
    par = make_env(scenario="classic")
    par.reset(seed=0)
    agents = par.possible_agents
    table = [dict(zip(agents, rng.uniform([-1, 0], [1, 1], (len(agents), 2)).astype(np.float32),
                      strict=True)) for _ in range(16)]
    par_steps = max(steps // 5, 1)

    def run_parallel() -> None:
        for k in range(par_steps):
            par.step(table[k % 16])
            if not par.agents:
                par.reset()

    run_parallel()
    return _spread([len(agents) * par_steps / _timed(run_parallel) for _ in range(repeats)])


def _vector_env_rates(gym: Any, rng: np.random.Generator, steps: int, repeats: int
                      ) -> dict[str, dict[str, Any]]:
    """Env-steps/s of RobotVectorEnv (``vector_env``) and SyncVectorEnv
    (``sync_vector_env``) over the same worlds and actions, timed in turns."""
    vectors = {mode: gym.make_vec("evosim/Robot-v0", num_envs=VECTOR_ENVS,
                                  vectorization_mode=mode)
               for mode in ("vector_entry_point", "sync")}
    vec_steps = max(steps // VECTOR_ENVS, 1)
    vec_acts = rng.uniform([-1, 0], [1, 1], (vec_steps, VECTOR_ENVS, 2)).astype(np.float32)
    for vec in vectors.values():
        vec.reset(seed=0)

    def run_vector(mode: str) -> float:
        vec = vectors[mode]
        start = time.perf_counter()
        for a in vec_acts:
            vec.step(a)  # both autoreset an ended env on its next step
        return VECTOR_ENVS * vec_steps / (time.perf_counter() - start)

    rates: dict[str, list[float]] = {mode: [] for mode in vectors}
    for _ in range(repeats + 1):  # interleaved; the first round only warms both
        for mode in vectors:
            rates[mode].append(run_vector(mode))
    for vec in vectors.values():
        vec.close()
    return {"vector_env": _spread(rates["vector_entry_point"][1:]),
            "sync_vector_env": _spread(rates["sync"][1:])}


def run_bench(quick: bool = False, progress: Callable[[str], None] | None = None,
              shared_dir: Path | None = None) -> dict[str, Any]:
    """Every figure of ``evosim bench`` as a JSON-ready dict."""
    say = progress or (lambda _msg: None)
    classic = load_scenario("classic")
    big = scaled_scenario(classic)
    cores = default_workers()
    reps = 3 if quick else 5
    say("classic world, one thread")
    small = robot_steps_per_s(classic, 5_000 if quick else 20_000, reps)
    say(f"{big.robots.count}-robot world, one thread")
    large = robot_steps_per_s(big, 100 if quick else 200, reps, warm=20)
    say("NumPy baseline")
    numpy_small = numpy_steps_per_s(classic, 50 if quick else 200, reps)
    say(f"one {big.robots.count}-robot world on {min(cores, 2)} threads")
    thr = threaded(big, max(2, min(cores, 2)), 10 if quick else 100, 3 if quick else 5)
    say(f"{2 * cores} worlds over {cores} workers")
    par = parallel(2 * cores, 10_000 if quick else 50_000, cores)
    say("Gymnasium and PettingZoo envs")
    envs = env_rates(2_000 if quick else 10_000, reps)
    say("drawing and recording")
    frames = _draw_record(quick)
    shared = None
    if shared_dir is not None:
        say(f"side by side with {shared_dir}")
        from evosim.bench.shared import compare_shared

        shared = compare_shared(shared_dir, rounds=3 if quick else 5,
                                seconds=0.5 if quick else 2.0)
    say("compile time")
    compile_ = compile_times(cold=not quick)
    return {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": cores,
            "python": platform.python_version(),
            "numba": _version("numba"),
            "numpy": _version("numpy"),
        },
        "quick": quick,
        "robot_steps_per_s": small["median"],
        "classic": small,
        "scaled": large,
        "scaled_cost_ratio": large["ns_per_robot_step"] / small["ns_per_robot_step"],
        "numpy_baseline": numpy_small,
        "speedup_vs_numpy": small["median"] / numpy_small["median"],
        "threaded": thr,
        "parallel": par,
        "robot_env_steps_per_s": envs["robot_env"] and envs["robot_env"]["median"],
        "parallel_env_agent_steps_per_s": envs["parallel_env"] and envs["parallel_env"]["median"],
        "vector_env_steps_per_s": envs["vector_env"] and envs["vector_env"]["median"],
        "sync_vector_env_steps_per_s": (envs["sync_vector_env"]
                                        and envs["sync_vector_env"]["median"]),
        **envs,
        **frames,
        "compile": compile_,
        "shared": shared,
    }


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}{unit}" if v >= 100 else f"{v:.2f}{unit}"


def print_table(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    m = r["machine"]
    t = Table(title=f"evosim bench ({m['cores']} cores, {m['cpu']}, Python {m['python']}, "
                    f"numba {m['numba']})")
    t.add_column("figure")
    t.add_column("median", justify="right")
    t.add_column("spread (min..max)", justify="right")
    t.add_column("note")

    def row(name: str, d: dict[str, Any], note: str) -> None:
        t.add_row(name, _fmt(d["median"]), f"{_fmt(d['min'])}..{_fmt(d['max'])}", note)

    c, s, n = r["classic"], r["scaled"], r["numpy_baseline"]
    row("classic robot-steps/s, 1 thread", c, f"{c['ns_per_robot_step']:.0f} ns/robot-step")
    row(f"{s['robots']} robots robot-steps/s", s,
        f"{s['ns_per_robot_step']:.0f} ns/robot-step, {r['scaled_cost_ratio']:.2f}x classic")
    row("NumPy baseline robot-steps/s", n, f"engine is {r['speedup_vs_numpy']:.1f}x faster")
    th = r["threaded"]
    t.add_row(f"{th['robots']} robots, {th['threads']} threads", _fmt(th["robot_steps_per_s"]),
              "", f"{th['speedup']:.2f}x 1 thread (World(threads=K))")
    p = r["parallel"]
    t.add_row(f"{p['worlds']} worlds, {p['workers']} workers", _fmt(p["robot_steps_per_s"]), "",
              f"{p['speedup']:.2f}x 1 worker, efficiency {p['efficiency']:.0%}")
    if r.get("robot_env"):
        row("RobotEnv steps/s (classic)", r["robot_env"], "Gymnasium, one learner")
        row("ParallelEnv agent-steps/s", r["parallel_env"], "PettingZoo, 50 agents")
    if r.get("vector_env"):
        v, sv = r["vector_env"], r["sync_vector_env"]
        row(f"RobotVectorEnv env-steps/s ({VECTOR_ENVS} envs)", v,
            f"{v['median'] / sv['median']:.2f}x SyncVectorEnv")
        row(f"SyncVectorEnv env-steps/s ({VECTOR_ENVS} envs)", sv, "Gymnasium's, same worlds")
    t.add_row("draw fps (1280x720, rays)", _fmt(r["draw_fps"]), "", "off-screen")
    t.add_row("record fps (mp4)", _fmt(r["record_fps"]), "", "step + draw + encode")
    sh = r.get("shared")
    if sh:
        for label in ("evosim", "numba_limit", "numpy_baseline"):
            note = "" if label == "evosim" else f"evosim is {sh['evosim_vs_' + label]:.2f}x"
            row(f"side by side: {label}", sh[label], note)
    comp = r["compile"]
    t.add_row("first step, cold cache", _fmt(comp["cold_s"], " s"), "", "import + compile")
    t.add_row("first step, cached", _fmt(comp["cached_s"], " s"), "", "import + load")
    console = Console()
    Console(width=max(console.width, 110)).print(t)
