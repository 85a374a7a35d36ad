"""What many tests share: small scenarios, state comparison, running the command line.

Fixtures live in tests/conftest.py; everything here is a plain function to import.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import settings

from evosim import World, load_scenario
from evosim.scenario import Scenario, scenario_from_dict
from evosim.world.state import WorldState

# ---------------------------------------------------------------- scenarios


def small_scenario(**tables: Any) -> Scenario:
    """Classic with some tables changed, e.g. ``small_scenario(robots={"count": 5})``.

    A dict updates that table's keys; any other value replaces the table (or a
    top-level key such as ``name``). Invalid values raise ``ScenarioError``.
    """
    data = load_scenario("classic").model_dump(mode="json")
    for table, values in tables.items():
        if isinstance(values, dict):
            data[table] = {**data.get(table, {}), **values}
        else:
            data[table] = values
    return scenario_from_dict(data, source="<test>")


def tiny_scenario() -> Scenario:
    """A small, fast world: 6 robots, 4 mines, 4 fruit, 4 rays."""
    return small_scenario(name="tiny", robots={"count": 6}, mines={"count": 4},
                          fruit={"count": 4}, vision={"rays": 4}, brain={"hidden": 4})


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


# ---------------------------------------------------------------- states


def _state(x: World | WorldState) -> WorldState:
    return x.state if isinstance(x, World) else x


def assert_states_equal(a: World | WorldState, b: World | WorldState) -> None:
    """Every array of two worlds (or ``WorldState``s) is equal in dtype, shape and values.

    Fails naming the first field that differs, e.g. ``WorldState.genome differs``.
    """
    x, y = _state(a), _state(b)
    for name, p, q in zip(WorldState._fields, x, y, strict=True):
        assert p.dtype == q.dtype, f"WorldState.{name}: dtype {p.dtype} != {q.dtype}"
        np.testing.assert_array_equal(p, q, err_msg=f"WorldState.{name} differs", strict=True)


def states_equal(a: World | WorldState, b: World | WorldState) -> bool:
    """True when :func:`assert_states_equal` would pass (for asserting that runs differ)."""
    x, y = _state(a), _state(b)
    return all(p.dtype == q.dtype and np.array_equal(p, q)
               for p, q in zip(x, y, strict=True))


# ---------------------------------------------------------------- checkpoint files


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


# ---------------------------------------------------------------- a full disk


class ModuleProxy:
    """A module with some of its functions replaced (for one module's view of it)."""

    def __init__(self, real: Any, **replaced: Any) -> None:
        self._real, self._replaced = real, replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced[name] if name in self._replaced else getattr(self._real, name)


class _Limited:
    """A file that writes while its disk has room, then fails as a full disk does
    (what fits is written first, as the kernel does)."""

    def __init__(self, handle: Any, disk: FullDisk) -> None:
        self._handle, self._disk, self._written = handle, disk, 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B") if not isinstance(data, str) else data
        room = self._disk.room or 0
        if len(view) > room:
            self._handle.write(view[:room])
            # The writer removes this file: its bytes are free again.
            self._disk.room = room + self._written
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._disk.room = room - len(view)
        self._written += len(view)
        return self._handle.write(view)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _Limited:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._handle.close()


class FullDisk:
    """Fault injection for evosim's atomic writes (``evosim._atomic``) in this process:
    a disk with ``room`` bytes free. Every file whose final name matches the glob
    ``match`` takes its bytes from that room, and the write that does not fit fails
    with ``ENOSPC`` after writing what fits. ``room = None`` frees the disk."""

    def __init__(self, monkeypatch: Any, room: int | None = 0, match: str = "*") -> None:
        from evosim import _atomic

        self.room: int | None = room
        self.match = match
        self._names: dict[int, str] = {}
        monkeypatch.setattr(_atomic, "tempfile", ModuleProxy(tempfile, mkstemp=self._mkstemp))
        monkeypatch.setattr(_atomic, "os", ModuleProxy(os, fdopen=self._fdopen))
        real_free = _atomic.free_bytes
        monkeypatch.setattr(_atomic, "free_bytes",
                            lambda path: real_free(path) if self.room is None else self.room)

    def _mkstemp(self, *args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = tempfile.mkstemp(*args, **kwargs)
        self._names[fd] = name
        return fd, name

    def _fdopen(self, fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = os.fdopen(fd, *args, **kwargs)
        final = Path(self._names.pop(fd, ".?.x.tmp")).name[1:].rsplit(".", 2)[0]
        if self.room is not None and fnmatch.fnmatch(final, self.match):
            return _Limited(handle, self)
        return handle


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (but the lock file) by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


# ---------------------------------------------------------------- the command line

TIME_LIMIT = 20.0  # seconds: any single input to run_cli must be answered within this
HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """``evosim ARGV`` in this process (cwd changed for the call): (code, stdout, stderr).

    Asserts the contract of every command on every input: exit code 0 or 2, no
    traceback, a bounded time, and an error is exactly one line.
    """
    from evosim.cli import main

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


def run_cli_child(*args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None,
                  timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m evosim ARGS`` in a child process, headless unless ``env`` says otherwise."""
    env = {**os.environ, **HEADLESS} if env is None else env
    return subprocess.run([sys.executable, "-m", "evosim", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env=env)


def assert_one_line_error(result: subprocess.CompletedProcess, needle: str = "") -> None:
    """Exit 2, no traceback, and stderr is one line that contains ``needle``."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr[-2000:]


def run_cli_error(argv: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``evosim ARGV`` in a child (so a crash is a signal, not a dead test run) that must
    end as a one-line error with exit code 2."""
    result = run_cli_child(*argv, cwd=cwd, timeout=timeout)
    assert_one_line_error(result)
    return result


# ---------------------------------------------------------------- hypothesis

DEV_EXAMPLES = 100
"""``max_examples`` of the ``dev`` profile (tests/conftest.py); :func:`examples` scales by it."""


def examples(n: int) -> int:
    """The example budget of one property test: ``n`` under the ``dev`` and ``ci`` profiles,
    proportionally more under ``deep`` (``pytest --hypothesis-profile deep``)."""
    return max(1, n * settings.default.max_examples // DEV_EXAMPLES)


# ---------------------------------------------------------------- torch


def module_actions(scenario: Scenario, genomes: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """float32 [N, 2]: each robot's ``policy_module`` (evosim.torch) applied to its own
    flattened observation (torch is imported here, by the tests that have it)."""
    import torch

    from evosim.torch import policy_module

    flat = torch.from_numpy(np.ascontiguousarray(obs.reshape(obs.shape[0], -1)))
    with torch.no_grad():
        rows = [policy_module(scenario, genomes[i])(flat[i:i + 1]) for i in range(len(genomes))]
    return torch.cat(rows).numpy()
