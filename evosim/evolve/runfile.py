"""Checking a run folder's ``run.json`` before any of it is used.

A run file decides how many worlds are built, how long they run and how many
metrics rows are held in memory, so each field's type and range is checked
here and any failure is one line naming the file and the field. The defaults of a
new run's intervals live here too: light to import, the command line's help reads them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeGuard

from evosim import limits
from evosim.errors import RunDirError

DEFAULT_CHECKPOINT_EVERY = 10_000
"""Ticks between checkpoints of a new run."""
DEFAULT_METRICS_EVERY = 1_000
"""Ticks per metrics row of a new run."""
DEFAULT_RECORD_STEPS = 600
"""Ticks per clip when a run records clips (300 frames, 10 s at 30 fps)."""

# (field, what it must be) for the message; checked by _FIELD_CHECKS below.
_INT_FIELDS = {
    "steps": (1, limits.MAX_STEP),
    "checkpoint_every": (1, limits.MAX_STEP),
    "metrics_every": (1, limits.MAX_STEP),
    "seed": (0, 2**64 - 1),
}


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_run_data(path: Path, data: dict[str, Any]) -> None:
    """Raise RunDirError unless ``data`` (a parsed run.json) has sane types and ranges."""
    for key, (lo, hi) in _INT_FIELDS.items():
        value = data.get(key)
        if not _is_int(value) or not lo <= value <= hi:
            raise RunDirError(f"{path}: {key}: expected an integer from {lo} to {hi:,}, "
                              f"got {_short(value)}")
    start = data.get("start", 0)  # absent in runs that start from step 0
    if not _is_int(start) or not 0 <= start <= limits.MAX_STEP:
        raise RunDirError(f"{path}: start: expected an integer from 0 to {limits.MAX_STEP:,}, "
                          f"got {_short(start)}")
    for key in ("record_every", "record_steps"):  # absent in runs without clips
        value = data.get(key, 0)
        if not _is_int(value) or not 0 <= value <= limits.MAX_STEP:
            raise RunDirError(f"{path}: {key}: expected an integer from 0 to "
                              f"{limits.MAX_STEP:,}, got {_short(value)}")
    seeds = data.get("seeds")
    if (not isinstance(seeds, list) or not 1 <= len(seeds) <= limits.MAX_WORLDS
            or not all(_is_int(s) and 0 <= s < 2**64 for s in seeds)):
        raise RunDirError(f"{path}: seeds: expected a list of 1 to {limits.MAX_WORLDS} "
                          f"integers from 0 to 2**64-1, got {_short(seeds)}")
    if not isinstance(data.get("scenario"), dict):
        raise RunDirError(f"{path}: scenario: expected an object, got "
                          f"{_short(data.get('scenario'))}")
    for key in ("evosim_version", "format"):
        if key in data and not isinstance(data[key], str):
            raise RunDirError(f"{path}: {key}: expected a string, got {_short(data[key])}")
    command = data.get("command", [])
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise RunDirError(f"{path}: command: expected a list of strings, got {_short(command)}")
    check_metrics_rows(data["steps"], data["metrics_every"], f"{path}: steps/metrics_every")


def check_metrics_rows(steps: int, every: int, label: str) -> None:
    """A run holds its ``steps / metrics_every`` rows per world in memory: bound them."""
    rows = -(-steps // every)
    if rows > limits.MAX_METRICS_ROWS:
        raise RunDirError(f"{label}: expected at most {limits.MAX_METRICS_ROWS:,} metrics rows "
                          f"per world, got {steps:,} steps / {every:,} = {rows:,} rows "
                          f"(raise the metrics interval)")


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return f"a JSON object of {len(value)} keys"
    if isinstance(value, list) and len(value) > 5:
        return f"a list of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."
