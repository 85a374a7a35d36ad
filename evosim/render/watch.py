"""``evosim watch``: open the live viewer on a scenario or a checkpoint."""

from __future__ import annotations

import argparse

from evosim.render.display import HEADLESS_DRIVERS, NoDisplayError, require_display
from evosim.render.source import resolve_source


def watch_command(args: argparse.Namespace) -> int:
    # The source first (a typo in its name is the thing to fix before the
    # screen); it is only checked here, the world is built once a screen is known.
    source = resolve_source(args.source, args.seed)
    require_display()
    world = source.world()
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
