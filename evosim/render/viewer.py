"""The live viewer: step, draw, tick, on the same World that headless runs step.

Each frame steps the world by ``steps_per_frame`` ticks (unless paused) and
draws it, so after F frames of k steps the world is bit-identical to
``World(...).step(F * k)``. Steps per frame 0 means "as fast as it goes": the
world steps in chunks until the frame's time is used.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
import pygame

from evosim.errors import EvosimError
from evosim.render.display import HEADLESS_DRIVERS, NoDisplayError, require_display
from evosim.render.drawing import COLOUR_MODES, DrawOptions, Transform, draw, draw_panel
from evosim.render.hud import (
    RateTracker,
    draw_brain,
    draw_help,
    draw_network,
    hud_lines,
    robot_lines,
)
from evosim.world import World

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 0)
"""Steps per frame the + and - keys move through; 0 is as fast as it goes."""
_LADDER = tuple(sorted(s for s in SPEEDS if s))  # the finite speeds, slowest first
MAX_CHUNK = 50  # ticks per kernel call in "as fast as it goes" mode
RECORDINGS = Path("recordings")


class FrameWriter(Protocol):
    """What the viewer needs of a video writer (``evosim.record.VideoWriter`` is one)."""

    size: tuple[int, int]
    frames: int

    def write(self, frame: bytes) -> None: ...

    def close(self) -> Path: ...

    def abort(self) -> None: ...


WriterFactory = Callable[[Path, tuple[int, int], float], FrameWriter]
"""``factory(path, (width, height), fps)`` -> a writer that streams RGB frames to ``path``."""


class Control(NamedTuple):
    """One row of the viewer's controls: what the help overlay shows, and what runs."""

    label: str  # the keys (or mouse button) as the help overlay names them
    help: str  # what it does, as the help overlay says it
    action: str = ""  # the Viewer method a press runs ("" for the mouse: see Viewer.click)
    keys: tuple[int, ...] = ()  # pygame key codes (the first few named in the label)
    chars: tuple[str, ...] = ()  # typed characters, for layouts where + - ? are shifted


CONTROLS = (
    Control("space", "pause / resume", "toggle_pause", (pygame.K_SPACE,)),
    Control("n  .  right", "single step (pauses)", "single_step",
            (pygame.K_n, pygame.K_PERIOD, pygame.K_RIGHT)),
    Control("+  up", "faster (steps per frame, up to max)", "faster",
            (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS, pygame.K_UP), ("+",)),
    Control("-  down", "slower (down to 1 step per frame)", "slower",
            (pygame.K_MINUS, pygame.K_KP_MINUS, pygame.K_DOWN), ("-",)),
    Control("r", "toggle rays (field of view)", "toggle_rays", (pygame.K_r,)),
    Control("h", "toggle HUD", "toggle_hud", (pygame.K_h,)),
    Control("click", "follow a robot: stats, live brain and its network"),
    Control("c", "colour robots by lineage / genome / speed gene", "cycle_colours",
            (pygame.K_c,)),
    Control("esc", "stop following / close help / quit", "escape", (pygame.K_ESCAPE,)),
    Control("s", "screenshot (PNG in recordings/)", "take_screenshot", (pygame.K_s,)),
    Control("v", "start / stop recording (MP4 in recordings/)", "toggle_recording",
            (pygame.K_v,)),
    Control("q", "quit", "quit", (pygame.K_q,)),
    Control("?  F1", "this help", "toggle_help",
            (pygame.K_F1, pygame.K_QUESTION, pygame.K_SLASH), ("?",)),
)
"""The viewer's controls, in the help overlay's order: the keys it handles and the
overlay are both read from here, so the two cannot drift."""
_BY_KEY = {key: c.action for c in CONTROLS for key in c.keys}
_BY_CHAR = {char: c.action for c in CONTROLS for char in c.chars}


