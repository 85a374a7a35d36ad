"""The installed evosim version, in one place (imports nothing of evosim)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evosim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
