"""Event logs: every death, birth and random spawn of a world, one gzipped CSV per
checkpoint interval.

``RUN/world-NNN/events/step-NNNNNNNNN.csv.gz`` holds the events that show in the
state after step T0 and up to step T (T is the file's step, T0 the previous
file's), in the order they happened; the first file also lists the initial
robots (event ``initial``). Columns: ``step, event, slot, id, parent, lineage,
generation, x, y`` (``event`` is mine, age, birth, spawn or initial; ``parent``
-1 for none; x, y where it happened, two decimals). A file is written (gzip
without a timestamp, atomically) before the checkpoint of its step, and a resume
removes the files past its checkpoint, so a killed and resumed run writes the
same bytes as an unbroken one.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np

from evosim._atomic import atomic_write_with
from evosim.errors import RunDirError
from evosim.evolve.checkpoints import world_dir
from evosim.kernels.life import EV_AGE, EV_BIRTH, EV_INITIAL, EV_MINE, EV_SPAWN
from evosim.limits import MAX_ID, MAX_STEP
from evosim.world.world import EVENT_DTYPE

EVENTS_DIR = "events"
KIND_NAMES = {EV_MINE: "mine", EV_AGE: "age", EV_BIRTH: "birth", EV_SPAWN: "spawn",
              EV_INITIAL: "initial"}
KINDS = {name: kind for kind, name in KIND_NAMES.items()}
# EVENT_DTYPE's fields in order; the kind column is "event" in the file (its values
# are KIND_NAMES): step,event,slot,id,parent,lineage,generation,x,y.
_FIELDS: tuple[str, ...] = EVENT_DTYPE.names or ()  # a structured dtype: never empty
HEADER = ",".join("event" if name == "kind" else name for name in _FIELDS)
_NAME = re.compile(r"^step-(\d{9,})\.csv\.gz$")
MAX_EVENTS_BYTES = 1 << 30  # a file that unpacks to more is not one we wrote


def events_path(run_dir: Path, index: int, step: int) -> Path:
    """``RUN/world-NNN/events/step-NNNNNNNNN.csv.gz``."""
    return world_dir(run_dir, index) / EVENTS_DIR / f"step-{step:09d}.csv.gz"


def list_event_files(run_dir: Path, index: int) -> list[tuple[int, Path]]:
    """(step, path) of world ``index``'s event files, oldest first."""
    folder = world_dir(run_dir, index) / EVENTS_DIR
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def drop_after(run_dir: Path, index: int, step: int) -> None:
    """Remove world ``index``'s event files past ``step`` (a resume recomputes them)."""
    for s, path in list_event_files(run_dir, index):
        if s > step:
            path.unlink()


def to_csv(events: np.ndarray) -> str:
    """CSV text (header first) of a structured array of ``EVENT_DTYPE``."""
    lines = [HEADER]
    names = [KIND_NAMES[int(k)] for k in events["kind"]]
    for e, name in zip(events.tolist(), names, strict=True):
        lines.append(f"{e[0]},{name},{e[2]},{e[3]},{e[4]},{e[5]},{e[6]},{e[7]:.2f},{e[8]:.2f}")
    return "\n".join(lines) + "\n"


def write_events(path: Path, events: np.ndarray) -> Path:
    """Write ``events`` gzipped (no timestamp: same events, same bytes), atomically."""
    raw = to_csv(events).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
        gz.write(raw)
    atomic_write_with(path, lambda handle: handle.write(buffer.getvalue()))
    return path


def read_events_file(path: Path) -> np.ndarray:
    """One event file as a structured array of ``EVENT_DTYPE``; RunDirError if it is
    not one we wrote."""
    try:
        with gzip.open(path, "rb") as gz:
            raw = gz.read(MAX_EVENTS_BYTES + 1)
        if len(raw) > MAX_EVENTS_BYTES:
            raise RunDirError(f"{path}: unpacks to more than {MAX_EVENTS_BYTES:,} bytes")
        lines = raw.decode("ascii").splitlines()
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise RunDirError(f"{path}: unreadable event log ({exc})") from None
    if not lines or lines[0] != HEADER:
        raise RunDirError(f"{path}: not an evosim event log (header differs)")
    out = np.empty(len(lines) - 1, EVENT_DTYPE)
    for n, line in enumerate(lines[1:]):
        fields = line.split(",")
        try:
            if len(fields) != len(_FIELDS):
                raise ValueError(f"expected {len(_FIELDS)} fields, got {len(fields)}")
            step, slot, rid, parent, lineage, gen = (int(fields[k]) for k in (0, 2, 3, 4, 5, 6))
            x, y = float(fields[7]), float(fields[8])
            kind = KINDS[fields[1]]
        except (ValueError, KeyError) as exc:
            raise RunDirError(f"{path}: line {n + 2}: bad event ({exc})") from None
        if not (0 <= step <= MAX_STEP and 0 <= slot <= MAX_ID and 0 <= rid <= MAX_ID
                and -1 <= parent <= MAX_ID and 0 <= lineage <= MAX_ID
                and 0 <= gen <= MAX_ID and np.isfinite(x) and np.isfinite(y)):
            raise RunDirError(f"{path}: line {n + 2}: value out of range")
        out[n] = (step, kind, slot, rid, parent, lineage, gen, x, y)
    return out


def read_events(run_dir: Path, index: int) -> np.ndarray:
    """Every event of world ``index``, oldest first (empty when it has no log)."""
    parts = [read_events_file(path) for _, path in list_event_files(run_dir, index)]
    return np.concatenate(parts) if parts else np.empty(0, EVENT_DTYPE)
