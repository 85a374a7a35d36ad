"""The compression techniques of ``evosim compress`` by name, and their levels.

Plain data, light to import: the command line's help reads it.
"""

from __future__ import annotations

METHODS = ("downsize", "svd", "quant", "jpeg", "share", "prune")
"""The six techniques, in the order they run and are reported."""
DEFAULT_LEVELS: dict[str, tuple[int, ...]] = {
    "downsize": (8, 4, 2), "svd": (4, 2, 1), "quant": (8, 4, 2), "jpeg": (90, 50, 20, 5),
    "share": (16, 4, 2), "prune": (90, 50, 20, 5)}
"""Levels per technique; ``prune``'s are JPEG qualities (it matches their bytes)."""
UNITS = {"downsize": "hidden", "svd": "rank", "quant": "bits", "jpeg": "quality",
         "share": "values", "prune": "quality"}
"""What a technique's level counts."""
ARGUMENTS = {"downsize": "hidden", "svd": "ranks", "quant": "bits", "jpeg": "quality",
             "share": "values", "prune": "quality"}
"""The argument (and ``evosim compress`` flag) that gives a technique's levels."""


def setting(method: str, level: int) -> str:
    """A result's level in words: ``Q50``, ``4 bits``, ``rank 2``, ``8 hidden``..."""
    unit = UNITS[method]
    if unit == "quality":
        return f"Q{level}"
    if unit == "rank":
        return f"rank {level}"
    return f"{level} {unit}"
