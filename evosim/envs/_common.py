"""What RobotEnv and the parallel env share: arguments, worlds, spaces, rewards, frames."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evosim.errors import EvosimError
from evosim.limits import MAX_EPISODE_STEPS, MAX_FRAME_SIDE, MIN_FRAME_SIDE
from evosim.scenario import Scenario, load_scenario
from evosim.world import ACTION_HIGH, ACTION_LOW, DEATH_AGE, DEATH_MINE, World
from evosim.world.checkpoint import load_checkpoint

DEATH_NAMES = {DEATH_MINE: "mine", DEATH_AGE: "age"}

# Rewards, per step and agent: +1 per fruit eaten, -1 for touching a mine; an age
# death costs nothing beyond what it ends.
FRUIT_REWARD = 1.0
MINE_REWARD = -1.0


@dataclass(frozen=True)
class EnvConfig:
    """Checked arguments of an env: the scenario, the other robots' genomes, limits."""

    scenario: Scenario
    genomes: np.ndarray | None  # float32 [N, G] from ``population``, or None (random)
    max_steps: int | None
    speed: float  # max-speed gene of controlled robots (units per step)
    render_size: tuple[int, int]

    @property
    def n_robots(self) -> int:
        return self.scenario.robots.count

    @property
    def obs_size(self) -> int:
        return self.scenario.vision.rays * len(self.scenario.vision.channels)


def _int_arg(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not (
            low <= int(value) <= high):
        raise EvosimError(f"{name}: expected an integer from {low} to {high}, got {value!r}")
    return int(value)


def env_config(scenario: str | Path | Scenario | None, population: str | Path | None,
               max_steps: int | None, speed: float | None,
               render_size: tuple[int, int], steps_name: str = "max_steps") -> EnvConfig:
    """Check an env's arguments (one-line :class:`EvosimError` naming the value).

    ``scenario``: a name from ``scenarios/``, a path, or a Scenario (default
    ``classic``, or the checkpoint's own scenario, phases frozen at its step,
    when ``population`` is given). ``population``: a checkpoint whose genomes
    the robots start with. ``max_steps`` (named ``steps_name`` in errors): the episode
    length, None for no limit. ``speed``: the controlled robots' max-speed gene
    (default: the speed limit at step 0), at most that limit.
    """
    genomes = None
    if population is not None:
        if not isinstance(population, str | Path):
            raise EvosimError(f"population: expected a checkpoint path, got {population!r}")
        meta, saved, arrays = load_checkpoint(population)
        genomes = np.array(arrays.genome)
        if scenario is None:
            scenario = saved.frozen_at(int(meta["step"]))
    if scenario is None:
        scenario = "classic"
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    elif not isinstance(scenario, Scenario):
        raise EvosimError(f"scenario: expected a scenario name, a path or a Scenario, got "
                          f"{scenario!r}")
    if genomes is not None:
        want = (scenario.robots.count, scenario.genome_length)
        if genomes.shape != want:
            raise EvosimError(f"population: {population}: genomes of shape "
                              f"{list(genomes.shape)} do not fit scenario {scenario.name!r} "
                              f"(expected {list(want)})")
    if max_steps is not None:
        max_steps = _int_arg(steps_name, max_steps, 1, MAX_EPISODE_STEPS)
    limit = float(scenario.settings_at(0)["speed_limit"])
    if speed is None:
        speed = limit
    elif (isinstance(speed, bool) or not isinstance(speed, int | float | np.floating)
          or not math.isfinite(speed) or not 0.0 <= speed <= limit):
        raise EvosimError(f"speed: expected a number from 0 to {limit} (the scenario's speed "
                          f"limit), got {speed!r}")
    if (not isinstance(render_size, tuple | list) or len(render_size) != 2):
        raise EvosimError(f"render_size: expected (width, height), got {render_size!r}")
    size = (_int_arg("render_size width", render_size[0], MIN_FRAME_SIDE, MAX_FRAME_SIDE),
            _int_arg("render_size height", render_size[1], MIN_FRAME_SIDE, MAX_FRAME_SIDE))
    return EnvConfig(scenario, genomes, max_steps, float(speed), size)


def new_world(config: EnvConfig, seed: int, controlled: np.ndarray) -> World:
    """A fresh world of ``seed``: the population's genomes if given, and the controlled
    robots' max-speed gene set to ``config.speed``."""
    world = World(config.scenario, seed=seed)
    if config.genomes is not None:
        world.set_genomes(config.genomes)
    world.writable_state().genome[controlled, -1] = np.float32(config.speed)
    return world


def spaces(config: EnvConfig) -> tuple[Any, Any]:
    """(observation space, action space) of one agent: Box(0, 1, (rays*channels,)) and
    Box([-1, 0], [1, 1]), float32."""
    from gymnasium import spaces as gs

    obs = gs.Box(0.0, 1.0, (config.obs_size,), np.float32)
    act = gs.Box(np.array(ACTION_LOW), np.array(ACTION_HIGH), dtype=np.float32)
    return obs, act


def rewards_into(world: World, out: np.ndarray) -> np.ndarray:
    """float32 [N]: this tick's reward per slot (+1 fruit, -1 mine death), into ``out``."""
    tick = world.last_tick
    np.multiply(tick.ate, FRUIT_REWARD, out=out, casting="unsafe")
    out[tick.death == DEATH_MINE] += MINE_REWARD
    return out


class Frames:
    """Draws a world with :func:`evosim.render.draw`: into an array, or into a window."""

    def __init__(self, config: EnvConfig, human: bool, fps: int) -> None:
        from evosim.render import DrawOptions

        self.size = config.render_size
        self.options = DrawOptions.from_scenario(config.scenario)
        self.human = human
        self.fps = fps
        self._surface: Any = None
        self._clock: Any = None
        if human:
            import os

            from evosim.render.display import HEADLESS_DRIVERS

            if os.environ.get("SDL_VIDEODRIVER", "").lower() in HEADLESS_DRIVERS:
                # Asked for on purpose: an invisible window, as pygame's Gymnasium
                # envs give, so checkers and CI can run "human" headless.
                import pygame

                pygame.display.init()
            else:
                from evosim.render.viewer import init_window_display

                init_window_display()  # NoDisplayError (one line) where there is no screen

    def _target(self) -> Any:
        import pygame

        if self._surface is None:
            if self.human:
                pygame.display.set_caption("evosim")
                self._surface = pygame.display.set_mode(self.size)
                self._clock = pygame.time.Clock()
            else:
                self._surface = pygame.Surface(self.size)
        return self._surface

    def draw(self, world: World, selected: int | None) -> np.ndarray | None:
        """Draw ``world`` (``selected`` slot ringed, with its rays); an H x W x 3 uint8
        array, or None after showing it in the window."""
        import pygame

        from evosim.render import draw

        surface = self._target()
        options = self.options if selected is None else self.options.with_(selected=selected)
        draw(world.state, surface, options, world.observations())
        if self.human:
            pygame.event.pump()
            pygame.display.flip()
            self._clock.tick(self.fps)
            return None
        return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))

    def close(self) -> None:
        if self._surface is not None and self.human:
            import pygame

            pygame.display.quit()
        self._surface = None
