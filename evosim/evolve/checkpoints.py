"""Where a run keeps its files, and finding the point a world resumes from."""

from __future__ import annotations

import re
from pathlib import Path

RUN_FILE = "run.json"
METRICS_FILE = "metrics.csv"
FINAL_FILE = "final.npz"
CHECKPOINT_DIR = "checkpoints"
_CHECKPOINT_NAME = re.compile(r"^step-(\d{9,})\.npz$")


def world_dir(run_dir: Path, index: int) -> Path:
    """``RUN/world-NNN``: one folder per world."""
    return run_dir / f"world-{index:03d}"


def checkpoint_path(run_dir: Path, index: int, step: int) -> Path:
    """``RUN/world-NNN/checkpoints/step-NNNNNNNNN.npz``."""
    return world_dir(run_dir, index) / CHECKPOINT_DIR / f"step-{step:09d}.npz"


def list_checkpoints(run_dir: Path, index: int) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint of world ``index``, oldest first."""
    folder = world_dir(run_dir, index) / CHECKPOINT_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _CHECKPOINT_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def remove_temp_files(run_dir: Path) -> int:
    """Delete temp files that a killed run left half-written (``.NAME.*.tmp``)."""
    removed = 0
    for path in run_dir.rglob(".*.tmp"):
        if path.is_file():
            path.unlink()
            removed += 1
    return removed
