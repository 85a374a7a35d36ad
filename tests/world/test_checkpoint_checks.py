"""Checkpoint files: every array, header and metadata field is checked before use.

In-process through ``evosim.cli.main`` (tests.helpers.run_cli asserts the contract);
crashes (signals) in a child process (tests.helpers.run_cli_error).
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.errors import CheckpointError
from evosim.evolve.checkpoints import FINAL_FILE, world_dir
from evosim.evolve.plan import RunPlan, world_seeds
from evosim.kernels.layout import CLOCK_SIZE, NEXT_ID, NURSERY_HEAD, NURSERY_SIZE
from tests.helpers import (
    checkpoint_arrays,
    run_cli,
    run_cli_error,
    tiny_scenario,
    write_checkpoint,
)


@pytest.fixture
def saved(tmp_path):
    world = World(tiny_scenario(), seed=1)
    world.step(30)
    path = world.save(tmp_path / "good.npz", extra={"world": 0, "run_steps": 30,
                                                   "metrics_previous": [0] * 5})
    return path, checkpoint_arrays(path)


def _meta(arrays) -> dict:
    return json.loads(str(arrays["meta"]))


def _set(arrays, name, index, value):
    a = np.array(arrays[name])
    a[index] = value
    return {**arrays, name: a}


def _bad_value_cases():
    return [
        ("robot_xy", (0, 0), 1e300, "robot_xy: expected values from"),
        ("robot_xy", (1, 1), 700.0, "robot_xy: expected values from"),  # below y = 600
        ("robot_xy", (1, 0), -3.0, "robot_xy"),
        ("robot_heading", 2, 1e300, "robot_heading: expected values from -3.14159"),
        ("robot_life", 0, -5, "robot_life: expected values from 0"),
        ("robot_age", 0, -1, "robot_age"),
        ("counters", 0, -5, "counters: expected a fruit_eaten from 0"),
        ("clock", NEXT_ID, 2**63 - 1, "clock: expected a next id from 0 to "),
        ("clock", 0, -1, "clock: expected a step from 0"),
        ("clock", 1, 10_000, "clock: expected a mine count from 0 to 4"),
        ("genome", (0, -1), 3e38, "genome: expected values from 0 to "),
        ("genome", (0, -1), -1.0, "genome"),
        ("genome", (0, 0), np.inf, "genome: expected finite numbers"),
        ("mine_heading", 0, np.nan, "mine_heading: expected finite numbers"),
        ("robot_id", 0, 10**6, "robot_id: expected values from 0 to"),
        ("robot_parent", 0, -7, "robot_parent: expected values from -1"),
        ("robot_lineage", 0, -2, "robot_lineage"),
        ("fruit_xy", (0, 0), 1e300, "fruit_xy"),
        ("nursery_parent_slot", 0, 6, "nursery_parent_slot: expected values from 0 to 5"),
        ("nursery_parent_slot", 1, -1, "nursery_parent_slot"),
        ("nursery_genome", (0, -1), 3e38, "nursery_genome: expected values from 0 to "),
        ("nursery_genome", (0, 0), np.nan, "nursery_genome: expected finite numbers"),
        ("nursery_step", 0, -1, "nursery_step: expected values from 0 to 30 or -2 (a final "
                                "genome), got -1"),
        ("nursery_step", 1, 31, "nursery_step: expected values from 0 to 30"),
        ("clock", NURSERY_SIZE, 10**6, "clock: expected a nursery size from 0 to "),
        ("clock", NURSERY_HEAD, -1, "clock: expected a nursery head from 0 to "),
    ]


@pytest.mark.parametrize(("name", "index", "value", "needle"), _bad_value_cases())
def test_checkpoint_values_are_checked(saved, tmp_path, name, index, value, needle):
    _, arrays = saved
    if name == "clock" and index == 0:  # the metadata step must agree with the clock
        meta = _meta(arrays)
        meta["step"] = value
        arrays = {**arrays, "meta": np.array(json.dumps(meta))}
        needle = "metadata step: expected an integer from 0"
    bad = write_checkpoint(tmp_path / "bad.npz", _set(arrays, name, index, value))
    with pytest.raises(CheckpointError) as info:
        World.load(bad)
    assert needle in str(info.value) and str(bad) in str(info.value), str(info.value)


@pytest.mark.parametrize("clock", [np.zeros(0, np.int64), np.array(30, np.int64),
                                   np.zeros((1, 5), np.int64), np.zeros(5, np.int32)])
@pytest.mark.parametrize("command", ["evaluate", "export", "record", "resume"])
def test_misshapen_clock_is_one_line_in_every_command(saved, tmp_path, clock, command):
    _, arrays = saved
    bad = write_checkpoint(tmp_path / "bad.npz", {**arrays, "clock": clock})
    argv = {"evaluate": ["evaluate", str(bad), "--steps", "5", "--seeds", "1"],
            "export": ["export", str(bad), "--best", "--out", "b.pt"],
            "record": ["record", str(bad), "--steps", "2", "--out", "v.gif"],
            "resume": ["evolve", "--resume", "run", "--workers", "1"]}[command]
    if command == "resume":
        run = tmp_path / "run"
        (world_dir(run, 0)).mkdir(parents=True)
        RunPlan(scenario=tiny_scenario().model_dump(mode="json"), seed=0,
                seeds=world_seeds(0, 1), steps=30, checkpoint_every=10,
                metrics_every=10).save(run)
        bad.rename(world_dir(run, 0) / FINAL_FILE)
    code, _, err = run_cli(argv, tmp_path)
    assert code == 2 and f"clock: expected int64[{CLOCK_SIZE}]" in err, err
    assert not (tmp_path / "b.pt").exists() and not (tmp_path / "v.gif").exists()


@pytest.mark.parametrize(("change", "needle"), [
    (lambda m: m.update(extra="x"), "metadata extra: expected an object, got str"),
    (lambda m: m.update(counters=[1, 2]), "metadata counters: expected an object"),
    (lambda m: m.update(counters={"a": "b"}), "metadata counters: expected names and integers"),
    (lambda m: m.update(seed="x"), "metadata seed: expected an integer"),
    (lambda m: m.update(step=1.5), "metadata step: expected an integer"),
    (lambda m: m.update(scenario=[]), "metadata scenario: expected an object"),
    (lambda m: m["scenario"]["vision"].update(range=1e309), "vision.range"),
    (lambda m: m["scenario"].update(name="/some/abs/path"), "name: expected a plain"),
    (lambda m: m["scenario"]["robots"].update(speed_limit=1e39), "robots.speed_limit"),
])
def test_checkpoint_metadata_types_and_scenario_are_checked(saved, tmp_path, change, needle):
    _, arrays = saved
    meta = _meta(arrays)
    change(meta)
    bad = write_checkpoint(tmp_path / "bad.npz", arrays, meta)
    with pytest.raises(CheckpointError) as info:
        World.load(bad)
    assert needle in str(info.value), str(info.value)


def test_deeply_nested_checkpoint_metadata_is_one_line(saved, tmp_path):
    _, arrays = saved
    text = json.dumps(_meta(arrays)).replace('"extra": {', '"deep": ' + "[" * 100_000
                                             + "]" * 100_000 + ', "extra": {')
    bad = write_checkpoint(tmp_path / "bad.npz", {**arrays, "meta": np.array(text)})
    with pytest.raises(CheckpointError, match="nested too deeply"):
        World.load(bad)


def _npz_with_member(arrays: dict, name: str, header_shape, payload: bytes, path,
                     compress: bool = False):
    """A checkpoint whose member ``name`` has a hand-written header and payload."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_2_0(
        buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(arrays[name].dtype)),
              "fortran_order": False, "shape": header_shape})
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as zf:
        for key, value in arrays.items():
            if key == name:
                zf.writestr(f"{key}.npy", buf.getvalue() + payload)
            else:
                member = io.BytesIO()
                np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
                zf.writestr(f"{key}.npy", member.getvalue())
    return path


