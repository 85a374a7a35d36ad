"""``evosim watch``: open the live viewer on a scenario or a checkpoint."""

from __future__ import annotations

import argparse

from evosim.render.display import require_display
from evosim.scenario import load_scenario
from evosim.world import World


def load_world(source: str, seed: int | None) -> World:
    """A fresh world of a scenario (seed default 0) or the world of a checkpoint (.npz)."""
    if source.lower().endswith(".npz"):
        from evosim.errors import CheckpointError

        if seed is not None:
            raise CheckpointError(f"{source}: --seed: a checkpoint continues its own world "
                                  "(seed fixed); drop --seed")
        return World.load(source)
    return World(load_scenario(source), seed=0 if seed is None else seed)


def watch_command(args: argparse.Namespace) -> int:
    require_display()  # before loading anything: the error is about the screen
    world = load_world(args.source, args.seed)
    from evosim.render.viewer import Viewer

    viewer = Viewer(world, steps_per_frame=args.steps_per_frame, size=args.size, fps=args.fps,
                    show_rays=args.rays)
    try:
        viewer.run()
    finally:
        import pygame

        pygame.quit()
    return 0
