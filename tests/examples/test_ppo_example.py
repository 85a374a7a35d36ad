"""examples/ppo_robot.py runs end to end on a tiny budget (the real run is minutes)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("gymnasium")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ppo_robot.py"


def test_ppo_example_trains_and_evaluates_every_contender(tmp_path):
    from evosim import World, load_scenario

    source = World(load_scenario("classic"), seed=1)
    source.step(100)
    checkpoint = source.save(tmp_path / "evolved.npz")
    spec = importlib.util.spec_from_file_location("ppo_robot", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "results.json"
    assert module.main(["--timesteps", "256", "--envs", "2", "--rollout", "64",
                        "--eval-seeds", "1", "--eval-steps", "20", "--evolved", str(checkpoint),
                        "--out", str(out)]) == 0
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"one", "all"}
    for rows in results.values():
        assert set(rows) == {"ppo", "random", "evolved"}
        for r in rows.values():
            assert r["fruit_per_robot_per_1k"] >= 0 and r["mine_deaths_per_robot_per_1k"] >= 0
