"""Shared by the fuzz and hardening tests: run the CLI in-process and judge its answer."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from evosim.cli import main
from tests.conftest import small_scenario

TIME_LIMIT = 20.0  # seconds: any single input must be answered within this
SCALE = max(1, int(os.environ.get("EVOSIM_FUZZ_SCALE", "1") or 1))
"""Multiplies every fuzzer's example count (``EVOSIM_FUZZ_SCALE=20 make test`` digs deeper)."""


def examples(n: int) -> int:
    """The example budget of one fuzz test: ``n`` in ``make test``, more when scaled."""
    return n * SCALE


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """``evosim ARGV`` in this process (cwd changed for the call): (code, stdout, stderr).

    Asserts the contract of every command on every input: exit code 0 or 2, no
    traceback, a bounded time, and an error is exactly one line.
    """
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    start = time.monotonic()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help (0) and its errors (2)
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(old)
    took = time.monotonic() - start
    stderr = err.getvalue()
    assert code in (0, 2), (argv, code, stderr)
    assert "Traceback" not in stderr, (argv, stderr)
    assert took < TIME_LIMIT, (argv, took)
    if code == 2:
        assert len(stderr.strip().splitlines()) == 1, (argv, stderr)
    return code, out.getvalue(), stderr


def run_subprocess(argv: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m evosim ARGV`` in a child: asserts no signal, exit 2, one line, no traceback."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    result = subprocess.run([sys.executable, "-m", "evosim", *argv], capture_output=True,
                            text=True, cwd=cwd, timeout=timeout, env=env)
    assert result.returncode == 2, (argv, result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr[-2000:]
    return result


def tiny_scenario():
    """A small, fast world: 6 robots, 4 mines, 4 fruit, 4 rays."""
    return small_scenario(name="tiny", robots={"count": 6}, mines={"count": 4},
                          fruit={"count": 4}, vision={"rays": 4}, brain={"hidden": 4})


def checkpoint_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of a checkpoint file (``meta`` included), as plain arrays."""
    with np.load(path, allow_pickle=False) as data:
        return {k: np.array(data[k]) for k in data.files}


def write_checkpoint(path: Path, arrays: dict[str, np.ndarray], meta: dict | None = None) -> Path:
    """Write ``arrays`` (and ``meta``, if given, as the metadata JSON) as an ``.npz``."""
    arrays = dict(arrays)
    if meta is not None:
        arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    return path


TINY_TOML = """\
name = "tiny"
[robots]
count = 6
[mines]
count = 4
[fruit]
count = 4
[vision]
rays = 4
[brain]
hidden = 4
"""
"""The tiny scenario as a file, for the command line."""
