"""Is there a screen to open a window on? (No pygame import here.)"""

from __future__ import annotations

import os
import sys

from evosim.errors import EvosimError

HEADLESS_DRIVERS = ("dummy", "offscreen")


class NoDisplayError(EvosimError):
    """A live window was asked for where there is no display."""


def has_display() -> bool:
    """True where SDL can open a real window.

    ``SDL_VIDEODRIVER=dummy`` (or ``offscreen``) means no window; on Linux and
    the BSDs a window needs ``DISPLAY`` (X11) or ``WAYLAND_DISPLAY``.
    """
    if os.environ.get("SDL_VIDEODRIVER", "").lower() in HEADLESS_DRIVERS:
        return False
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def require_display() -> None:
    """Raise :class:`NoDisplayError` (one line, pointing to ``evosim record``)."""
    if not has_display():
        raise NoDisplayError(
            "no display to open a window on (DISPLAY/WAYLAND_DISPLAY unset or "
            "SDL_VIDEODRIVER=dummy); record a video instead: "
            "evosim record classic --steps 3000 --out recordings/classic.mp4"
        )
