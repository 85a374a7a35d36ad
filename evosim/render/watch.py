"""``evosim watch``: open the live viewer on a scenario or a checkpoint."""

from __future__ import annotations

import argparse

from evosim.render.display import HEADLESS_DRIVERS, NoDisplayError, require_display
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
    import pygame

    from evosim.render.viewer import Viewer

    viewer = Viewer(world, steps_per_frame=args.steps_per_frame, size=args.size, fps=args.fps,
                    show_rays=args.rays)
    try:
        pygame.display.init()
        driver = pygame.display.get_driver()
    except pygame.error as exc:  # DISPLAY set but no server behind it, for one
        driver, reason = "", str(exc)
    else:
        reason = f"SDL fell back to its {driver!r} video driver"
    if driver in ("", *HEADLESS_DRIVERS):
        pygame.quit()
        raise NoDisplayError(f"cannot open a window ({reason}); record a video instead: "
                             "evosim record classic --steps 3000 --out recordings/classic.mp4")
    try:
        viewer.run()
    finally:
        pygame.quit()
    return 0
