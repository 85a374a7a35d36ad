"""RobotEnv: one learner robot among a scenario's population, as a Gymnasium 1.x env."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

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

LEARNER = 0  # the learner's slot: at step 0 every slot holds an equal random robot
SEED_HIGH = 2**63  # world seeds are drawn from the env's np_random below this


class RobotEnv(gym.Env):
    """One robot driven by the agent; the other robots run their own brains.

    Observation: float32 ``Box(0, 1, (rays*channels,))``, the learner's vision
    flattened ray-major (index ``k*channels + c``, as ``evosim.torch`` brains take
    it). Action: float32 ``Box([-1, 0], [1, 1])`` = (turn, throttle), clipped; the
    learner moves at throttle x ``speed`` units per step. Reward per step: +1 when
    the learner eats a fruit, -1 when it touches a mine. ``terminated`` when the
    learner dies (mine, or age: its life runs out unless it eats); the observation
    returned then is zeros (its slot already holds a new robot). ``truncated``
    after ``max_steps`` steps (None: never). ``reset(seed=...)`` builds a fresh world
    whose seed is drawn from the env's generator: the same seed, the same world.

    Arguments: ``scenario`` (name, path or Scenario; default ``classic``),
    ``population`` (a checkpoint whose genomes the other robots start with;
    default random genomes), ``max_steps`` (default 1000), ``speed`` (the learner's
    max-speed gene; default the scenario's speed limit), ``render_mode``
    (``"rgb_array"``: an H x W x 3 uint8 frame; ``"human"``: a window),
    ``render_size`` (width, height) in pixels.
    """

    # A class attribute, as Gymnasium reads it; gymnasium.Env annotates it without ClassVar.
    metadata: ClassVar[dict[str, Any]] = {  # type: ignore[misc]
        "render_modes": ["human", "rgb_array"], "render_fps": 30}

    def __init__(self, scenario: str | Path | Scenario | None = None,
                 population: str | Path | None = None, max_steps: int | None = 1000,
                 speed: float | None = None, render_mode: str | None = None,
                 render_size: tuple[int, int] = (640, 480)) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise EvosimError(f"render_mode: expected None, 'human' or 'rgb_array', got "
                              f"{render_mode!r}")
        self.config: EnvConfig = env_config(scenario, population, max_steps, speed,
                                            render_size)
        self.render_mode = render_mode
        self.observation_space, self.action_space = spaces(self.config)
        N = self.config.n_robots
        self._controlled = np.zeros(N, np.bool_)
        self._controlled[LEARNER] = True
        self._actions = np.zeros((N, 2), np.float32)
        self._obs = np.zeros((N, self.config.obs_size), np.float32)
        self._rewards = np.zeros(N, np.float32)
        self._frames = Frames(self.config, render_mode == "human",
                              self.metadata["render_fps"]) if render_mode else None
        self.world: World | None = None
        self._robot_id = -1
        self._steps = 0
        self._fruit = 0

    @property
    def learner_slot(self) -> int:
        """The learner's slot in ``self.world``'s arrays."""
        return LEARNER

    def _info(self, death: str | None = None) -> dict[str, Any]:
        return {"robot_id": self._robot_id, "fruit": self._fruit, "death": death}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        world_seed = int(self.np_random.integers(0, SEED_HIGH))
        self.world = new_world(self.config, world_seed, self._controlled)
        self._robot_id = int(self.world.state.robot_id[LEARNER])
        self._steps = 0
        self._fruit = 0
        self.world.observations(out=self._obs)
        if self.render_mode == "human":
            self.render()
        return self._obs[LEARNER].copy(), self._info()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        world = self.world
        if world is None:
            raise EvosimError("RobotEnv.step: call reset() first")
        a = np.asarray(action, np.float32)
        if a.shape != (2,):
            raise EvosimError(f"action: expected (turn, throttle) of shape [2], got shape "
                              f"{list(a.shape)}")
        if self._robot_id < 0:
            raise EvosimError("RobotEnv.step: the episode has ended; call reset()")
        self._actions[LEARNER] = a
        world.step(1, actions=self._actions, controlled=self._controlled)
        self._steps += 1
        reward = float(rewards_into(world, self._rewards)[LEARNER])
        self._fruit += int(world.last_tick.ate[LEARNER])
        death = int(world.last_tick.death[LEARNER])
        terminated = death != DEATH_NONE
        truncated = self.config.max_steps is not None and self._steps >= self.config.max_steps
        if terminated:
            obs = np.zeros(self.config.obs_size, np.float32)
        else:
            world.observations(out=self._obs)
            obs = self._obs[LEARNER].copy()
        info = self._info(DEATH_NAMES.get(death))
        if terminated or truncated:
            self._robot_id = -1
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, truncated, info

    def render(self) -> np.ndarray | None:
        """The current world drawn by ``evosim.render.draw`` (learner ringed, its rays
        shown): H x W x 3 uint8 for ``rgb_array``, into the window for ``human``."""
        if self._frames is None:
            gym.logger.warn("RobotEnv.render: no render_mode was given")
            return None
        if self.world is None:
            raise EvosimError("RobotEnv.render: call reset() first")
        return self._frames.draw(self.world, LEARNER)

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()
