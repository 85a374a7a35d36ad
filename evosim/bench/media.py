"""Speed of drawing and recording: the figures ``evosim bench`` reports for them."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pygame

from evosim.record.writer import VideoWriter
from evosim.render.drawing import DrawOptions, draw, gif_palette
from evosim.scenario import load_scenario
from evosim.world import World


def bench_draw(frames: int = 300, size: tuple[int, int] = (1280, 720), rays: bool = True,
               scenario: str = "classic", seed: int = 0, warm_steps: int = 300) -> float:
    """Frames per second of :func:`draw` off-screen (world state fixed, rays on).

    The default is the classic world (50 robots, 16 rays each) at 1280x720.
    """
    sc = load_scenario(scenario)
    world = World(sc, seed=seed)
    world.step(warm_steps)
    obs = world.observations()
    options = DrawOptions.from_scenario(sc, show_rays=rays)
    surface = pygame.Surface(size)
    draw(world.state, surface, options, obs)
    start = time.perf_counter()
    for _ in range(frames):
        draw(world.state, surface, options, obs)
    return frames / (time.perf_counter() - start)


def bench_record(frames: int = 120, size: tuple[int, int] = (1280, 720), fmt: str = "mp4",
                 rays: bool = True) -> float:
    """Frames per second of recording the classic world: one step, draw, encode per frame."""
    sc = load_scenario("classic")
    world = World(sc, seed=0)
    world.step(300)
    options = DrawOptions.from_scenario(sc, show_rays=rays)
    surface = pygame.Surface(size)
    with tempfile.TemporaryDirectory() as tmp:
        writer = VideoWriter(Path(tmp) / f"bench.{fmt}", size, fps=30, palette=gif_palette())
        start = time.perf_counter()
        with writer:
            for _ in range(frames):
                world.step(1)
                draw(world.state, surface, options, world.observations())
                writer.write(pygame.image.tobytes(surface, "RGB"))
        return frames / (time.perf_counter() - start)
