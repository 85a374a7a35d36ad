"""RobotVectorEnv: K RobotEnv worlds stepped side by side without per-env wrappers.

``gymnasium.make_vec("evosim/Robot-v0", num_envs=K)`` builds it (the registered
``vector_entry_point``); ``vectorization_mode="sync"`` or ``"async"`` still builds
Gymnasium's own vector envs around K :class:`~evosim.envs.RobotEnv`. All three give
the same observations, rewards, terminations, truncations and infos for the same
seed and actions (env i seeded with ``seed + i``, next-step autoreset), which the
tests check; this one skips the wrapper stack and the per-env info merging, and
reads only the learners' observations.

One kernel call for all K worlds is not used: Numba checks the type of every array
of every world on each call, so one call over K worlds' arrays costs as much
dispatch as K calls (measured: 115 us for 8 classic worlds against 8 x 12.6 us).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from evosim.envs._common import (
    DEATH_NAMES,
    MINE_REWARD,
    EnvConfig,
    Frames,
    _int_arg,
    env_config,
    new_world,
    spaces,
)
from evosim.envs.robot import LEARNER, SEED_HIGH
from evosim.errors import EvosimError
from evosim.limits import MAX_EPISODE_STEPS, MAX_VECTOR_ENVS
from evosim.scenario import Scenario
from evosim.world import DEATH_MINE, DEATH_NONE, World


class RobotVectorEnv(VectorEnv):
    """``num_envs`` independent :class:`~evosim.envs.RobotEnv` episodes in one object.

    Observations float32 ``[num_envs, rays*channels]``, actions float32
    ``[num_envs, 2]`` (turn, throttle), rewards, ``terminated`` and ``truncated``
    ``[num_envs]``; infos ``{"robot_id", "fruit", "death"}`` as arrays with their
    ``_name`` masks, as :class:`gymnasium.vector.SyncVectorEnv` merges them. An
    env whose episode ended is reset on its next step (that step's action is
    ignored, its reward is 0), Gymnasium's next-step autoreset.

    Arguments: those of :class:`~evosim.envs.RobotEnv` (``scenario``,
    ``population``, ``max_steps``, ``speed``, ``render_size``), plus ``num_envs``
    and ``max_episode_steps`` (the registered time limit, as Gymnasium's
    ``TimeLimit`` applies it). ``render_mode="rgb_array"`` renders a tuple of one
    frame per env.
    """

    metadata: ClassVar[dict[str, Any]] = {  # type: ignore[misc]
        "render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, scenario: str | Path | Scenario | None = None,
                 population: str | Path | None = None, max_steps: int | None = 1000,
                 speed: float | None = None, render_mode: str | None = None,
                 render_size: tuple[int, int] = (640, 480),
                 max_episode_steps: int | None = None) -> None:
        if (isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer)
                or not 1 <= num_envs <= MAX_VECTOR_ENVS):
            raise EvosimError(f"num_envs: expected an integer from 1 to {MAX_VECTOR_ENVS}, "
                              f"got {num_envs!r}")
        if render_mode not in (None, "rgb_array"):
            raise EvosimError(f"render_mode: expected None or 'rgb_array', got "
                              f"{render_mode!r}")
        self.config: EnvConfig = env_config(scenario, population, max_steps, speed,
                                            render_size)
        if max_episode_steps is not None:
            max_episode_steps = _int_arg("max_episode_steps", max_episode_steps, 1,
                                         MAX_EPISODE_STEPS)
        limits = [m for m in (self.config.max_steps, max_episode_steps) if m is not None]
        self._limit = min(limits) if limits else None
        K = self.num_envs = int(num_envs)
        self.render_mode = render_mode
        self.single_observation_space, self.single_action_space = spaces(self.config)
        self.observation_space = batch_space(self.single_observation_space, K)
        self.action_space = batch_space(self.single_action_space, K)
        N = self.config.n_robots
        self._controlled = np.zeros(N, np.bool_)
        self._controlled[LEARNER] = True
        self._actions = np.zeros((K, N, 2), np.float32)
        self._obs_all = np.zeros((N, self.config.obs_size), np.float32)
        self._worlds: list[World | None] = [None] * K
        self._rngs: list[np.random.Generator | None] = [None] * K
        self._ids = np.full(K, -1, np.int64)
        self._steps = np.zeros(K, np.int64)
        self._fruit = np.zeros(K, np.int64)
        self._ended = np.zeros(K, np.bool_)
        self._obs = np.zeros((K, self.config.obs_size), np.float32)
        self._frames = Frames(self.config, False, 30) if render_mode else None

    def _reset_one(self, k: int, seed: int | None) -> None:
        """A fresh world for env ``k``, drawn as RobotEnv.reset draws it."""
        rng = self._rngs[k]
        if seed is not None or rng is None:
            rng, _ = seeding.np_random(seed)
            self._rngs[k] = rng
        world = new_world(self.config, int(rng.integers(0, SEED_HIGH)), self._controlled)
        self._worlds[k] = world
        self._ids[k] = int(world.state.robot_id[LEARNER])
        self._steps[k] = 0
        self._fruit[k] = 0
        self._ended[k] = False
        world.observations(out=self._obs_all)
        self._obs[k] = self._obs_all[LEARNER]

    def _infos(self, deaths: list[str | None]) -> dict[str, Any]:
        every = np.ones(self.num_envs, np.bool_)
        death = np.empty(self.num_envs, object)
        death[:] = deaths
        return {"robot_id": self._ids.copy(), "_robot_id": every,
                "fruit": self._fruit.copy(), "_fruit": every.copy(),
                "death": death, "_death": every.copy()}

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Every env anew; env i seeded with ``seed + i`` (or ``seed[i]``)."""
        K = self.num_envs
        if seed is None or isinstance(seed, int | np.integer):
            seeds: list[int | None] = (
                [None] * K if seed is None else [int(seed) + i for i in range(K)])
        elif isinstance(seed, list | tuple) and len(seed) == K:
            seeds = list(seed)
        else:
            raise EvosimError(f"reset(seed=...): expected None, an integer or {K} seeds, "
                              f"got {seed!r}")
        for k in range(K):
            self._reset_one(k, seeds[k])
        return self._obs.copy(), self._infos([None] * K)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                           dict[str, Any]]:
        K = self.num_envs
        a = np.asarray(actions, np.float32)
        if a.shape != (K, 2):
            raise EvosimError(f"actions: expected (turn, throttle) per env, shape [{K}, 2], "
                              f"got shape {list(a.shape)}")
        if self._worlds[0] is None:
            raise EvosimError("RobotVectorEnv.step: call reset() first")
        rewards = np.zeros(K, np.float64)
        terminated = np.zeros(K, np.bool_)
        truncated = np.zeros(K, np.bool_)
        deaths: list[str | None] = [None] * K
        for k in range(K):
            if self._ended[k]:
                self._reset_one(k, None)
                continue
            world = self._worlds[k]
            assert world is not None
            self._actions[k, LEARNER] = a[k]
            world.step(1, actions=self._actions[k], controlled=self._controlled)
            self._steps[k] += 1
            tick = world.last_tick
            ate = int(tick.ate[LEARNER])
            death = int(tick.death[LEARNER])
            rewards[k] = float(np.float32(ate) + (MINE_REWARD if death == DEATH_MINE else 0.0))
            self._fruit[k] += ate
            terminated[k] = death != DEATH_NONE
            truncated[k] = self._limit is not None and self._steps[k] >= self._limit
            deaths[k] = DEATH_NAMES.get(death)
            if terminated[k]:
                self._obs[k] = 0.0
            else:
                world.observations(out=self._obs_all)
                self._obs[k] = self._obs_all[LEARNER]
            self._ended[k] = terminated[k] or truncated[k]
        infos = self._infos(deaths)
        self._ids[self._ended] = -1
        return self._obs.copy(), rewards, terminated, truncated, infos

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One H x W x 3 uint8 frame per env (``render_mode="rgb_array"``)."""
        if self._frames is None:
            return None
        if self._worlds[0] is None:
            raise EvosimError("RobotVectorEnv.render: call reset() first")
        frames = []
        for world in self._worlds:
            assert world is not None
            frame = self._frames.draw(world, LEARNER)
            assert frame is not None
            frames.append(frame)
        return tuple(frames)

    def close_extras(self, **kwargs: Any) -> None:
        if self._frames is not None:
            self._frames.close()
