"""Reading checkpoint files defensively: headers before data, values before use.

The kernels index arrays without bounds checks, so a checkpoint is read in an
order that never trusts what it has not checked: the zip members' ``.npy``
headers (shape and dtype) are compared with what the scenario implies before
a byte is decompressed, then every value is checked against the bounds in
:data:`VALUE_BOUNDS` (one entry per ``WorldState`` field; a new field needs
one, and ``tests/test_hardening.py::test_every_state_field_has_value_bounds`` fails
until it has it), or equal to the field's sentinel in :data:`SENTINELS`.
"""

from __future__ import annotations

import json
import math
import tokenize
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

from evosim import limits
from evosim.errors import CheckpointError, EvosimError
from evosim.kernels.layout import (
    CLOCK_SIZE,
    COUNTER_NAMES,
    FINAL_GENOME,
    FRUIT_COUNT,
    MINE_COUNT,
    NEXT_ID,
    NEXT_LINEAGE,
    NURSERY_HEAD,
    NURSERY_SIZE,
    STEP,
)
from evosim.scenario import Scenario
from evosim.world.state import WorldState

META = "meta"
MAX_HEADER = 10_000  # bytes of an .npy header (numpy's own default limit)
SLACK = 1e-9  # relative tolerance of position bounds (float64 round-off at the walls)

Bounds = tuple[Any, Any]
"""(lowest, highest) allowed value, scalars or arrays broadcast against the field."""


def _arena(sc: Scenario, s: WorldState) -> Bounds:
    w, h = sc.world.width, sc.world.height
    return np.array([-SLACK * w, -SLACK * h]), np.array([w * (1 + SLACK), h * (1 + SLACK)])


def _heading(sc: Scenario, s: WorldState) -> Bounds:
    return -math.pi * (1 + SLACK), math.pi * (1 + SLACK)


def _count(sc: Scenario, s: WorldState) -> Bounds:
    return 0, limits.MAX_ID


def _genome(sc: Scenario, s: WorldState) -> Bounds:
    # Brain genes: any finite value; connection mask genes (evolved connections) in
    # [0, 1]; the speed gene (last) in [0, the highest speed limit of any phase], as
    # float32.
    G = s.genome.shape[1]
    top = np.nextafter(np.float32(sc.speed_cap), np.float32(np.inf))
    lo = np.full(G, -np.inf)
    hi = np.full(G, np.inf)
    layout = sc.genome_layout
    if layout.masked and G == layout.length:
        lo[layout.mask:layout.speed], hi[layout.mask:layout.speed] = 0.0, 1.0
    lo[-1], hi[-1] = 0.0, float(top)
    return lo, hi


def _clock(sc: Scenario, s: WorldState) -> Bounds:
    lo = np.zeros(CLOCK_SIZE, np.int64)
    hi = np.full(CLOCK_SIZE, limits.MAX_ID, np.int64)
    hi[STEP] = limits.MAX_STEP
    hi[MINE_COUNT] = s.mine_xy.shape[0]
    hi[FRUIT_COUNT] = s.fruit_xy.shape[0]
    hi[NEXT_LINEAGE] = s.clock[NEXT_ID]  # every random robot takes an id and a lineage
    K = s.nursery_parent.shape[0]
    hi[NURSERY_HEAD] = max(K - 1, 0)  # the ring's oldest entry
    hi[NURSERY_SIZE] = K
    return lo, hi


def _slot(sc: Scenario, s: WorldState) -> Bounds:
    return 0, s.robot_xy.shape[0] - 1


def _conceived(sc: Scenario, s: WorldState) -> Bounds:
    # A conception step no later than the checkpoint's step (or FINAL_GENOME, see
    # SENTINELS): birth draws the mutation with it as the step key.
    return 0, int(s.clock[STEP])


def _below(index: int, lo: int = 0) -> Callable[[Scenario, WorldState], Bounds]:
    """Ids handed out so far: from ``lo`` to the clock's next id (exclusive)."""
    return lambda sc, s: (lo, int(s.clock[index]) - 1)


