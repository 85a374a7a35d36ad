"""Drawing a WorldState onto a pygame surface, and the live viewer.

``draw(state, surface, options)`` only reads the state; the live
:class:`Viewer` and the recorder (:mod:`evosim.record`) both call it.
This package imports pygame; ``evosim/__init__.py`` never imports it.
"""

import os

# pygame prints a banner on import; our commands print one-line messages only.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from evosim.render.display import NoDisplayError, has_display
from evosim.render.draw import (
    DrawOptions,
    Transform,
    bench_draw,
    draw,
    draw_panel,
    lineage_colour,
)
from evosim.render.hud import RateTracker
from evosim.render.viewer import Viewer

__all__ = [
    "DrawOptions",
    "NoDisplayError",
    "RateTracker",
    "Transform",
    "Viewer",
    "bench_draw",
    "draw",
    "draw_panel",
    "has_display",
    "lineage_colour",
]
