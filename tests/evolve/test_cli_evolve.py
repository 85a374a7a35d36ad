"""The evolve, evaluate and plot commands: outputs, resume after kill -9, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from evosim import World
from evosim.cli import main
from evosim.evolve.checkpoints import list_checkpoints
from tests.helpers import assert_one_line_error, assert_states_equal, run_cli_child

EVOLVE = ["evolve", "classic", "--steps", "2000", "--worlds", "2", "--workers", "2",
          "--seed", "9", "--checkpoint-every", "400", "--metrics-every", "250", "--quiet"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main([*EVOLVE, "--out", str(out)]) == 0
    return out


def test_evolve_writes_the_run_folder(finished_run):
    run = json.loads((finished_run / "run.json").read_text())
    assert run["steps"] == 2000 and run["seed"] == 9 and run["worlds"] == 2
    assert run["scenario"]["name"] == "classic" and len(run["seeds"]) == 2
    assert run["command"][0] == "evosim" and run["evosim_version"]
    rows = (finished_run / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2000 // 250
    for i, seed in enumerate(run["seeds"]):
        world = World.load(finished_run / f"world-{i:03d}" / "final.npz")
        assert world.step_count == 2000 and world.seed == seed
        assert [s for s, _ in list_checkpoints(finished_run, i)] == list(range(400, 2000, 400))


# Long enough that a kill after the first checkpoint lands well before the end
# (about 1.5 s of stepping per world here; 2,000 steps ran out in 40 ms).
EVOLVE_LONG = ["evolve", "classic", "--steps", "100000", "--worlds", "2", "--workers", "2",
               "--seed", "9", "--checkpoint-every", "5000", "--metrics-every", "2500",
               "--quiet"]


def test_kill_9_then_resume_gives_the_same_files(tmp_path):
    finished_run = tmp_path / "straight"
    assert main([*EVOLVE_LONG, "--out", str(finished_run)]) == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "evosim", *EVOLVE_LONG, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not list_checkpoints(out, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the main process and its workers, at once
    proc.wait()
    assert not (out / "world-000" / "final.npz").exists(), "too late to interrupt"
    result = run_cli_child("evolve", "--resume", str(out), "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert (out / "metrics.csv").read_bytes() == (finished_run / "metrics.csv").read_bytes()
    for i in range(2):
        a = World.load(out / f"world-{i:03d}" / "final.npz").state
        b = World.load(finished_run / f"world-{i:03d}" / "final.npz").state
        assert_states_equal(a, b)
    again = run_cli_child("evolve", "--resume", str(out))
    assert again.returncode == 0 and "already finished" in again.stdout


def test_evaluate_json_has_both_arms(finished_run, capsys):
    path = finished_run / "world-000" / "final.npz"
    assert main(["evaluate", str(path), "--steps", "400", "--seeds", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"evolved", "random"}
    for arm in data.values():
        assert set(arm) == {"fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k",
                            "mean_speed"}
        for stats in arm.values():
            assert set(stats) == {"mean", "std"} and stats["std"] >= 0
    assert data["random"]["mean_speed"]["mean"] > 0


def test_evaluate_table(finished_run, capsys):
    path = finished_run / "world-001" / "final.npz"
    assert main(["evaluate", str(path), "--steps", "200", "--seeds", "1"]) == 0
    out = capsys.readouterr().out
    assert "fruit_per_robot_per_1k" in out and "ratio" in out


def test_plot_writes_pngs(finished_run, tmp_path):
    assert main(["plot", str(finished_run), "--out", str(tmp_path / "plots")]) == 0
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["deaths.png", "diversity.png", "fruit_rate.png", "mean_generation.png",
                     "mean_speed_gene.png", "mine_death_rate.png", "muller.png",
                     "overview.png", "phylogeny.png", "summary.png"]
    assert (tmp_path / "plots" / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["evolve", "classic"], "expected SCENARIO and --steps"),
        (["evolve", "--resume", "nowhere"], "no such run folder"),
        (["evolve", "--resume", ".", "--out", "x"], "drop --out"),
        (["evolve", "classic", "--steps", "5", "--workers", "0"], "--workers"),
        (["evaluate", "missing.npz"], "no such checkpoint file"),
        (["evaluate", "x.npz", "--seeds", "0"], "--seeds"),
        (["plot", "nowhere"], "no such run folder"),
    ],
)
def test_errors_are_one_line_exit_2(tmp_path, args, needle):
    assert_one_line_error(run_cli_child(*args, cwd=tmp_path), needle)


def test_resume_refuses_a_corrupt_checkpoint(finished_run, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(finished_run, out)
    (out / "world-001" / "final.npz").unlink()
    list_checkpoints(out, 1)[-1][1].write_bytes(b"garbage")
    assert_one_line_error(run_cli_child("evolve", "--resume", str(out), "--quiet"),
                          "step-000001600.npz")


def test_evaluate_refuses_a_foreign_file(tmp_path):
    bad = tmp_path / "x.npz"
    np.savez(bad, a=np.zeros(3))
    assert_one_line_error(run_cli_child("evaluate", str(bad)), "not an evosim checkpoint")


def test_evolve_refuses_a_non_empty_out(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert_one_line_error(run_cli_child("evolve", "classic", "--steps", "5", "--out", str(out)),
                          "not empty")
    assert (out / "keep.txt").read_text() == "precious"


def test_resume_of_a_sparse_run_gives_the_same_bytes(tmp_path):
    """classic-sparse (evolved connections) with flips both ways often enough to matter:
    `evolve --resume` after a crash writes the metrics.csv and final states of the
    uninterrupted run, byte for byte."""
    import shutil

    from evosim.scenario.loading import SCENARIO_DIR

    text = (SCENARIO_DIR / "classic-sparse.toml").read_text()
    flips = {"connection_flip_rate = 0.0002": "connection_flip_rate = 0.01",
             "connection_regrowth = 0.0 ": "connection_regrowth = 1.0 "}
    for old, new in flips.items():
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "sparse.toml").write_text(text)
    args = ["evolve", str(tmp_path / "sparse.toml"), "--steps", "1200", "--seed", "3",
            "--workers", "1", "--checkpoint-every", "400", "--metrics-every", "200", "--quiet"]
    whole, crashed = tmp_path / "whole", tmp_path / "crashed"
    assert main([*args, "--out", str(whole)]) == 0
    shutil.copytree(whole, crashed)
    (crashed / "metrics.csv").unlink()
    (crashed / "world-000" / "final.npz").unlink()
    list_checkpoints(crashed, 0)[-1][1].unlink()
    assert main(["evolve", "--resume", str(crashed), "--workers", "1", "--quiet"]) == 0
    assert (crashed / "metrics.csv").read_bytes() == (whole / "metrics.csv").read_bytes()
    rows = (whole / "metrics.csv").read_text().splitlines()
    assert rows[0].endswith(",active_connections") and len(rows) == 1 + 1200 // 200
    a = World.load(whole / "world-000" / "final.npz").state
    b = World.load(crashed / "world-000" / "final.npz").state
    assert_states_equal(a, b)
    layout = World.load(whole / "world-000" / "final.npz").scenario.genome_layout
    active = layout.active(a.genome)
    assert active.min() < 0.25 < active.max()  # connections were pruned and regrown