VALUE_BOUNDS: dict[str, Callable[[Scenario, WorldState], Bounds] | None] = {
    "robot_xy": _arena,
    "robot_heading": _heading,
    "robot_life": _count,
    "robot_age": _count,
    "robot_generation": _count,
    "robot_lineage": _below(NEXT_LINEAGE),
    "robot_id": _below(NEXT_ID),
    "robot_parent": _below(NEXT_ID, lo=-1),
    "robot_fruit": _count,
    "genome": _genome,
    "mine_xy": _arena,
    "mine_heading": _heading,
    "fruit_xy": _arena,
    "nursery_genome": _genome,
    "nursery_parent": _below(NEXT_ID, lo=-1),
    "nursery_parent_slot": _slot,  # the kernels index robot arrays with it
    "nursery_lineage": _below(NEXT_LINEAGE),
    "nursery_generation": _count,
    "nursery_step": _conceived,
    "clock": _clock,
    "rng_key": None,  # any 64-bit key
    "counters": _count,
}
"""Per WorldState field: its value bounds given the scenario and the (shape-checked) state.
``None`` = any value of the dtype. Float fields must also be finite."""

SENTINELS: dict[str, tuple[int, str]] = {
    "nursery_step": (FINAL_GENOME, "a final genome"),
}
"""Per field: a value allowed outside its bounds, and what it means (for messages)."""


ELEMENT_NAMES: dict[str, dict[int, str]] = {
    "clock": {STEP: "step", MINE_COUNT: "mine count", FRUIT_COUNT: "fruit count",
              NEXT_ID: "next id", NEXT_LINEAGE: "next lineage", NURSERY_HEAD: "nursery head",
              NURSERY_SIZE: "nursery size"},
    "counters": dict(enumerate(COUNTER_NAMES)),
}
"""Names of the entries of small bookkeeping arrays, for error messages."""


def _default_bounds(sc: Scenario, s: WorldState) -> Bounds:
    """A field without an entry: integers from -1 (none) to ``MAX_ID``."""
    return -1, limits.MAX_ID


# ---------------------------------------------------------------- headers and members


