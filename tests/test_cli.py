"""The evosim command: outputs, and one-line errors with exit code 2."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import World
from evosim.cli import main
from tests.helpers import run_cli_child


def test_evolve_writes_final_state(tmp_path):
    out = tmp_path / "run"
    assert main(["evolve", "classic", "--steps", "300", "--seed", "4", "--out", str(out),
                 "--quiet"]) == 0
    world = World.load(out / "world-000" / "final.npz")
    seed = int(np.random.SeedSequence(4).spawn(1)[0].generate_state(1, np.uint64)[0])
    assert world.step_count == 300 and world.seed == seed  # world seeds are spawned from --seed
    direct = World(world.scenario, seed=seed)
    direct.step(300)
    assert (direct.state.genome == world.state.genome).all()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["evolve", "nowhere", "--steps", "5"], "no such scenario"),
        (["evolve", "classic", "--steps", "0"], "--steps"),
        (["evolve", "classic", "--steps", "ten"], "--steps"),
        (["evolve", "classic", "--steps", "5", "--seed", "-2"], "--seed"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_cli_errors_are_one_line_exit_2(tmp_path, args, needle):
    result = run_cli_child(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_bad_scenario_file_via_cli(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[vision]\nrays = 0\n")
    result = run_cli_child("evolve", str(bad), "--steps", "5", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "vision.rays: expected an integer from 1 to 256, got 0" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
