"""Regression tests for issue 12: every bad input it lists ends as one line and exit 2.

Crashes (signals) are checked in a child process; the rest in-process through
``evosim.cli.main`` (see tests/fuzz/helpers.py for the contract asserted).
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
import pytest

from evosim import World, limits, load_scenario
from evosim.errors import BrainFileError, CheckpointError, ScenarioError
from evosim.evolve.batch import RunPlan, world_seeds
from evosim.evolve.checkpoints import FINAL_FILE, world_dir
from evosim.kernels.layout import CLOCK_SIZE, NEXT_ID, NURSERY_HEAD, NURSERY_SIZE
from evosim.scenario import scenario_from_dict
from tests.fuzz.helpers import (
    TINY_TOML,
    checkpoint_arrays,
    run_cli,
    run_subprocess,
    tiny_scenario,
    write_checkpoint,
)

CLASSIC = load_scenario("classic").model_dump(mode="json")


def classic_with(**tables) -> dict:
    data = json.loads(json.dumps(CLASSIC))
    for table, values in tables.items():
        if isinstance(values, dict):
            data[table].update(values)
        else:
            data[table] = values
    return data


def toml_file(tmp_path, text: str, name: str = "bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------- scenarios


@pytest.mark.parametrize(("tables", "needle"), [
    ({"vision": {"range": float("inf")}}, "vision.range: expected a number from 0.01"),
    ({"vision": {"fov_degrees": 360.0}}, "vision.fov_degrees: expected a number of at least "
                                         "0.01 and below 360"),
    ({"vision": {"fov_degrees": 5e-324}}, "vision.fov_degrees"),
    ({"robots": {"radius": 1e-310}}, "robots.radius: expected a number from 0.01"),
    ({"mines": {"radius": 5e-324}}, "mines.radius"),
    ({"fruit": {"count": 1_000_000}}, "fruit.count: expected an integer from 0 to 20000"),
    ({"fruit": {"count": 2000}}, "fruit.count: expected mines and fruit to leave free room"),
    ({"world": {"width": 1e6, "height": 1e6}, "mines": {"count": 1_000_000}},
     "mines.count: expected an integer from 0 to 20000"),
    ({"vision": {"rays": 256, "channels": ["mine", "fruit", "robot", "edge"]},
      "brain": {"hidden": 1024}, "robots": {"count": 2000}},
     "robots.count: expected the world's arrays to fit the memory budget of 2 GiB"),
    ({"robots": {"count": 1_000_000}}, "robots.count: expected an integer from 1 to 100000"),
    ({"vision": {"rays": 256, "channels": ["mine", "fruit", "robot", "edge"]},
      "brain": {"hidden": 1024}, "robots": {"count": 100_000}}, "2 GiB per world"),
    ({"phases": [{"step": 2**70}]}, "phases[0].step: expected an integer from 0 to "
                                    "4,611,686,018,427,387,904"),
    ({"phases": [{"step": 10, "fruit": {"count": 1_000_000}}]}, "phases[0].fruit.count"),
    ({"phases": [{"step": 10, "fruit": {"count": 5000}}]}, "fruit.count: expected mines and "
                                                           "fruit to leave free room"),
    ({"evolution": {"seed_brain": "brain\0.pt"}}, "evolution.seed_brain: expected a file path "
                                                 "without NUL"),
    ({"name": "../../escaped"}, "name: expected a plain file-name-safe word"),
    ({"name": "/some/abs/path"}, "name: expected a plain file-name-safe word"),
    ({"name": ".."}, "name: expected a plain file-name-safe word"),
    ({"robots": {"speed_init_max": float("inf")}}, "robots.speed_init_max: expected a number"),
    ({"robots": {"speed_limit": float("inf")}}, "robots.speed_limit: expected a number"),
    ({"robots": {"speed_limit": 1e39}}, "robots.speed_limit: expected a number greater than 0 "
                                        "and at most 1e+06, got 1e+39"),
    ({"mines": {"speed": float("inf")}}, "mines.speed: expected a number from 0 to 1e+06"),
    ({"mines": {"speed": float("nan")}}, "mines.speed"),
    ({"evolution": {"offspring_distance": float("inf")}}, "evolution.offspring_distance"),
    ({"phases": [{"step": i} for i in range(1001)]}, "phases: expected at most 1000 phases, "
                                                      "got 1001"),
])
def test_scenarios_beyond_what_the_kernels_hold_are_refused(tables, needle):
    start = time.monotonic()
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(classic_with(**tables), source="x.toml")
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert time.monotonic() - start < 1.0


def test_the_memory_budget_is_checked_before_allocating():
    sc = scenario_from_dict(classic_with(vision={"rays": 64}, brain={"hidden": 256},
                                         robots={"count": 500}), source="x")
    # The estimate covers what WorldState allocates.
    state_bytes = sum(a.nbytes for a in World(sc, seed=0).state)
    assert state_bytes <= sc.memory_bytes() <= limits.STATE_MEMORY_BUDGET


@pytest.mark.parametrize("text", [
    "x = " + "[" * 5000 + "]" * 5000,
    "x = " + "{a = " * 3000 + "1" + "}" * 3000,
])
def test_deeply_nested_toml_is_one_line(tmp_path, text):
    path = toml_file(tmp_path, text)
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(path)
    code, _, err = run_cli(["evolve", str(path), "--steps", "1"], tmp_path)
    assert code == 2 and "bad.toml" in err


def test_a_file_name_that_is_not_a_plain_word_still_gives_a_safe_default_name(tmp_path):
    path = toml_file(tmp_path, "[robots]\ncount = 5\n", name="my scenario (2).toml")
    assert load_scenario(path).name == "my-scenario--2-"


def test_vision_range_inf_no_longer_crashes_evolve(tmp_path):
    path = toml_file(tmp_path, TINY_TOML.replace("[vision]\n", "[vision]\nrange = inf\n"))
    result = run_subprocess(["evolve", str(path), "--steps", "5", "--out", "run"], tmp_path)
    assert "vision.range" in result.stderr
    assert not (tmp_path / "run").exists()


def test_escaping_names_write_nothing_outside(tmp_path):
    path = toml_file(tmp_path, 'name = "../../escaped"\n')
    code, _, err = run_cli(["evolve", str(path), "--steps", "1"], tmp_path)
    assert code == 2 and "name: expected a plain file-name-safe word" in err
    assert not (tmp_path.parent.parent / "escaped-seed0").exists()


# ---------------------------------------------------------------- command-line limits


@pytest.mark.parametrize(("argv", "needle"), [
    (["evolve", "classic", "--steps", "1", "--worlds", "1000000"], "--worlds: expected an "
                                                                   "integer from 1 to 4,096"),
    (["evolve", "classic", "--steps", "1", "--worlds", "1000000000"], "--worlds"),
    (["evolve", "classic", "--steps", str(10**18)], "metrics rows"),
    (["evolve", "classic", "--steps", str(2**63)], "--steps: expected an integer from 1"),
    (["evaluate", "good.npz", "--seeds", "1000000000"], "--seeds: expected an integer from 1 "
                                                        "to 1,000"),
    (["evaluate", "good.npz", "--steps", str(10**12)], "--steps"),
    (["record", "classic", "--steps", str(10**18)], "expected at most 1,000,000 video frames"),
    (["record", "classic", "--steps", "10", "--fps", str(10**9)], "--fps"),
    (["watch", "classic", "--steps-per-frame", str(10**30)], "--steps-per-frame"),
    (["record", "classic", "--steps", str(2**62), "--steps-per-frame", str(2**62)],
     "--steps-per-frame: expected an integer from 1 to 100,000"),
    (["evolve", "classic", "--steps", "9" * 5000], "--steps: expected an integer"),
])
def test_counts_that_would_hang_are_refused_at_once(tmp_path, argv, needle):
    World(tiny_scenario(), seed=0).save(tmp_path / "good.npz")
    start = time.monotonic()
    code, _, err = run_cli(argv, tmp_path)
    assert code == 2 and needle in err, err
    assert time.monotonic() - start < 5.0
    assert not (tmp_path / "runs").exists() and not (tmp_path / "recordings").exists()


# ---------------------------------------------------------------- checkpoints


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
        result = run_subprocess(argv, tmp_path)
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


# ---------------------------------------------------------------- run folders


@pytest.fixture
def run_dir(tmp_path):
    """A finished one-world run, written directly (no worker processes)."""
    from evosim.evolve import metrics

    run = tmp_path / "run"
    plan = RunPlan(scenario=tiny_scenario().model_dump(mode="json"), seed=0,
                   seeds=world_seeds(0, 1), steps=20, checkpoint_every=10, metrics_every=10)
    world_dir(run, 0).mkdir(parents=True)
    plan.save(run)
    world = World(tiny_scenario(), seed=plan.seeds[0])
    rows, previous = [], metrics.counters_vector(world)
    for _ in range(2):
        world.step(10)
        rows.append(metrics.metrics_row(world, 0, previous))
        previous = metrics.counters_vector(world)
    metrics.write_rows(world_dir(run, 0) / "metrics.csv", rows)
    world.save(world_dir(run, 0) / FINAL_FILE,
               extra={"world": 0, "run_steps": 20, "metrics_previous": previous})
    metrics.write_rows(run / "metrics.csv", rows)
    return run


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("steps", 20.0, "steps: expected an integer from 1"),
    ("metrics_every", 10.0, "metrics_every: expected an integer from 1"),
    ("seeds", {"a": 1}, "seeds: expected a list of 1 to 4096 integers"),
    ("seeds", [1.5], "seeds: expected a list"),
    ("steps", 10**18, "steps/metrics_every: expected at most 1,000,000 metrics rows"),
    ("steps", True, "steps: expected an integer"),
    ("scenario", "classic", "scenario: expected an object"),
    ("command", [1], "command: expected a list of strings"),
    ("deep", None, "nested too deeply"),
])
def test_bad_run_files_are_one_line(run_dir, tmp_path, key, value, needle):
    plan = json.loads((run_dir / "run.json").read_text())
    plan[key] = value
    text = json.dumps(plan)
    if key == "deep":
        text = text.replace('"deep": null', '"deep": ' + "[" * 100_000 + "]" * 100_000)
    (run_dir / "run.json").write_text(text)
    for argv in (["evolve", "--resume", "run", "--workers", "1"], ["plot", "run"]):
        code, _, err = run_cli(argv, tmp_path)
        assert code == 2 and needle in err and "run.json" in err, err


def test_binary_top_level_metrics_of_a_finished_run_is_rebuilt(run_dir, tmp_path):
    good = (run_dir / "metrics.csv").read_bytes()
    (run_dir / "metrics.csv").write_bytes(b"\xff\xfe\x00garbage\x80" * 100)
    code, _, err = run_cli(["evolve", "--resume", "run", "--workers", "1", "--quiet"], tmp_path)
    assert code == 0, err
    assert (run_dir / "metrics.csv").read_bytes() == good
    code, _, err = run_cli(["plot", "run"], tmp_path)
    assert code == 0, err


def test_binary_world_metrics_are_one_line(run_dir, tmp_path):
    (world_dir(run_dir, 0) / "metrics.csv").write_bytes(b"\xff\x00\x80" * 100)
    code, _, err = run_cli(["evolve", "--resume", "run", "--workers", "1"], tmp_path)
    assert code == 2 and "metrics.csv" in err, err


def test_a_run_json_scenario_with_a_million_fruit_is_refused_on_resume(run_dir, tmp_path):
    plan = json.loads((run_dir / "run.json").read_text())
    plan["scenario"]["fruit"]["count"] = 1_000_000
    (run_dir / "run.json").write_text(json.dumps(plan))
    start = time.monotonic()
    code, _, err = run_cli(["evolve", "--resume", "run", "--workers", "1"], tmp_path)
    assert code == 2 and "fruit.count: expected an integer from 0 to 20000" in err, err
    assert time.monotonic() - start < 5.0


def test_metrics_state_of_wrong_type_in_a_checkpoint_is_one_line(run_dir, tmp_path):
    from evosim.evolve.batch import _start

    world = World(tiny_scenario(), seed=RunPlan.load(run_dir).seeds[0])
    world.step(10)
    ckpt = world_dir(run_dir, 0) / "checkpoints" / "step-000000010.npz"
    ckpt.parent.mkdir()
    world.save(ckpt, extra={"metrics_previous": ["x", 1, 2, 3, 4]})
    with pytest.raises(CheckpointError, match="no metrics state"):
        _start(run_dir, RunPlan.load(run_dir), 0)


# ---------------------------------------------------------------- brain files


@pytest.mark.parametrize(("kind", "needle"), [
    ("sparse", "plain data (torch._utils._rebuild_sparse_tensor)"),
    ("meta", "plain data (torch._utils._rebuild_meta_tensor_no_storage)"),
    ("complex", "plain data (torch.ComplexFloatStorage)"),
    ("speed_complex", "plain data (torch.ComplexFloatStorage)"),
])
def test_odd_tensors_in_brain_files_are_refused(tmp_path, kind, needle):
    torch = pytest.importorskip("torch")
    from evosim.torch import BRAIN_FORMAT, BRAIN_SCHEMA, brain_metadata, load_brain, policy_module

    sc = tiny_scenario()
    state = dict(policy_module(sc, World(sc, seed=0).state.genome[0]).state_dict())
    w = state["0.weight"]
    state["0.weight"] = {"sparse": w.to_sparse(), "meta": torch.empty(w.shape, device="meta"),
                         "complex": w.to(torch.complex64), "speed_complex": w}[kind]
    if kind == "speed_complex":
        state["max_speed"] = state["max_speed"].to(torch.complex64)
    path = tmp_path / "b.pt"
    torch.save({"format": BRAIN_FORMAT, "schema": BRAIN_SCHEMA, "meta": brain_metadata(sc),
                "state_dict": state}, path)
    with pytest.raises(BrainFileError) as info:
        load_brain(path, sc)
    assert needle in str(info.value) and "b.pt" in str(info.value), str(info.value)


# ---------------------------------------------------------------- found by the fuzzers


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


@pytest.mark.parametrize("argv", [
    ["export", "good.npz", "--best", "--out", "\0bad.pt"],  # ValueError in tempfile.mkstemp
    ["record", "classic", "--steps", "2", "--out", "x\0.gif"],
    ["evolve", "classic", "--steps", "2", "--out", "r\0"],
    ["evaluate", "a\0.npz"],
    ["watch", "cla\0ssic"],
])
def test_nul_in_a_path_argument_is_one_line(tmp_path, argv):
    """Found by test_generated_argument_lists: the OS refuses NUL in a path."""
    World(tiny_scenario(), seed=0).save(tmp_path / "good.npz")
    code, _, err = run_cli(argv, tmp_path)
    assert code == 2 and "without NUL characters" in err, err


def _with_step(row: str, step: str) -> str:
    world, seed, _, rest = row.split(",", 3)
    return ",".join([world, seed, step, rest])


@pytest.mark.parametrize("command", ["plot", "story"])
@pytest.mark.parametrize(("edit", "needle"), [
    (lambda rows: [rows[0], rows[1] + ",7", *rows[2:]], "line 2: expected 16 fields"),
    (lambda rows: [rows[0], rows[1], rows[1], *rows[2:]], "world 0: expected increasing steps"),
    (lambda rows: [rows[0], "-5" + rows[1][1:], *rows[2:]], "world: expected 0 to 0, got -5"),
    (lambda rows: [rows[0], _with_step(rows[1], "9" * 20), *rows[2:]],
     "world 0: expected increasing steps up to"),
    (lambda rows: [rows[0], rows[1].replace(",0,", ",-3,", 1), *rows[2:]], "expected 0 to"),
])
def test_inconsistent_metrics_rows_are_one_line(run_dir, tmp_path, command, edit, needle):
    """Found by hand after the fuzzers: plot divided by zero on repeated steps, and
    story overflowed int64 on a step of 20 digits."""
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    (run_dir / "metrics.csv").write_text("\n".join(edit(rows)) + "\n")
    code, _, err = run_cli([command, "run"], tmp_path)
    assert code == 2 and needle in err and "Warning" not in err, err
    assert not (run_dir / "plots").exists()
