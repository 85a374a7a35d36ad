"""Checks on the files a command is given, shared by the commands."""

from __future__ import annotations

import zipfile
from pathlib import Path

from evosim.errors import CheckpointError


def require_npz(path: Path) -> None:
    """A scenario file or anything else that is not an ``.npz`` archive: our own line,
    not NumPy's text about pickles."""
    if path.is_file() and not zipfile.is_zipfile(path):
        hint = (" (a scenario file; evolve it first: evosim evolve " + str(path) + " --steps N)"
                if path.suffix == ".toml" else "")
        raise CheckpointError(f"{path}: not a checkpoint (.npz written by evosim evolve or "
                              f"World.save){hint}")
