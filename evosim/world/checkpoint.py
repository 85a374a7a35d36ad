"""Checkpoint files: write a World's state and metadata, read them back checked.

A checkpoint is an ``.npz`` (no pickle) with one ``.npy`` member per
``WorldState`` field and a ``meta`` member holding JSON. Reading never trusts
what it has not checked; the checks themselves live in :mod:`evosim.world.checks`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evosim import limits
from evosim._atomic import atomic_write_with
from evosim._version import __version__
from evosim.errors import CheckpointError, EvosimError
from evosim.kernels.layout import STEP
from evosim.scenario import Scenario, saved_scenario
from evosim.world import checks
from evosim.world.state import WorldState

if TYPE_CHECKING:
    from evosim.world.world import World

CHECKPOINT_FORMAT = "evosim-checkpoint"
CHECKPOINT_SCHEMA = 4  # the only one read: earlier schemas never left development


def metadata(world: World) -> dict[str, Any]:
    """What a checkpoint records beside the arrays."""
    return {
        "format": CHECKPOINT_FORMAT,
        "schema": CHECKPOINT_SCHEMA,
        "evosim_version": __version__,
        "scenario": world.scenario.model_dump(mode="json"),
        "seed": world.seed,
        "step": world.step_count,
        "counters": world.counters,
    }


def save(world: World, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write ``world``'s checkpoint (``.npz``, no pickle, metadata as JSON), atomically."""
    path = Path(path)
    meta = metadata(world)
    if extra:
        meta["extra"] = extra
    arrays: dict[str, Any] = {name: np.asarray(a)
                              for name, a in zip(WorldState._fields, world.state, strict=True)}
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    atomic_write_with(path, lambda handle: np.savez(handle, **arrays))
    return path


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], WorldState]:
    """Metadata and arrays of a checkpoint file; CheckpointError if it is not one."""
    meta, _, arrays = load_checkpoint(path)
    return meta, arrays


def load_checkpoint(path: str | Path) -> tuple[dict[str, Any], Scenario, WorldState]:
    """Metadata, scenario and arrays of a checkpoint, every one checked before use.

    Order: metadata (size, JSON, types), the scenario (full validation), each
    array's ``.npy`` header against the shape and dtype the scenario implies
    (before decompressing it), then every value (:mod:`evosim.world.checks`).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with zipfile.ZipFile(path) as zf:
            meta = checks.read_metadata(zf, path)
            checks.check_metadata_types(meta, path)
            _check_metadata(path, meta)
            scenario = _checkpoint_scenario(path, meta)
            expected = WorldState.empty(scenario)  # zero pages: nothing touched until read
            names = set(zf.namelist())
            missing = [f for f in WorldState._fields if f"{f}.npy" not in names]
            if missing:
                raise CheckpointError(f"{path}: checkpoint lacks arrays: {', '.join(missing)}")
            arrays = WorldState(*(
                checks.read_member(zf, f"{name}.npy", want.shape, want.dtype, f"{path}: {name}")
                for name, want in zip(WorldState._fields, expected, strict=True)))
    except CheckpointError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError,
            NotImplementedError, RuntimeError) as exc:
        # zipfile raises NotImplementedError for unknown compression, RuntimeError for
        # encrypted members; numpy ValueError for bad headers.
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({reason})") from None
    if meta["step"] != int(arrays.clock[STEP]):
        raise CheckpointError(f"{path}: metadata step {meta['step']!r} does not match the "
                              f"state's step {int(arrays.clock[STEP])}")
    checks.check_values(path, scenario, arrays)
    return meta, scenario, arrays


def _check_metadata(path: Path, meta: dict[str, Any]) -> None:
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not an evosim checkpoint (format is not "
                              f"{CHECKPOINT_FORMAT!r})")
    if meta.get("schema") != CHECKPOINT_SCHEMA:
        raise CheckpointError(f"{path}: schema: expected {CHECKPOINT_SCHEMA}, got "
                              f"{meta.get('schema')!r}")
    for key in ("seed", "step", "scenario"):
        if key not in meta:
            raise CheckpointError(f"{path}: metadata lacks {key!r}")
    try:
        checks.check_seed(meta["seed"])
    except EvosimError as exc:
        raise CheckpointError(f"{path}: metadata {exc}") from None
    if not 0 <= meta["step"] <= limits.MAX_STEP:
        raise CheckpointError(f"{path}: metadata step: expected an integer from 0 to "
                              f"{limits.MAX_STEP}, got {meta['step']}")


def _checkpoint_scenario(path: str | Path, meta: dict[str, Any]) -> Scenario:
    try:
        return saved_scenario(meta["scenario"], source=f"{path} (scenario)")
    except EvosimError as exc:
        raise CheckpointError(str(exc)) from None
