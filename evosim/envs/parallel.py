"""Every robot an agent: a PettingZoo ParallelEnv over one world."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pettingzoo import ParallelEnv

from evosim.envs._common import (
    DEATH_NAMES,
    EnvConfig,
    Frames,
    env_config,
    new_world,
    rewards_into,
    spaces,
)
from evosim.errors import EvosimError
from evosim.scenario import Scenario
from evosim.world import DEATH_NONE, World

SEED_HIGH = 2**63  # world seeds are drawn below this from the env's generator


class EvosimParallelEnv(ParallelEnv):
    """Robots ``robot_0 .. robot_{N-1}``, one agent per slot, all acting each step.

    Spaces per agent as :class:`evosim.envs.RobotEnv`'s: float32
    ``Box(0, 1, (rays*channels,))`` observations, ``Box([-1, 0], [1, 1])`` actions
    (turn, throttle; clipped). Reward per step: +1 for a fruit eaten, -1 for a mine
    touched. Agents are persistent, as in PettingZoo's waterworld: a robot that
    dies (mine or age) costs its reward and the agent goes on in the same slot as
    the slot's new robot (an offspring or a fresh random robot, by the world's
    rules); ``infos[agent]`` then holds ``{"death": "mine" | "age", "robot_id": the new
    robot's id}`` for that step, and ``{}`` otherwise. ``terminations`` are always
    False; after ``max_cycles`` steps every agent is truncated and ``agents``
    empties. An agent left out of ``actions`` runs its robot's own brain for the
    step. The controlled robots' max-speed gene is ``speed`` (default the
    scenario's speed limit); their offspring inherit it, mutated, as always.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array"],
                                          "name": "evosim_v0", "is_parallelizable": True,
                                          "render_fps": 30}

    def __init__(self, scenario: str | Path | Scenario | None = None,
                 population: str | Path | None = None, max_cycles: int = 1000,
                 speed: float | None = None, render_mode: str | None = None,
                 render_size: tuple[int, int] = (640, 480)) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise EvosimError(f"render_mode: expected None, 'human' or 'rgb_array', got "
                              f"{render_mode!r}")
        self.config: EnvConfig = env_config(scenario, population, max_cycles, speed,
                                            render_size, steps_name="max_cycles")
        self.max_cycles = self.config.max_steps
        self.render_mode = render_mode
        N = self.config.n_robots
        self.possible_agents = [f"robot_{i}" for i in range(N)]
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        obs_space, act_space = spaces(self.config)
        self._obs_spaces = {a: obs_space for a in self.possible_agents}
        self._act_spaces = {a: act_space for a in self.possible_agents}
        # One space object per agent, so that seeding one does not seed the others.
        for a in self.possible_agents[1:]:
            self._obs_spaces[a], self._act_spaces[a] = spaces(self.config)
        self._all = np.ones(N, np.bool_)
        self._mask = np.zeros(N, np.bool_)
        self._actions = np.zeros((N, 2), np.float32)
        self._rewards = np.zeros(N, np.float32)
        self._frames = Frames(self.config, render_mode == "human",
                              self.metadata["render_fps"]) if render_mode else None
        self.world: World | None = None
        self._rng = np.random.default_rng()
        self._cycles = 0

    def observation_space(self, agent: str) -> Any:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> Any:
        return self._act_spaces[agent]

    def _observations(self) -> dict[str, np.ndarray]:
        assert self.world is not None
        obs = self.world.observations().reshape(len(self.possible_agents), -1)
        return dict(zip(self.agents, obs, strict=True))

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        world_seed = int(self._rng.integers(0, SEED_HIGH))
        self.world = new_world(self.config, world_seed, self._all)
        self.agents = self.possible_agents[:]
        self._cycles = 0
        if self.render_mode == "human":
            self.render()
        return self._observations(), {a: {} for a in self.agents}

    def _set_actions(self, actions: dict[str, Any]) -> np.ndarray:
        """Actions into ``self._actions`` in slot order; returns the controlled mask."""
        if not isinstance(actions, dict):
            raise EvosimError(f"actions: expected a dict of agent -> (turn, throttle), got "
                              f"{type(actions).__name__}")
        try:
            rows = [actions[a] for a in self.possible_agents]
            mask = self._all
        except KeyError:
            mask = self._mask
            mask[:] = False
            for agent in actions:
                i = self._index.get(agent)
                if i is None or agent not in self.agents:
                    raise EvosimError(f"actions: {agent!r} is not a live agent of this "
                                      f"env") from None
                mask[i] = True
            rows = [actions[a] for a, m in zip(self.possible_agents, mask, strict=True) if m]
        try:
            arr = np.asarray(rows, np.float32).reshape(-1, 2) if rows else np.zeros((0, 2))
        except (ValueError, TypeError):
            arr = None
        if arr is None or arr.shape != (len(rows), 2):
            raise EvosimError("actions: expected one (turn, throttle) pair per agent")
        if not np.isfinite(arr).all():
            raise EvosimError("actions: expected finite numbers")
        self._actions[mask] = arr
        return mask

    def step(self, actions: dict[str, Any]) -> tuple[
            dict[str, np.ndarray], dict[str, float], dict[str, bool], dict[str, bool],
            dict[str, dict[str, Any]]]:
        world = self.world
        if world is None or not self.agents:
            raise EvosimError("step: no live agents; call reset() first")
        mask = self._set_actions(actions)
        world.step(1, actions=self._actions, controlled=mask)
        self._cycles += 1
        agents = self.agents
        rewards = dict(zip(agents, rewards_into(world, self._rewards).tolist(), strict=True))
        infos: dict[str, dict[str, Any]] = {a: {} for a in agents}
        death = world.last_tick.death
        if death.any():
            ids = world.state.robot_id
            for i in np.flatnonzero(death != DEATH_NONE).tolist():
                infos[agents[i]] = {"death": DEATH_NAMES[int(death[i])],
                                    "robot_id": int(ids[i])}
        obs = self._observations()
        terminations = dict.fromkeys(agents, False)
        truncated = self.max_cycles is not None and self._cycles >= self.max_cycles
        truncations = dict.fromkeys(agents, truncated)
        if truncated:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terminations, truncations, infos

    def render(self) -> np.ndarray | None:
        """The world drawn by ``evosim.render.draw``: H x W x 3 uint8 for ``rgb_array``,
        into the window for ``human``."""
        if self._frames is None or self.world is None:
            return None
        return self._frames.draw(self.world, None)

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()


def parallel_env(scenario: str | Path | Scenario | None = None, **kwargs: Any
                 ) -> EvosimParallelEnv:
    """The PettingZoo ParallelEnv of a scenario (default ``classic``); see
    :class:`EvosimParallelEnv` for the arguments."""
    return EvosimParallelEnv(scenario, **kwargs)
