"""``evosim record``: step worlds, draw each frame off-screen, stream it to a video.

A recording of ``steps`` ticks at ``k`` steps per frame has ``ceil(steps / k)``
frames; frame i shows the world after ``min((i + 1) * k, steps)`` ticks. The
worlds step exactly as headless ones do (recording never changes a state).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pygame
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from evosim.limits import MAX_FRAMES
from evosim.record.writer import RecordError, VideoWriter, check_video_path, check_video_size
from evosim.render.drawing import (
    COLOUR_MODES,
    DrawOptions,
    draw,
    draw_panel,
    font,
    gif_palette,
)
from evosim.world import World

RECORDINGS = Path("recordings")


def _options(world: World, fov: bool, colour: str | None = None) -> DrawOptions:
    """Drawing options; ``colour`` (lineage, genome, speed) colours robots that way and
    draws a key saying so (None: by lineage, no key)."""
    if colour is None:
        return DrawOptions.from_scenario(world.scenario, show_rays=fov)
    if colour not in COLOUR_MODES:
        raise RecordError(f"colour: expected one of {', '.join(COLOUR_MODES)}, got {colour!r}")
    return DrawOptions.from_scenario(world.scenario, show_rays=fov, colour_by=colour,
                                     legend=True)


def render_frame(surface: pygame.Surface, worlds: Sequence[World],
                 options: Sequence[DrawOptions], labels: Sequence[str],
                 since: Sequence[dict[str, int]] | None = None) -> None:
    """Draw ``worlds`` side by side on ``surface``, each with its label and live counts.

    Counts are events since ``since`` (each world's counters when the clip began;
    default: since step 0). Reads the worlds only (observations are computed into
    the world's scratch buffers, which do not influence its future).
    """
    w, h = surface.get_size()
    n = len(worlds)
    size = label_font_size(w, h, n)
    label_h = font(size).get_linesize() * 2 + 16
    for i, (world, opts, label) in enumerate(zip(worlds, options, labels, strict=True)):
        x0, x1 = i * w // n, (i + 1) * w // n
        panel = surface.subsurface(pygame.Rect(x0, 0, x1 - x0, h))
        arena = panel.subsurface(pygame.Rect(0, label_h, x1 - x0, h - label_h))
        panel.fill((14, 15, 20), pygame.Rect(0, 0, x1 - x0, label_h))
        obs = world.observations() if opts.show_rays else None
        draw(world.state, arena, opts, obs)
        c = clip_counts(world, since[i] if since is not None else None)
        lines = [label, f"step {world.step_count:,}   fruit {c['fruit_eaten']:,}   "
                        f"mine deaths {c['mine_deaths']:,}"]
        draw_panel(panel, lines, (4, 4), size=size, alpha=0)


def clip_counts(world: World, since: dict[str, int] | None) -> dict[str, int]:
    """The world's event counters minus ``since`` (None: since step 0)."""
    now = world.counters
    return now if since is None else {k: v - since[k] for k, v in now.items()}


def record(worlds: World | Sequence[World], out: str | Path, steps: int,
           steps_per_frame: int = 2, size: tuple[int, int] = (1280, 720), fps: float = 30,
           fov: bool = False, labels: Sequence[str] | None = None,
           progress: bool = True, colour: str | None = None) -> Path:
    """Step ``worlds`` together by ``steps`` ticks, recording a frame every
    ``steps_per_frame`` ticks into ``out`` (.mp4 or .gif), side by side if several.

    ``fov`` draws each robot's rays; ``colour`` (lineage, genome or speed) colours the
    robots that way, with a key. Returns the path written.
    """
    if isinstance(worlds, World):
        worlds = [worlds]
    worlds = list(worlds)
    if labels is None:
        labels = [f"{wd.scenario.name}  seed {wd.seed}" for wd in worlds]
    return record_clips([Clip(worlds, list(labels), steps)], out, steps_per_frame, size, fps,
                        fov, progress, colour)


class Clip(NamedTuple):
    """One stretch of a video: ``worlds`` side by side (each with its label) for
    ``steps`` ticks."""

    worlds: list[World]
    labels: list[str]
    steps: int


def record_clips(clips: Sequence[Clip], out: str | Path, steps_per_frame: int = 2,
                 size: tuple[int, int] = (1280, 720), fps: float = 30, fov: bool = False,
                 progress: bool = True, colour: str | None = None) -> Path:
    """One video of ``clips`` one after the other (see :func:`record`; each clip's
    labels count events within that clip). Returns the path written."""
    if not clips or any(c.steps < 1 for c in clips) or steps_per_frame < 1:
        raise RecordError("steps and steps per frame must be at least 1")
    out = check_video_path(out)
    check_video_size(out, size)
    frames = sum(-(-c.steps // steps_per_frame) for c in clips)
    if frames > MAX_FRAMES:
        steps = sum(c.steps for c in clips)
        raise RecordError(f"expected at most {MAX_FRAMES:,} frames, got {frames:,} "
                          f"({steps:,} steps at {steps_per_frame:,} per frame)")
    surface = pygame.Surface(size)
    with VideoWriter(out, size, fps=fps, palette=gif_palette()) as writer, Progress(
        TextColumn("[bold]recording"), BarColumn(), MofNCompleteColumn(),
        TextColumn("frames"), TimeRemainingColumn(),
        console=Console(stderr=True), disable=not progress,
    ) as bar:
        task = bar.add_task("record", total=frames)
        for clip in clips:
            options = [_options(wd, fov, colour) for wd in clip.worlds]
            since = [wd.counters for wd in clip.worlds]  # labels count within the clip
            done = 0
            while done < clip.steps:
                k = min(steps_per_frame, clip.steps - done)
                for wd in clip.worlds:
                    wd.step(k)
                done += k
                render_frame(surface, clip.worlds, options, clip.labels, since)
                writer.write(pygame.image.tobytes(surface, "RGB"))
                bar.update(task, advance=1)
    return out


def short_seed(source: str, seed: int) -> str:
    """A short tag for a world in a file name: ``s0`` for seed 0; for a world of an
    evolve run (64-bit seeds), the run's seed and the world's index (``s0w3``); else
    the seed's first 6 hex digits."""
    if seed < 100_000:
        return f"s{seed}"
    for folder in list(Path(source).resolve().parents)[:3]:
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            plan = json.loads((folder / "run.json").read_text())
            if seed in plan["seeds"]:
                return f"s{plan['seed']}w{plan['seeds'].index(seed)}"
    return f"s{seed:016x}"[:7]


def label_font_size(width: int, height: int, panels: int) -> int:
    """Label text size in pixels for a frame of ``panels`` side by side: 16 at least, so
    that small GIFs stay readable, up to 28 for large frames."""
    return max(16, min(28, height // 18, width // (30 * panels)))


def vs_size(world: World, width: int = 1280) -> tuple[int, int]:
    """A frame for two arenas side by side with no empty bands: each panel's arena
    keeps the arena's aspect ratio below its two-line label."""
    arena = world.scenario.world
    panel = width // 2
    arena_h = (panel - 16) * arena.height / arena.width + 16  # Transform.fit's margins
    h = int(arena_h) + 60  # first guess of the label band
    for _ in range(3):  # the label band depends on the frame height (render_frame)
        size = label_font_size(width, h, 2)
        h = math.ceil(arena_h) + font(size).get_linesize() * 2 + 16
    return width, h + h % 2
