"""Fuzzing checkpoints: corrupted arrays, metadata and bytes.

Every file either loads into a world that steps with sane state, or is refused
with one CheckpointError line naming the file; never a crash or another error.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evosim import World
from evosim.errors import CheckpointError
from evosim.world import WorldState
from tests.helpers import checkpoint_arrays, examples, tiny_scenario, write_checkpoint

FIELDS = [*WorldState._fields, "meta"]
NUMBERS = st.one_of(
    st.sampled_from([0, 1, -1, 2, 5, 7, 100, 2**31, 2**62, 2**63 - 1, -(2**63), math.nan,
                     math.inf, -math.inf, 1e300, -1e300, 3e38, 1e-310, 800.0, 600.0, 801.0,
                     -0.5, 3.2, 6.0, 6.0001]),
    st.floats(-1e6, 1e6), st.integers(-10, 10_000))
JSON_VALUES = st.one_of(
    NUMBERS.filter(lambda v: not (isinstance(v, float) and not math.isfinite(v))),
    st.sampled_from([None, True, "x", "", [], {}, [1, "a"], {"a": {"b": 1}}, "../../x",
                     "/abs/path", 1.5, -7]))


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    world = World(tiny_scenario(), seed=3)
    world.step(40)
    path = tmp_path_factory.mktemp("ckpt") / "good.npz"
    world.save(path, extra={"world": 0, "run_steps": 100, "metrics_previous": [0] * 5})
    return path, checkpoint_arrays(path)


def _load_or_refuse(path):
    """World.load must give a steppable world with sane state, or a one-line refusal."""
    try:
        world = World.load(path)
    except CheckpointError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc), str(exc)
        event("refused")
        return None
    event("loaded")
    world.step(5)
    s = world.state
    sc = world.scenario
    assert np.isfinite(s.robot_xy).all() and np.isfinite(s.mine_xy).all()
    assert (s.robot_xy >= 0).all() and (s.robot_xy[:, 0] <= sc.world.width).all()
    assert (s.counters >= 0).all() and (s.robot_life >= 0).all()
    return world


@st.composite
def array_corruption(draw, arrays):
    field = draw(st.sampled_from(FIELDS))
    out = dict(arrays)
    kind = draw(st.sampled_from(["value", "value", "value", "shape", "dtype", "drop", "meta"]))
    if kind == "meta" or field == "meta":
        meta = json.loads(str(arrays["meta"]))
        target = meta
        path = draw(st.sampled_from([(), ("scenario",), ("scenario", "vision"),
                                     ("scenario", "robots"), ("extra",), ("counters",)]))
        for part in path:
            target = target[part]
        key = draw(st.sampled_from([*target.keys(), "extra_key"]))
        deep = draw(st.integers(0, 9)) == 0  # JSON nested thousands deep
        target[key] = "<deep>" if deep else draw(JSON_VALUES)
        out["meta"] = np.array(json.dumps(meta).replace('"<deep>"', "[" * 5000 + "]" * 5000))
        return out, f"meta {'.'.join(path)}.{key}"
    a = np.array(arrays[field])
    if kind == "value" and a.size:
        flat = a.reshape(-1)
        i = draw(st.integers(0, flat.size - 1))
        v = draw(NUMBERS)
        try:
            with np.errstate(all="ignore"):
                flat[i] = v
        except (OverflowError, ValueError):
            flat[i] = 0 if a.dtype.kind == "u" else -1
        out[field] = a
    elif kind == "shape":
        out[field] = draw(st.sampled_from([a.reshape(-1)[:0], a.reshape(-1)[:1].reshape(()),
                                           a.reshape(1, -1), np.concatenate([a, a]),
                                           a.reshape(-1)[:-1] if a.size else a]))
    elif kind == "dtype":
        out[field] = a.astype(draw(st.sampled_from([np.float32, np.float64, np.int32,
                                                    np.int64, np.uint8, np.complex64,
                                                    ">f8", ">i8", "U3"])))
    else:
        out.pop(field)
    return out, f"{kind} {field}"


@settings(max_examples=examples(500), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_corrupted_checkpoint_arrays_load_or_fail_in_one_line(good, tmp_path_factory, data):
    _, arrays = good
    corrupt, what = data.draw(array_corruption(arrays))
    event(what.split()[0])
    path = tmp_path_factory.mktemp("bad") / "bad.npz"
    write_checkpoint(path, corrupt)
    _load_or_refuse(path)


@settings(max_examples=examples(300), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_byte_mutated_checkpoints_load_or_fail_in_one_line(good, tmp_path_factory, data):
    path, _ = good
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
        at = data.draw(st.integers(0, len(raw) - 1))
        if op == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif op == "truncate":
            del raw[at:]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        if not raw:
            raw = bytearray(b"PK")
    bad = tmp_path_factory.mktemp("bytes") / "bad.npz"
    bad.write_bytes(bytes(raw))
    _load_or_refuse(bad)
