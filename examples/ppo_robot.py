"""Evolution vs reinforcement learning on evosim's classic world.

A single-file PPO (CleanRL style: one script, no RL framework, torch only) trains
one robot's policy in ``evosim/Robot-v0`` (the learner among 49 random robots),
then evaluates, in the very same fresh worlds:

- ``ppo``: the trained policy (its mean action),
- ``evolved``: a brain evolved by ``evosim evolve`` (the checkpoint's best robot),
- ``random``: random brains,

each in two settings: ``one``, a single robot among random robots (the setting
PPO trained in: the learner's slot is driven by each contender in turn), and
``all``, every robot driven by the contender. Rates are fruit eaten and mine
deaths per robot per 1,000 steps, with reproduction off and a dead robot back
elsewhere with the same brain (as ``evosim evaluate`` does). Run::

    evosim evolve classic --steps 200000 --seed 1 --out runs/classic-seed1
    python examples/ppo_robot.py --evolved runs/classic-seed1/world-000/final.npz

(about 6 minutes on 2 cores; ``--timesteps`` sets the training budget).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.distributions import Normal

from evosim import World, load_scenario
from evosim.envs import RobotEnv
from evosim.evolve.evaluate import evaluation_scenario
from evosim.evolve.plan import world_seeds
from evosim.world import DEATH_MINE
from evosim.world.brainfile import best_slot
from evosim.world.checkpoint import load_checkpoint


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--timesteps", type=int, default=1_500_000, help="training env steps")
    p.add_argument("--envs", type=int, default=16, help="RobotEnvs stepped side by side")
    p.add_argument("--rollout", type=int, default=256, help="steps per env per update")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--minibatches", type=int, default=4)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--clip", type=float, default=0.2)
    p.add_argument("--ent-coef", type=float, default=0.0)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scenario", default="classic")
    p.add_argument("--evolved", type=Path, default=None,
                   help="checkpoint of an evolved population (its best robot is evaluated)")
    p.add_argument("--eval-seeds", type=int, default=4)
    p.add_argument("--eval-steps", type=int, default=3000)
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    return p.parse_args(argv)


class Agent(nn.Module):
    """Gaussian policy and value function, two tanh hidden layers each."""

    def __init__(self, n_obs: int, hidden: int) -> None:
        super().__init__()

        def mlp(n_out: int, std: float) -> nn.Sequential:
            layers = [nn.Linear(n_obs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                      nn.Linear(hidden, n_out)]
            for layer in layers:
                if isinstance(layer, nn.Linear):
                    nn.init.orthogonal_(layer.weight, np.sqrt(2))
                    nn.init.zeros_(layer.bias)
            nn.init.orthogonal_(layers[-1].weight, std)
            return nn.Sequential(*layers)

        self.critic = mlp(1, 1.0)
        self.actor_mean = mlp(2, 0.01)
        self.actor_logstd = nn.Parameter(torch.full((1, 2), -0.5))

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def act(self, x: torch.Tensor, action: torch.Tensor | None = None
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        mean = self.actor_mean(x)
        dist = Normal(mean, self.actor_logstd.expand_as(mean).exp())
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action).sum(-1), dist.entropy().sum(-1), self.value(x)


def train(args: argparse.Namespace) -> tuple[Agent, float]:
    """PPO on ``args.envs`` RobotEnvs; returns the agent and the final mean return."""
    torch.manual_seed(args.seed)
    envs = [RobotEnv(scenario=args.scenario) for _ in range(args.envs)]
    n_obs = envs[0].observation_space.shape[0]
    agent = Agent(n_obs, args.hidden)
    opt = torch.optim.Adam(agent.parameters(), lr=args.lr, eps=1e-5)
    E, T = args.envs, args.rollout
    obs_buf = torch.zeros(T, E, n_obs)
    act_buf = torch.zeros(T, E, 2)
    logp_buf = torch.zeros(T, E)
    rew_buf = torch.zeros(T, E)
    done_buf = torch.zeros(T, E)
    val_buf = torch.zeros(T, E)
    obs = torch.from_numpy(np.stack([e.reset(seed=args.seed * 1000 + i)[0]
                                     for i, e in enumerate(envs)]))
    done = torch.zeros(E)
    returns: list[float] = []
    ep_ret = np.zeros(E)
    updates = max(args.timesteps // (E * T), 1)
    start = time.perf_counter()
    for update in range(updates):
        opt.param_groups[0]["lr"] = args.lr * (1.0 - update / updates)
        for t in range(T):
            obs_buf[t], done_buf[t] = obs, done
            with torch.no_grad():
                action, logp, _, value = agent.act(obs)
            act_buf[t], logp_buf[t], val_buf[t] = action, logp, value
            a = action.numpy()
            next_obs = np.empty((E, n_obs), np.float32)
            for i, env in enumerate(envs):
                o, r, term, trunc, _ = env.step(a[i])
                rew_buf[t, i] = r
                ep_ret[i] += r
                done[i] = float(term or trunc)
                if term or trunc:
                    returns.append(ep_ret[i])
                    ep_ret[i] = 0.0
                    o, _ = env.reset()
                next_obs[i] = o
            obs = torch.from_numpy(next_obs)
        with torch.no_grad():  # generalized advantage estimation
            next_value = agent.value(obs)
            adv = torch.zeros(T, E)
            last = torch.zeros(E)
            for t in reversed(range(T)):
                nonterminal = 1.0 - (done if t == T - 1 else done_buf[t + 1])
                nv = next_value if t == T - 1 else val_buf[t + 1]
                delta = rew_buf[t] + args.gamma * nv * nonterminal - val_buf[t]
                last = delta + args.gamma * args.gae_lambda * nonterminal * last
                adv[t] = last
            ret = adv + val_buf
        b_obs, b_act = obs_buf.reshape(-1, n_obs), act_buf.reshape(-1, 2)
        b_logp, b_adv, b_ret = logp_buf.reshape(-1), adv.reshape(-1), ret.reshape(-1)
        batch = E * T
        mb = batch // args.minibatches
        for _ in range(args.epochs):
            perm = torch.randperm(batch)
            for k in range(0, batch, mb):
                idx = perm[k:k + mb]
                _, logp, entropy, value = agent.act(b_obs[idx], b_act[idx])
                ratio = (logp - b_logp[idx]).exp()
                a_n = (b_adv[idx] - b_adv[idx].mean()) / (b_adv[idx].std() + 1e-8)
                pg = torch.max(-a_n * ratio,
                               -a_n * ratio.clamp(1 - args.clip, 1 + args.clip)).mean()
                v_loss = 0.5 * ((value - b_ret[idx]) ** 2).mean()
                loss = pg + 0.5 * v_loss - args.ent_coef * entropy.mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                opt.step()
        if update % 10 == 0 or update == updates - 1:
            recent = float(np.mean(returns[-50:])) if returns else float("nan")
            print(f"update {update + 1}/{updates}  steps {(update + 1) * batch:,}  "
                  f"return {recent:.2f}  {time.perf_counter() - start:.0f} s", flush=True)
    return agent, float(np.mean(returns[-50:])) if returns else float("nan")


def policy_actions(agent: Agent, obs: np.ndarray) -> np.ndarray:
    """Mean actions, float32 [n, 2], for observations [n, rays*channels]."""
    with torch.no_grad():
        return agent.actor_mean(torch.from_numpy(obs)).numpy()


def evaluate(agent: Agent, args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    """Per setting (one, all) and contender: fruit and mine deaths per robot per 1k steps."""
    base = load_scenario(args.scenario)
    scenario = evaluation_scenario(base, 0)
    evolved = None
    if args.evolved is not None:
        _, _, arrays = load_checkpoint(args.evolved)
        evolved = np.array(arrays.genome[best_slot(arrays)])
    speed = float(scenario.settings_at(0)["speed_limit"])
    N = scenario.robots.count
    n_obs = scenario.vision.rays * len(scenario.vision.channels)
    contenders = ["ppo", "random"] + (["evolved"] if evolved is not None else [])
    out: dict[str, dict[str, dict[str, float]]] = {"one": {}, "all": {}}
    for setting in ("one", "all"):
        driven = np.zeros(N, bool)
        driven[0 if setting == "one" else slice(None)] = True
        for who in contenders:
            fruit = mines = 0
            for world_seed in world_seeds(args.seed + 100, args.eval_seeds):
                world = World(scenario, seed=world_seed)
                if who == "evolved":
                    g = np.array(world.state.genome)
                    g[driven] = evolved
                    world.set_genomes(g)
                elif who == "ppo":
                    world.writable_state().genome[driven, -1] = np.float32(speed)
                obs = np.empty((N, n_obs), np.float32)
                actions = np.zeros((N, 2), np.float32)
                for _ in range(args.eval_steps):
                    if who == "ppo":
                        world.observations(out=obs)
                        actions[driven] = policy_actions(agent, obs[driven])
                        world.step(1, actions=actions, controlled=driven)
                    else:
                        world.step(1)
                    tick = world.last_tick
                    fruit += int(tick.ate[driven].sum())
                    mines += int((tick.death[driven] == DEATH_MINE).sum())
            per_k = 1000.0 / (int(driven.sum()) * args.eval_steps * args.eval_seeds)
            out[setting][who] = {"fruit_per_robot_per_1k": round(fruit * per_k, 3),
                                 "mine_deaths_per_robot_per_1k": round(mines * per_k, 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    agent, final_return = train(args)
    trained = time.perf_counter() - start
    results = evaluate(agent, args)
    print(f"trained {args.timesteps:,} steps in {trained:.0f} s; final mean return "
          f"{final_return:.2f}")
    print(f"{'setting':8} {'contender':10} {'fruit/robot/1k':>15} {'mine deaths/robot/1k':>21}")
    for setting, rows in results.items():
        for who, r in rows.items():
            print(f"{setting:8} {who:10} {r['fruit_per_robot_per_1k']:15.2f} "
                  f"{r['mine_deaths_per_robot_per_1k']:21.2f}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                        "train_seconds": trained,
                                        "final_return": final_return,
                                        "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
