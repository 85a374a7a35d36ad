"""Command-line values that would hang or that the OS refuses are one line and exit 2.

In-process through ``evosim.cli.main`` (tests.helpers.run_cli asserts the contract);
crashes (signals) in a child process (tests.helpers.run_cli_error).
"""

from __future__ import annotations

import time

import pytest

from evosim import World
from tests.helpers import (
    run_cli,
    tiny_scenario,
)


@pytest.mark.parametrize(("argv", "needle"), [
    (["evolve", "classic", "--steps", "1", "--worlds", "1000000"], "--worlds: expected an "
                                                                   "integer from 1 to 4,096"),
    (["evolve", "classic", "--steps", "1", "--worlds", "1000000000"], "--worlds"),
    (["evolve", "classic", "--steps", str(10**18)], "metrics rows"),
    (["evolve", "classic", "--steps", str(2**63)], "--steps: expected an integer from 1"),
    (["evaluate", "good.npz", "--seeds", "1000000000"], "--seeds: expected an integer from 1 "
                                                        "to 1,000"),
    (["evaluate", "good.npz", "--steps", str(10**12)], "--steps"),
    (["record", "classic", "--steps", str(10**18)], "expected at most 1,000,000 video frames"),
    (["record", "classic", "--steps", "10", "--fps", str(10**9)], "--fps"),
    (["watch", "classic", "--steps-per-frame", str(10**30)], "--steps-per-frame"),
    (["record", "classic", "--steps", str(2**62), "--steps-per-frame", str(2**62)],
     "--steps-per-frame: expected an integer from 1 to 100,000"),
    (["evolve", "classic", "--steps", "9" * 5000], "--steps: expected an integer"),
])
def test_counts_that_would_hang_are_refused_at_once(tmp_path, argv, needle):
    World(tiny_scenario(), seed=0).save(tmp_path / "good.npz")
    start = time.monotonic()
    code, _, err = run_cli(argv, tmp_path)
    assert code == 2 and needle in err, err
    assert time.monotonic() - start < 5.0
    assert not (tmp_path / "runs").exists() and not (tmp_path / "recordings").exists()


@pytest.mark.parametrize("argv", [
    ["export", "good.npz", "--best", "--out", "\0bad.pt"],  # ValueError in tempfile.mkstemp
    ["record", "classic", "--steps", "2", "--out", "x\0.gif"],
    ["evolve", "classic", "--steps", "2", "--out", "r\0"],
    ["evaluate", "a\0.npz"],
    ["watch", "cla\0ssic"],
])
def test_nul_in_a_path_argument_is_one_line(tmp_path, argv):
    """Found by test_generated_argument_lists: the OS refuses NUL in a path."""
    World(tiny_scenario(), seed=0).save(tmp_path / "good.npz")
    code, _, err = run_cli(argv, tmp_path)
    assert code == 2 and "without NUL characters" in err, err