def init_window_display() -> None:
    """Start SDL's display, or raise :class:`NoDisplayError` (one line) where there is
    no screen: no ``DISPLAY``/``WAYLAND_DISPLAY``, a dead server, or SDL falling back
    to an off-screen driver."""
    require_display()
    try:
        pygame.display.init()
        driver = pygame.display.get_driver()
    except pygame.error as exc:  # DISPLAY set but no server behind it, for one
        driver, reason = "", str(exc)
    else:
        reason = f"SDL fell back to its {driver!r} video driver"
    if driver in ("", *HEADLESS_DRIVERS):
        pygame.display.quit()
        raise NoDisplayError(f"cannot open a window ({reason}); record a video instead: "
                             "evosim record classic --steps 3000 --out recordings/classic.mp4")


class Viewer:
    """A window showing ``world`` live. ``run(max_frames)`` returns the frames shown.

    ``surface``: draw onto this surface instead of opening a window (tests,
    off-screen use). ``fps`` caps the frame rate (0: no cap). Screenshots and
    recordings go to ``out_dir``. ``writer_factory(path, (width, height), fps)``
    makes the video writer the ``v`` key records to (``evosim.record.VideoWriter``
    in ``evosim watch``); without one, ``v`` says recording is not available. The
    viewer never imports the recorder: the command layer injects it.
    """

    def __init__(self, world: World, steps_per_frame: int = 1, *,
                 size: tuple[int, int] = (1280, 720), fps: float = 60,
                 show_rays: bool = False, show_hud: bool = True,
                 surface: pygame.Surface | None = None, out_dir: Path = RECORDINGS,
                 writer_factory: WriterFactory | None = None) -> None:
        if steps_per_frame < 0:
            raise ValueError(f"steps_per_frame: expected 0 (max) or more, got {steps_per_frame}")
        self.world = world
        self.steps_per_frame = int(steps_per_frame)
        self.size = size
        self.fps = fps
        self.show_rays = show_rays
        self.show_hud = show_hud
        self.show_help = False
        self.colour_by = "lineage"  # one of COLOUR_MODES; the c key cycles
        self.paused = False
        self.running = False
        self.follow_id: int | None = None
        self.out_dir = Path(out_dir)
        self._surface = surface
        self._window = surface is None
        self._options = DrawOptions.from_scenario(world.scenario)
        self._tf: Transform | None = None
        self._pending = 0
        self._rates = RateTracker()
        self._writer_factory = writer_factory
        self._writer: FrameWriter | None = None
        self._message = ("press ? for help", time.monotonic() + 4.0)
        self._fps_ema = 0.0
        self._sps_ema = 0.0

    # ------------------------------------------------------------ the loop

    def run(self, max_frames: int | None = None) -> int:
        """Show frames until quit (or ``max_frames``); returns the number shown.

        A window with no end (``max_frames`` None) needs a real screen: without one it
        raises :class:`NoDisplayError` at once, as ``evosim watch`` does, instead of
        looping invisibly on SDL's off-screen driver. A bounded run may use that
        driver (tests do, with ``SDL_VIDEODRIVER=dummy``).
        """
        if self._window and max_frames is None:
            init_window_display()
        surface = self._open()
        clock = pygame.time.Clock()
        self.running = True
        frames = 0
        last = time.perf_counter()
        try:
            while self.running and (max_frames is None or frames < max_frames):
                self._handle_events()
                if not self.running:
                    break
                t0 = time.perf_counter()
                stepped = self._advance()
                step_time = time.perf_counter() - t0
                surface = self._render()
                if self._writer is not None:
                    self._record_frame(surface)
                if self._window:
                    pygame.display.flip()
                if self.fps:
                    clock.tick(self.fps)
                now = time.perf_counter()
                self._ema(1.0 / max(now - last, 1e-6), stepped / max(step_time, 1e-6)
                          if stepped else 0.0)
                last = now
                frames += 1
        finally:
            self._stop_recording()
            self.running = False
        return frames

    def _open(self) -> pygame.Surface:
        if not pygame.font.get_init():
            pygame.font.init()
        if self._window:
            pygame.display.init()
            pygame.display.set_caption(f"evosim: {self.world.scenario.name} seed "
                                       f"{self.world.seed}")
            self._surface = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        assert self._surface is not None
        return self._surface

    def _advance(self) -> int:
        """Step the world for this frame; returns the ticks done."""
        world = self.world
        if self.paused:
            n, self._pending = self._pending, 0
            world.step(n)
        elif self.steps_per_frame:
            n = self.steps_per_frame
            world.step(n)
        else:
            budget = 0.85 / (self.fps or 60)
            n = 0
            start = time.perf_counter()
            while n == 0 or time.perf_counter() - start < budget:
                world.step(MAX_CHUNK)
                n += MAX_CHUNK
        if n:
            self._rates.update(world)
        return n

    def _ema(self, fps: float, sps: float) -> None:
        a = 0.1
        self._fps_ema = fps if not self._fps_ema else (1 - a) * self._fps_ema + a * fps
        if sps:
            self._sps_ema = sps if not self._sps_ema else (1 - a) * self._sps_ema + a * sps

    # ------------------------------------------------------------ drawing

    def _followed_slot(self) -> int | None:
        if self.follow_id is None:
            return None
        slots = np.flatnonzero(self.world.state.robot_id == self.follow_id)
        if len(slots) == 0:
            self._flash(f"robot #{self.follow_id} died")
            self.follow_id = None
            return None
        return int(slots[0])

    def _render(self) -> pygame.Surface:
        surface = pygame.display.get_surface() if self._window else self._surface
        assert surface is not None
        world = self.world
        slot = self._followed_slot()
        options = self._options.with_(show_rays=self.show_rays, selected=slot,
                                      colour_by=self.colour_by, legend=self.show_hud)
        obs = world.observations() if (self.show_rays or slot is not None) else None
        self._tf = draw(world.state, surface, options, obs)
        w, h = surface.get_size()
        if self.show_hud:
            speed = "max" if self.steps_per_frame == 0 else str(self.steps_per_frame)
            status = (f"{speed} steps/frame   {self._sps_ema:,.0f} steps/s   "
                      f"{self._fps_ema:.0f} fps")
            if self.paused:
                status += "   PAUSED"
            if self._writer is not None:
                status += "   REC"
            draw_panel(surface, [*hud_lines(world, self._rates), status], (8, 8), size=18)
            if slot is not None:
                assert obs is not None
                rect = draw_panel(surface, robot_lines(world, slot), (w - 300, 8), size=18,
                                  min_width=280)
                actions = world.actions()[slot]
                rect = draw_brain(surface, (w - 300, rect.bottom + 6), obs[slot],
                                  world.observation_channels, float(actions[0]),
                                  float(actions[1]))
                draw_network(surface, (w - 300, rect.bottom + 6), world.scenario,
                             world.state.genome[slot], obs[slot])
        text, until = self._message
        if text and time.monotonic() < until:
            draw_panel(surface, [text], (8, h - 34), size=18)
        if self.show_help:
            draw_help(surface, [(c.label, c.help) for c in CONTROLS])
        return surface

    def _flash(self, text: str, seconds: float = 3.0) -> None:
        self._message = (text, time.monotonic() + seconds)

    # ------------------------------------------------------------ controls

    def _handle_events(self) -> None:
        if not pygame.display.get_init():
            return
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.running = False
            elif event.type == pygame.KEYDOWN:
                self._key(event.key, event.unicode)
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                self.click(event.pos)

    def _key(self, key: int, char: str = "") -> None:
        """Run the action :data:`CONTROLS` binds to ``key`` (or else to the typed ``char``)."""
        action = _BY_KEY.get(key) or _BY_CHAR.get(char)
        if action:
            getattr(self, action)()

    def toggle_pause(self) -> None:
        self.paused = not self.paused

    def single_step(self) -> None:
        """One more tick on the next frame, paused."""
        self.paused = True
        self._pending += 1

    def toggle_rays(self) -> None:
        self.show_rays = not self.show_rays

    def toggle_hud(self) -> None:
        self.show_hud = not self.show_hud

    def toggle_help(self) -> None:
        self.show_help = not self.show_help

    def take_screenshot(self) -> None:
        """``screenshot()``, a failure shown on screen."""
        self._try("screenshot", self.screenshot)

    def toggle_recording(self) -> None:
        if self._writer is None:
            self._try("recording", self._start_recording)
        else:
            self._stop_recording()

    def quit(self) -> None:
        self.running = False

    def escape(self) -> None:
        """Close the help, else stop following, else quit."""
        if self.show_help:
            self.show_help = False
        elif self.follow_id is not None:
            self.follow_id = None
        else:
            self.running = False

    def _try(self, what: str, action: Callable[[], object]) -> None:
        """Run a key's file action; a failure is shown on screen, the viewer goes on."""
        try:
            action()
        except (EvosimError, OSError, pygame.error) as exc:
            self._flash(f"{what} failed: {exc}", 6.0)

    def cycle_colours(self) -> None:
        """Colour robots by the next of lineage, genome, speed gene."""
        k = COLOUR_MODES.index(self.colour_by)
        self.colour_by = COLOUR_MODES[(k + 1) % len(COLOUR_MODES)]
        self._flash(f"robots coloured by {self.colour_by}")

    def faster(self) -> None:
        """The next speed on the ladder above the current one (which may be off it)."""
        k = self.steps_per_frame
        if k == 0:
            return  # already as fast as it goes
        self.steps_per_frame = next((s for s in _LADDER if s > k), 0)

    def slower(self) -> None:
        """The next speed on the ladder below the current one; 1 is the slowest."""
        k = self.steps_per_frame
        below = [s for s in _LADDER if k == 0 or s < k]
        self.steps_per_frame = below[-1] if below else 1

    def click(self, pos: tuple[int, int]) -> int | None:
        """Follow the robot nearest to pixel ``pos`` (or stop following); returns its id."""
        if self._tf is None:
            return None
        x, y = self._tf.to_world(pos)
        xy = self.world.state.robot_xy
        d2 = (xy[:, 0] - x) ** 2 + (xy[:, 1] - y) ** 2
        i = int(np.argmin(d2))
        reach = max(3.0 * self._options.robot_radius, 12.0 / self._tf.scale)
        if d2[i] <= reach * reach:
            self.follow_id = int(self.world.state.robot_id[i])
        else:
            self.follow_id = None
        return self.follow_id

    # ------------------------------------------------------------ files

    def _name(self) -> str:
        w = self.world
        return f"{w.scenario.name}-seed{w.seed}-step{w.step_count}"

    def screenshot(self) -> Path | None:
        surface = pygame.display.get_surface() if self._window else self._surface
        if surface is None:
            return None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"screenshot-{self._name()}.png"
        tmp = path.with_name(f".{path.stem}.tmp.png")
        try:
            pygame.image.save(surface, str(tmp))
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._flash(f"saved {path}")
        return path

    def _start_recording(self) -> None:
        if self._writer_factory is None:
            self._flash("recording is not available (Viewer got no writer_factory)", 4.0)
            return
        surface = pygame.display.get_surface() if self._window else self._surface
        assert surface is not None
        w, h = surface.get_size()
        path = self.out_dir / f"watch-{self._name()}.mp4"
        self._writer = self._writer_factory(path, (w - w % 2, h - h % 2), self.fps or 30)
        self._flash(f"recording to {path} (v stops)", 2.0)

    def _record_frame(self, surface: pygame.Surface) -> None:
        assert self._writer is not None
        size = self._writer.size
        if surface.get_size() != size:
            surface = pygame.transform.smoothscale(surface, size)
        try:
            self._writer.write(pygame.image.tobytes(surface, "RGB"))
        except (EvosimError, OSError) as exc:  # ffmpeg died: disk full, for one
            writer, self._writer = self._writer, None
            writer.abort()
            self._flash(f"recording failed: {exc}", 6.0)

    def _stop_recording(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                path = writer.close()
            except (EvosimError, OSError) as exc:
                self._flash(f"recording failed: {exc}", 6.0)
                print(f"recording failed: {exc}", file=sys.stderr)  # the window may be gone
                return
            self._flash(f"saved {path} ({writer.frames} frames)")
            print(f"saved {path} ({writer.frames} frames)")
