"""Errors evosim raises on bad input; the CLI prints them as one line and exits 2."""

from __future__ import annotations


class EvosimError(Exception):
    """Base of every error caused by bad input (files, arguments, checkpoints)."""


class ScenarioError(EvosimError):
    """A scenario file is missing, malformed, or holds a bad value."""


class CheckpointError(EvosimError):
    """A checkpoint file is missing, corrupt, foreign, or does not fit."""


class RunDirError(EvosimError):
    """A run folder cannot be created, resumed or read."""


class BrainFileError(EvosimError):
    """A brain file (PyTorch state dict) is missing, malformed or of the wrong shape."""


class OptionalDependencyError(EvosimError):
    """An optional dependency (such as torch for ``evosim.torch``) is not installed."""


AGAIN = "free some space and run the command again"
"""What to do after a :class:`DiskFullError` outside a run folder."""


class DiskFullError(EvosimError):
    """A file could not be written because its file system (or the user's quota) is full.

    The message names the file, the bytes it needed and the bytes free (when known),
    and what to do (``hint``). Nothing is left under the file's name: writes are atomic.
    Its arguments are its fields, so it survives pickling (a worker's error reaches
    the main process whole).
    """

    def __init__(self, path: str, needed: int | None = None, free: int | None = None,
                 hint: str = AGAIN, quota: bool = False) -> None:
        super().__init__(path, needed, free, hint, quota)
        self.path, self.needed, self.free, self.hint, self.quota = (path, needed, free, hint,
                                                                    quota)

    def with_hint(self, hint: str) -> DiskFullError:
        """The same error with another ``hint`` (what to do next)."""
        return DiskFullError(self.path, self.needed, self.free, hint, self.quota)

    def __str__(self) -> str:
        what = "disk quota exceeded" if self.quota else "no space left on device"
        if self.needed is not None and self.free is not None:
            what += f" (writing it needs {size_text(self.needed)}, {size_text(self.free)} free)"
        elif self.free is not None:
            what += f" ({size_text(self.free)} free)"
        return f"{self.path}: {what}; {self.hint}"


def size_text(n: int) -> str:
    """Bytes for people: ``512 bytes``, ``243.9 kB``, ``1.2 GB`` (powers of 1000)."""
    if n < 1000:
        return f"{n} bytes"
    for unit in ("kB", "MB", "GB", "TB"):
        n /= 1000  # type: ignore[assignment]
        if n < 1000 or unit == "TB":
            break
    return f"{n:.1f} {unit}"
