"""Paths that cannot be written or read end as one line and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ["evolve", "classic", "--steps", "10", "--out", "{blocker}/sub"],
        ["record", "classic", "--steps", "4", "--out", "{blocker}/x.mp4"],
        ["plot", "{blocker}"],
        ["evaluate", "{blocker}"],
    ],
)
def test_unwritable_or_unreadable_paths_are_one_line_errors(tmp_path, args):
    blocker = tmp_path / "afile"
    blocker.write_text("a plain file where a folder is expected")
    argv = [a.replace("{blocker}", str(blocker)) for a in args]
    result = subprocess.run([sys.executable, "-m", "evosim", *argv], capture_output=True,
                            text=True, cwd=tmp_path, timeout=300,
                            env={"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
                                 "PATH": ""})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"evosim {argv[0]}: error: ")
    assert blocker.read_text().startswith("a plain file")
