"""Stable-Baselines3 accepts the env, and examples/sb3_ppo.py trains PPO on it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")
gymnasium = pytest.importorskip("gymnasium")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sb3_ppo.py"


def test_sb3_check_env_accepts_the_env():
    from stable_baselines3.common.env_checker import check_env

    import evosim.envs  # noqa: F401

    with pytest.warns(UserWarning, match="symmetric and normalized Box action space"):
        check_env(gymnasium.make("evosim/Robot-v0").unwrapped)  # only that advice


def test_sb3_ppo_example_trains_and_evaluates(tmp_path):
    spec = importlib.util.spec_from_file_location("sb3_ppo", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "sb3.json"
    assert module.main(["--timesteps", "2048", "--envs", "2", "--n-steps", "256",
                        "--eval-episodes", "2", "--eval-steps", "200", "--out", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert set(saved["results"]) == {"sb3_ppo", "random_actions"}
    for r in saved["results"].values():
        assert r["steps"] > 0 and r["fruit_per_1k"] >= 0 and r["mine_deaths_per_1k"] >= 0
    assert saved["train_seconds"] > 0