def member_header(zf: zipfile.ZipFile, name: str, label: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from the ``.npy`` header of zip member ``name``, without reading data."""
    with zf.open(name) as fp:
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(
                    fp, max_header_size=MAX_HEADER)
            elif version in ((2, 0), (3, 0)):
                shape, _, dtype = np.lib.format.read_array_header_2_0(
                    fp, max_header_size=MAX_HEADER)
            else:
                raise CheckpointError(f"{label}: unsupported .npy version {version}")
        # numpy parses the header with ast/tokenize: a damaged one raises any of these.
        except (ValueError, SyntaxError, tokenize.TokenError, TypeError, OverflowError) as exc:
            raise CheckpointError(f"{label}: damaged .npy header ({type(exc).__name__})") from None
    return tuple(int(n) for n in shape), np.dtype(dtype)


def read_member(zf: zipfile.ZipFile, name: str, shape: tuple[int, ...], dtype: np.dtype,
                label: str) -> np.ndarray:
    """The array of member ``name``, whose header must say exactly ``dtype`` ``shape``."""
    got_shape, got_dtype = member_header(zf, name, label)
    if got_shape != shape or got_dtype != dtype:
        raise CheckpointError(f"{label}: expected {dtype}{list(shape)}, "
                              f"got {got_dtype}{list(got_shape)}")
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if zf.getinfo(name).file_size > nbytes + MAX_HEADER + 1024:
        raise CheckpointError(f"{label}: member is larger than its header says")
    with zf.open(name) as fp:
        array = np.lib.format.read_array(fp, allow_pickle=False, max_header_size=MAX_HEADER)
    return np.array(array, order="C", copy=True)


def read_metadata(zf: zipfile.ZipFile, path: Any) -> dict[str, Any]:
    """The checkpoint's JSON metadata (a 0-d unicode array), size-checked before reading."""
    name = f"{META}.npy"
    if name not in zf.namelist():
        raise CheckpointError(f"{path}: not an evosim checkpoint (no metadata)")
    shape, dtype = member_header(zf, name, f"{path}: meta")
    if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * limits.MAX_JSON_BYTES:
        raise CheckpointError(f"{path}: meta: expected a JSON text of at most "
                              f"{limits.MAX_JSON_BYTES:,} bytes, got {dtype}{list(shape)}")
    text = str(read_member(zf, name, shape, dtype, f"{path}: meta")[()])
    try:
        meta = json.loads(text)
    except RecursionError:
        raise CheckpointError(f"{path}: meta: JSON nested too deeply") from None
    except ValueError as exc:
        raise CheckpointError(f"{path}: meta: not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: meta: expected a JSON object, got "
                              f"{type(meta).__name__}")
    return meta


META_TYPES: dict[str, tuple[type, ...]] = {
    "format": (str,),
    "schema": (int,),
    "evosim_version": (str,),
    "scenario": (dict,),
    "seed": (int,),
    "step": (int,),
    "counters": (dict,),
    "extra": (dict,),
}
"""The type of each metadata field a checkpoint may have (all but extra are written)."""


_KIND = {str: "a string", int: "an integer", dict: "an object"}


def check_metadata_types(meta: dict[str, Any], path: Any) -> None:
    for key, types in META_TYPES.items():
        if key in meta and (not isinstance(meta[key], types) or isinstance(meta[key], bool)):
            raise CheckpointError(f"{path}: metadata {key}: expected "
                                  f"{' or '.join(_KIND[t] for t in types)}, got "
                                  f"{type(meta[key]).__name__}")
    counters = meta.get("counters", {})
    if not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
               for k, v in counters.items()):
        raise CheckpointError(f"{path}: metadata counters: expected names and integers")


# ---------------------------------------------------------------- values


def check_values(path: Any, scenario: Scenario, state: WorldState) -> None:
    """Every value of ``state`` within :data:`VALUE_BOUNDS`; floats finite."""
    for name, array in zip(WorldState._fields, state, strict=True):
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            where = np.argwhere(~np.isfinite(array))[0].tolist()
            raise CheckpointError(f"{path}: {name}: expected finite numbers, got "
                                  f"{array[tuple(where)]} at {where}")
        rule = VALUE_BOUNDS.get(name, _default_bounds)
        if rule is None or array.size == 0:
            continue
        lo, hi = rule(scenario, state)
        bad = (array < lo) | (array > hi)
        sentinel = SENTINELS.get(name)
        if sentinel is not None:
            bad &= array != sentinel[0]
        if bad.any():
            where = np.argwhere(bad)[0].tolist()
            lo_b = np.broadcast_to(lo, array.shape)[tuple(where)]
            hi_b = np.broadcast_to(hi, array.shape)[tuple(where)]
            what = ELEMENT_NAMES.get(name, {}).get(where[0]) if array.ndim == 1 else None
            what = f"a {what}" if what else "values"
            also = f" or {sentinel[0]} ({sentinel[1]})" if sentinel is not None else ""
            raise CheckpointError(f"{path}: {name}: expected {what} from {_show(lo_b)} to "
                                  f"{_show(hi_b)}{also}, got {_show(array[tuple(where)])} at "
                                  f"{where}")


def _show(x: Any) -> str:
    x = x.item() if hasattr(x, "item") else x
    return f"{x:g}" if isinstance(x, float) else str(x)


def check_seed(seed: object) -> int:
    """A seed must be an integer from 0 to 2**64 - 1."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise EvosimError(f"seed: expected an integer from 0 to 2**64-1, got {seed!r}")
    if not 0 <= int(seed) < 2**64:
        raise EvosimError(f"seed: expected an integer from 0 to 2**64-1, got {seed}")
    return int(seed)
