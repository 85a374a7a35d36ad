"""Determinism at three levels, plus save -> load -> continue."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evosim import CheckpointError, World, WorldState, load_scenario
from tests.helpers import assert_states_equal, small_scenario

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "classic_seed0.json"


def state_digest(world: World) -> dict[str, str]:
    """sha256 of every state array's bytes, as the golden file records them."""
    return {name: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
            for name, a in zip(WorldState._fields, world.state, strict=True)}


def test_same_seed_same_world():
    a = World(load_scenario("classic"), seed=5)
    b = World(load_scenario("classic"), seed=5)
    a.step(2000)
    b.step(2000)
    assert_states_equal(a, b)
    assert a.counters == b.counters


def test_different_seeds_differ():
    a = World(load_scenario("classic"), seed=1)
    b = World(load_scenario("classic"), seed=2)
    assert not np.array_equal(a.state.robot_xy, b.state.robot_xy)
    a.step(500)
    b.step(500)
    assert not np.array_equal(a.state.genome, b.state.genome)


def test_step_n_equals_n_single_steps():
    scenario = small_scenario(vision={"channels": ["mine", "fruit", "robot", "edge"]},
                              mines={"speed": 1.0})
    a = World(scenario, seed=11)
    b = World(scenario, seed=11)
    a.step(1500)
    for _ in range(1500):
        b.step(1)
    assert_states_equal(a, b)


def test_save_load_continue_is_bit_identical(tmp_path):
    scenario = load_scenario("genesis")  # crosses a phase change after the load
    straight = World(scenario, seed=3)
    straight.step(scenario.phases[0].step + 2000)
    resumed = World(scenario, seed=3)
    resumed.step(scenario.phases[0].step - 1000)
    path = resumed.save(tmp_path / "mid.npz")
    loaded = World.load(path)
    assert loaded.step_count == resumed.step_count and loaded.seed == 3
    assert loaded.scenario == scenario
    loaded.step(3000)
    assert_states_equal(straight, loaded)


def test_save_load_continue_through_the_nursery_is_bit_identical(tmp_path):
    """Offspring conceived before the save wait unmutated in the checkpoint and are
    mutated at birth after the load, as they would have been without it."""
    scenario = load_scenario("classic")
    straight = World(scenario, seed=0)
    straight.step(7000)
    resumed = World(scenario, seed=0)
    resumed.step(4000)
    waiting = resumed.state.nursery_size
    assert waiting > scenario.evolution.nursery // 2  # most of it is waiting
    loaded = World.load(resumed.save(tmp_path / "mid.npz"))
    assert_states_equal(resumed, loaded)
    births = loaded.counters["births"]
    loaded.step(3000)
    assert loaded.counters["births"] - births > waiting
    assert_states_equal(straight, loaded)


def test_golden_trajectory():
    """Only tests/update_golden.py may rewrite the golden file."""
    golden = json.loads(GOLDEN.read_text())
    world = World(load_scenario("classic"), seed=0)
    done = 0
    for entry in golden["checkpoints"]:
        world.step(entry["step"] - done)
        done = entry["step"]
        assert world.counters == entry["counters"], f"counters differ at step {done}"
        assert state_digest(world) == entry["digest"], f"state differs at step {done}"


def _simd_build(lanes: int) -> dict[str, str] | None:
    """Numba's CPU settings for a build whose widest float64 vectors hold ``lanes``
    lanes (2: SSE2, 4: AVX2, 8: AVX-512), or None where this CPU cannot run it. Numba
    adds the host's features unless NUMBA_CPU_FEATURES says otherwise, so they are
    given whole: the host's, with AVX-512 off for 4 lanes, and LLVM's preference for
    256-bit vectors off for 8."""
    import llvmlite.binding as ll

    if lanes == 2:
        return {"NUMBA_CPU_NAME": "generic"}  # Numba gives generic no extra features
    host = ll.get_host_cpu_features()
    if lanes == 4 and host.get("avx2"):
        flags = [f"-{k}" if k.startswith("avx512") else f"{'+' if on else '-'}{k}"
                 for k, on in host.items()]
        return {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": ",".join(flags)}
    if lanes == 8 and host.get("avx512f"):
        return {"NUMBA_CPU_NAME": "skylake-avx512",
                "NUMBA_CPU_FEATURES": host.flatten() + ",-prefer-256-bit"}
    return None


# 2 lanes (SSE2) in the default run, beside test_golden_trajectory at the host's own
# width; 4 and 8 (each a fresh compile, ~15 s) with the slow tests.
@pytest.mark.parametrize("lanes", [2, pytest.param(4, marks=pytest.mark.slow),
                                   pytest.param(8, marks=pytest.mark.slow)])
def test_golden_trajectory_for_any_simd_width(lanes, tmp_path):
    """The same bits when Numba compiles for 2, 4 or 8 float64 lanes: vision and
    brains run loops in SIMD lanes, and no result may depend on how many there are
    (nothing is reassociated). A fresh cache, so the kernels really compile so."""
    import platform

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("x86-64 CPU names")
    build = _simd_build(lanes)
    if build is None:
        pytest.skip(f"this CPU cannot run {lanes}-lane code")
    env = {**os.environ, **build, "NUMBA_CACHE_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{Path(__file__).resolve()}::test_golden_trajectory"],
        env=env, cwd=root, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout


def test_state_is_read_only():
    world = World(load_scenario("classic"), seed=0)
    with pytest.raises(ValueError):
        world.state.robot_xy[0, 0] = 1.0
    with pytest.raises(ValueError):
        world.state.genome[:] = 0


def test_corrupt_and_foreign_checkpoints_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(CheckpointError, match=r"bad\.npz"):
        World.load(bad)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(3))
    with pytest.raises(CheckpointError, match="not an evosim checkpoint"):
        World.load(foreign)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        World.load(tmp_path / "missing.npz")
    # A checkpoint whose arrays do not fit its scenario.
    world = World(load_scenario("classic"), seed=0)
    good = world.save(tmp_path / "good.npz")
    with np.load(good) as data:
        arrays = dict(data)
    arrays["genome"] = arrays["genome"][:, :10]
    np.savez(tmp_path / "shape.npz", **arrays)
    with pytest.raises(CheckpointError, match="genome: expected float32"):
        World.load(tmp_path / "shape.npz")
    arrays = dict(np.load(good))
    arrays["clock"] = arrays["clock"].copy()
    arrays["clock"][1] = 10_000  # more mines than the arrays hold
    np.savez(tmp_path / "count.npz", **arrays)
    with pytest.raises(CheckpointError, match="mine count"):
        World.load(tmp_path / "count.npz")


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("seed", "x", "seed: expected an integer"),
    ("seed", -5, "seed: expected an integer"),
    ("step", 7, "does not match the state's step"),
    ("schema", 99, "schema: expected 4"),
    ("format", "other", "not an evosim checkpoint"),
])
def test_checkpoint_metadata_is_validated(tmp_path, key, value, needle):
    world = World(load_scenario("classic"), seed=0)
    world.step(3)
    good = world.save(tmp_path / "good.npz")
    with np.load(good) as data:
        arrays = dict(data)
    meta = json.loads(str(arrays["meta"]))
    meta[key] = value
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(CheckpointError, match=needle):
        World.load(tmp_path / "bad.npz")