def test_npy_header_claiming_10_to_18_elements_is_refused_before_reading(saved, tmp_path):
    _, arrays = saved
    bad = _npz_with_member(arrays, "genome", (10**9, 10**9), b"\0" * 64, tmp_path / "bad.npz")
    start = time.monotonic()
    with pytest.raises(CheckpointError, match=r"genome: expected float32\[6, \d+\], got "
                                              r"float32\[1000000000, 1000000000\]"):
        World.load(bad)
    assert time.monotonic() - start < 1.0


def test_a_member_bigger_than_its_header_is_not_decompressed(saved, tmp_path):
    _, arrays = saved
    shape = arrays["genome"].shape
    # Right header, then 64 MiB of zeros that compress to almost nothing (a zip bomb).
    bad = _npz_with_member(arrays, "genome", shape, bytes(64 * 1024**2), tmp_path / "bomb.npz",
                           compress=True)
    assert bad.stat().st_size < 1024**2
    start = time.monotonic()
    with pytest.raises(CheckpointError, match="genome: member is larger than its header says"):
        World.load(bad)
    assert time.monotonic() - start < 1.0


def test_checkpoint_with_infinite_vision_range_does_not_crash_evaluate_or_record(saved,
                                                                                 tmp_path):
    _, arrays = saved
    meta = _meta(arrays)
    meta["scenario"]["vision"]["range"] = 1e999  # json writes Infinity
    bad = write_checkpoint(tmp_path / "inf.npz", arrays, meta)
    for argv in (["evaluate", str(bad), "--steps", "5", "--seeds", "1"],
                 ["record", str(bad), "--steps", "2", "--out", "v.gif"]):
        result = run_cli_error(argv, tmp_path)
        assert "vision.range" in result.stderr
    assert not (tmp_path / "v.gif").exists()


def test_every_state_field_has_value_bounds():
    """A new WorldState field needs an entry in evosim.world.checks.VALUE_BOUNDS."""
    from evosim.world.checks import VALUE_BOUNDS
    from evosim.world.state import WorldState

    assert set(VALUE_BOUNDS) == set(WorldState._fields)


def test_valid_checkpoints_of_real_runs_pass_the_value_checks(tmp_path):
    for name in ("classic", "genesis"):
        sc = load_scenario(name)
        world = World(sc, seed=4)
        world.step(1500)
        world2 = World.load(world.save(tmp_path / f"{name}.npz"))
        assert world2.step_count == 1500


@pytest.mark.parametrize("header", [
    "{'descr': '<U9', 'fortran_order': False, 'shape': (",  # tokenize.TokenError in numpy
    "{'descr': '<U9', 'fortran_order': False, 'shape': ()}}",  # SyntaxError
    "{'descr': 7, 'fortran_order': False, 'shape': ()}",  # TypeError / ValueError
])
def test_a_damaged_npy_header_is_one_line(saved, tmp_path, header):
    """Found by test_byte_mutated_checkpoints: numpy parses headers with tokenize/ast."""
    path, _ = saved
    text = header.encode("latin1")
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    raw = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text
    bad = tmp_path / "header.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, raw if name == "meta.npy" else src.read(name))
    with pytest.raises(CheckpointError, match=r"meta: damaged \.npy header"):
        World.load(bad)
