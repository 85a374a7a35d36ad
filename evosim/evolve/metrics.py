"""Metrics rows: what one world did in one interval, and the CSV files that hold them.

A row depends only on the world's state and counters, never on wall-clock time,
so two runs with the same seed write byte-identical files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evosim._atomic import atomic_write_text
from evosim.errors import RunDirError
from evosim.evolve.checkpoints import METRICS_FILE, world_dir
from evosim.kernels.layout import COUNTER_NAMES, OFFSPRING_DROPPED
from evosim.limits import MAX_ID, MAX_STEP
from evosim.world import World

if TYPE_CHECKING:
    from evosim.evolve.plan import RunPlan

COUNT_COLUMNS = tuple(name for i, name in enumerate(COUNTER_NAMES) if i != OFFSPRING_DROPPED)
"""The world's event counters that are metrics columns: all but ``offspring_dropped``."""
COLUMNS = (
    "world",  # index of the world in the run (world-NNN)
    "seed",  # the world's seed
    "step",  # the step at the end of the interval
    *COUNT_COLUMNS,  # events in the interval (deltas of the world's counters)
    "mean_speed_gene",  # state at the end of the interval (units per step)
    "max_speed_gene",
    "mean_age",  # mean age of the living robots, steps
    "mean_generation",  # mean generation of the living robots (0: a random robot)
    "max_generation",  # highest generation alive
    "lineages_alive",  # distinct founding lineages among living robots
    "dominant_lineage_share",  # fraction of robots in the most common lineage
    "active_connections",  # mean fraction of active connections (1.0 for dense brains)
)
INT_COLUMNS = ("world", "seed", "step", *COUNT_COLUMNS, "max_generation", "lineages_alive")
DIGITS = 6  # decimals kept for float columns (exact enough, stable text)


def counters_vector(world: World) -> list[int]:
    """The cumulative event counters of ``COUNT_COLUMNS``, in that order."""
    c = world.counters
    return [c[name] for name in COUNT_COLUMNS]


def metrics_row(world: World, index: int, previous: Sequence[int]) -> dict[str, int | float]:
    """One row for world ``index``: events since ``previous`` counters, state now."""
    s = world.state
    now = counters_vector(world)
    speed = s.speed_gene.astype(np.float64)
    _, sizes = np.unique(s.robot_lineage, return_counts=True)
    row: dict[str, int | float] = {"world": index, "seed": world.seed, "step": world.step_count}
    row.update({name: n - p for name, n, p in zip(COUNT_COLUMNS, now, previous, strict=True)})
    row.update(
        mean_speed_gene=round(float(speed.mean()), DIGITS),
        max_speed_gene=round(float(speed.max()), DIGITS),
        mean_age=round(float(s.robot_age.mean()), DIGITS),
        mean_generation=round(float(s.robot_generation.mean()), DIGITS),
        max_generation=int(s.robot_generation.max()),
        lineages_alive=len(sizes),
        dominant_lineage_share=round(float(sizes.max()) / len(s.robot_lineage), DIGITS),
        active_connections=round(float(world.scenario.genome_layout.active(s.genome).mean()),
                                 DIGITS),
    )
    return row


def rows_to_csv(rows: Iterable[dict[str, int | float]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_rows(path: Path, rows: Iterable[dict[str, int | float]]) -> None:
    """Write ``rows`` as CSV with a header, atomically."""
    atomic_write_text(path, rows_to_csv(rows))


def read_rows(path: Path) -> list[dict[str, int | float]]:
    """Rows of a metrics CSV written by :func:`write_rows`; RunDirError if it is not one."""
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            found = tuple(reader.fieldnames or ())
            if found != COLUMNS:
                raise RunDirError(f"{path}: not an evosim metrics file (columns differ)")
            rows = []
            for row in reader:
                if None in row or None in row.values():
                    raise RunDirError(f"{path}: line {reader.line_num}: expected "
                                      f"{len(found)} fields")
                rows.append({k: int(v) if k in INT_COLUMNS else float(v)
                             for k, v in row.items()})
            return rows
    except FileNotFoundError:
        raise RunDirError(f"{path}: no metrics file") from None
    except (ValueError, TypeError, csv.Error) as exc:
        raise RunDirError(f"{path}: unreadable metrics file ({exc})") from None


def check_rows(path: Path, rows: list[dict[str, int | float]], worlds: int) -> None:
    """Rows fit for plots and stories: the run's worlds, steps increasing within a world
    (from 1 to MAX_STEP), integer columns from 0 to MAX_ID; RunDirError otherwise."""
    last: dict[int, int] = {}
    for row in rows:
        w, step = int(row["world"]), int(row["step"])
        if not 0 <= w < worlds:
            raise RunDirError(f"{path}: world: expected 0 to {worlds - 1}, got {w}")
        if not last.get(w, 0) < step <= MAX_STEP:
            raise RunDirError(f"{path}: world {w}: expected increasing steps up to "
                              f"{MAX_STEP:,}, got {step} after {last.get(w, 0)}")
        last[w] = step
        for key in INT_COLUMNS:
            if key != "seed" and not 0 <= int(row[key]) <= MAX_ID:
                raise RunDirError(f"{path}: world {w} step {step}: {key}: expected 0 to "
                                  f"{MAX_ID:,}, got {row[key]}")


def merged(per_world: Iterable[list[dict[str, int | float]]]) -> list[dict[str, int | float]]:
    """All worlds' rows in one list, ordered by step, then world."""
    rows = [row for rows in per_world for row in rows]
    return sorted(rows, key=lambda r: (int(r["step"]), int(r["world"])))


def rebuild_metrics(run_dir: Path, plan: RunPlan) -> str:
    """``RUN/metrics.csv`` text: every world's rows, ordered by step then world."""
    per_world = []
    for i in range(plan.worlds):
        path = world_dir(run_dir, i) / METRICS_FILE
        per_world.append(read_rows(path) if path.exists() else [])
    return rows_to_csv(merged(per_world))


def write_metrics(run_dir: Path, plan: RunPlan) -> None:
    """Write ``RUN/metrics.csv`` (atomically) from the worlds' files."""
    atomic_write_text(run_dir / METRICS_FILE, rebuild_metrics(run_dir, plan))
