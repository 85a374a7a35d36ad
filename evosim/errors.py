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
