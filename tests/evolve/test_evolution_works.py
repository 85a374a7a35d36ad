"""Evolution works: a classic run's genomes clearly beat random ones (slow: ``-m slow``)."""

from __future__ import annotations

import pytest

from evosim.cli import main
from evosim.evolve.evaluate import evaluate_checkpoint

STEPS = 60_000


@pytest.mark.slow
def test_evolved_classic_beats_random(tmp_path):
    out = tmp_path / "run"
    assert main(["evolve", "classic", "--steps", str(STEPS), "--seed", "1", "--worlds", "1",
                 "--workers", "1", "--out", str(out), "--quiet"]) == 0
    result = evaluate_checkpoint(out / "world-000" / "final.npz", steps=3000, seeds=3, seed=0)
    evolved, random = result["evolved"], result["random"]
    fruit = "fruit_per_robot_per_1k"
    mines = "mine_deaths_per_robot_per_1k"
    summary = {arm: {k: v["mean"] for k, v in result[arm].items()} for arm in result}
    assert evolved[fruit]["mean"] >= 2.0 * random[fruit]["mean"], summary
    assert evolved[mines]["mean"] <= 0.5 * random[mines]["mean"], summary
