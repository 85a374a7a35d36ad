"""``evosim watch``: open the live viewer on a scenario or a checkpoint."""

from __future__ import annotations

import argparse

from evosim import limits
from evosim.commands import _options as opts

DESCRIPTION = "Watch a world evolve live in a window (press ? in it for the controls)."
EXAMPLES = ("evosim watch                                        # classic, seed 0",
            "evosim watch genesis --seed 3 --steps-per-frame 5",
            "evosim watch runs/classic-seed0/world-000/final.npz --rays",
            "without a display, record a video instead: evosim record --help")


def parents() -> list[argparse.ArgumentParser]:
    return [opts.seed_flag(None, "world seed for a scenario (default 0); a checkpoint keeps "
                                 "its own"),
            opts.fps_flag(60, "frame cap (default 60)"),
            opts.size_flag((1280, 720), "initial window size (default 1280x720; the window is "
                                        "resizable)")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", nargs="?", default="classic", type=opts.text,
                   metavar="SCENARIO|CHECKPOINT",
                   help="built-in scenario name, a .toml path, or a checkpoint .npz "
                   "(default classic)")
    p.add_argument("--steps-per-frame", type=opts.int_at_least(0, limits.MAX_STEPS_PER_FRAME),
                   default=1, metavar="K",
                   help="ticks per frame, 0 = as fast as it goes (default 1; + and - change it)")
    p.add_argument("--rays", action="store_true", help="start with every robot's rays shown")


def run(options: argparse.Namespace) -> int:
    from evosim.render.display import require_display
    from evosim.render.source import resolve_source

    # The source first (a typo in its name is the thing to fix before the
    # screen); it is only checked here, the world is built once a screen is known.
    source = resolve_source(options.source, options.seed, seed_hint="drop --seed")
    require_display()
    from evosim._compile import say_if_compiling

    say_if_compiling(observing=bool(options.rays))
    world = source.world()
    import pygame

    from evosim.record.writer import VideoWriter
    from evosim.render.viewer import Viewer, init_window_display

    viewer = Viewer(world, steps_per_frame=options.steps_per_frame, size=options.size,
                    fps=options.fps, show_rays=options.rays, writer_factory=VideoWriter)
    init_window_display()  # NoDisplayError where SDL would fall back to no window
    try:
        viewer.run()
    finally:
        pygame.quit()
    return 0
