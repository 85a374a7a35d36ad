"""Drawing a WorldState onto a pygame surface, and the live viewer.

``draw(state, surface, options)`` only reads the state; the live
:class:`Viewer` and the recorder (:mod:`evosim.record`) both call it.
Importing this package does not import pygame: each name loads its module on
first use (PEP 562), so ``evosim.render.display`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evosim.render.display import NoDisplayError, has_display
    from evosim.render.drawing import DrawOptions, Transform, draw, draw_panel, lineage_colour
    from evosim.render.hud import RateTracker
    from evosim.render.viewer import Viewer

_LAZY = {
    "NoDisplayError": "evosim.render.display",
    "has_display": "evosim.render.display",
    "DrawOptions": "evosim.render.drawing",
    "Transform": "evosim.render.drawing",
    "draw": "evosim.render.drawing",
    "draw_panel": "evosim.render.drawing",
    "lineage_colour": "evosim.render.drawing",
    "RateTracker": "evosim.render.hud",
    "Viewer": "evosim.render.viewer",
}

__all__ = [
    "DrawOptions",
    "NoDisplayError",
    "RateTracker",
    "Transform",
    "Viewer",
    "draw",
    "draw_panel",
    "has_display",
    "lineage_colour",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'evosim.render' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
