"""``evosim watch``: open the live viewer on a scenario or a checkpoint."""

from __future__ import annotations

import argparse

from evosim.render.display import require_display
from evosim.render.source import resolve_source


def watch_command(args: argparse.Namespace) -> int:
    # The source first (a typo in its name is the thing to fix before the
    # screen); it is only checked here, the world is built once a screen is known.
    source = resolve_source(args.source, args.seed, seed_hint="drop --seed")
    require_display()
    from evosim._compile import say_if_compiling

    say_if_compiling(observing=bool(args.rays))
    world = source.world()
    import pygame

    from evosim.record.writer import VideoWriter
    from evosim.render.viewer import Viewer, init_window_display

    viewer = Viewer(world, steps_per_frame=args.steps_per_frame, size=args.size, fps=args.fps,
                    show_rays=args.rays, writer_factory=VideoWriter)
    init_window_display()  # NoDisplayError where SDL would fall back to no window
    try:
        viewer.run()
    finally:
        pygame.quit()
    return 0
