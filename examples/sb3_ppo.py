"""Stable-Baselines3 PPO on ``evosim/Robot-v0`` (the learner among 49 random robots).

Trains SB3's PPO (``MlpPolicy``) on the Gymnasium env for ``--timesteps`` steps, then
evaluates the trained policy (its deterministic action) and random actions in the
same fresh episodes: fruit eaten and mine deaths of the learner per 1,000 steps.
Install Stable-Baselines3 after the pinned CPU torch (``make test`` does both)::

    python examples/sb3_ppo.py --timesteps 200000 --out runs/sb3.json

(about 3 minutes on 2 cores). The CleanRL-style PPO beside it (``ppo_robot.py``)
also compares evolved brains.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium
import numpy as np

import evosim.envs  # noqa: F401  (registers evosim/Robot-v0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--timesteps", type=int, default=200_000, help="training env steps")
    p.add_argument("--envs", type=int, default=4, help="envs in SB3's DummyVecEnv")
    p.add_argument("--n-steps", type=int, default=512, help="PPO rollout steps per env")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scenario", default="classic")
    p.add_argument("--eval-episodes", type=int, default=4)
    p.add_argument("--eval-steps", type=int, default=1000, help="steps per episode at most")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    return p.parse_args(argv)


def rates(act: Callable[[np.ndarray], np.ndarray], args: argparse.Namespace) -> dict:
    """The learner's fruit and mine deaths per 1,000 steps over fresh episodes (seeds
    1000, 1001, ...: the same for every contender)."""
    env = gymnasium.make("evosim/Robot-v0", scenario=args.scenario,
                         max_steps=args.eval_steps)
    fruit = mines = steps = 0
    for episode in range(args.eval_episodes):
        obs, info = env.reset(seed=1000 + episode)
        env.action_space.seed(1000 + episode)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(act(obs))
            steps += 1
            done = terminated or truncated
        fruit += info["fruit"]
        mines += info["death"] == "mine"
    env.close()
    return {"fruit_per_1k": round(1000.0 * fruit / steps, 3),
            "mine_deaths_per_1k": round(1000.0 * mines / steps, 3), "steps": steps}


def main(argv: list[str] | None = None) -> int:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    args = parse_args(argv)
    vec = make_vec_env("evosim/Robot-v0", n_envs=args.envs, seed=args.seed,
                       env_kwargs={"scenario": args.scenario})
    model = PPO("MlpPolicy", vec, n_steps=args.n_steps, batch_size=64, seed=args.seed,
                device="cpu", verbose=0)
    start = time.perf_counter()
    model.learn(args.timesteps)
    trained = time.perf_counter() - start
    vec.close()
    space = gymnasium.make("evosim/Robot-v0").action_space
    results = {"sb3_ppo": rates(lambda obs: model.predict(obs, deterministic=True)[0], args),
               "random_actions": rates(lambda obs: space.sample(), args)}
    print(f"trained {args.timesteps:,} steps in {trained:.0f} s")
    for who, r in results.items():
        print(f"{who:15} fruit/1k {r['fruit_per_1k']:7.2f}   mine deaths/1k "
              f"{r['mine_deaths_per_1k']:6.2f}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                   "train_seconds": trained, "results": results}, indent=2))
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
