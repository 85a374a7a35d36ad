"""``draw(state, surface, options)``: one world state onto a pygame surface.

Drawing only reads the state (a test hashes every state array before and
after). What the state does not hold (radii, ray geometry) comes from
:class:`DrawOptions`, built once from the scenario. Ray hits come from the
world's observations: ray k of a robot at heading h points at
``h + ray_offsets[k]``; a channel value v > 0 means the ray stopped at
distance ``(1 - v) * range`` on a thing of that channel.

World coordinates map to the screen with y pointing down (a mirror image of
the usual maths orientation, which changes nothing about the behaviour).
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass, replace
from typing import NamedTuple, cast

import numpy as np
import pygame

from evosim.scenario import EDGE, OBJECT_KINDS, Scenario
from evosim.world.kernel_args import ray_offsets
from evosim.world.state import WorldState

Colour = tuple[int, int, int]

BACKGROUND: Colour = (14, 15, 20)
ARENA: Colour = (28, 30, 38)
WALL: Colour = (110, 114, 128)
MINE: Colour = (225, 38, 38)
MINE_CORE: Colour = (255, 120, 110)
FRUIT: Colour = (46, 204, 80)
FRUIT_CORE: Colour = (170, 255, 170)
RAY_MISS: Colour = (48, 51, 64)
SELECTED: Colour = (255, 255, 255)
TEXT: Colour = (230, 232, 240)


class SeenColours(NamedTuple):
    """How a ray that hit something is drawn: the line (dimmed) and the hit dot."""

    ray: Colour
    dot: Colour


# One entry per object kind of the registry (evosim.scenario.kinds.OBJECT_KINDS),
# keyed by kind name; a test checks that every kind has one.
KIND_COLOURS: dict[str, SeenColours] = {
    "mine": SeenColours(ray=(150, 45, 45), dot=(255, 80, 70)),
    "fruit": SeenColours(ray=(40, 140, 60), dot=(110, 255, 130)),
    "robot": SeenColours(ray=(70, 110, 170), dot=(120, 180, 255)),
}
EDGE_COLOURS = SeenColours(ray=(120, 120, 130), dot=(200, 200, 210))

# Colour of a ray that hit something, by channel (dimmed), and of its hit dot.
_SEEN: dict[str, SeenColours] = {
    **{kind.channel: KIND_COLOURS[kind.name] for kind in OBJECT_KINDS},
    EDGE: EDGE_COLOURS,
}
RAY_HIT: dict[str, Colour] = {channel: c.ray for channel, c in _SEEN.items()}
HIT_DOT: dict[str, Colour] = {channel: c.dot for channel, c in _SEEN.items()}


class Transform(NamedTuple):
    """World units -> pixels: ``pixel = offset + scale * world``."""

    scale: float
    ox: float
    oy: float

    @classmethod
    def fit(cls, size: tuple[int, int], width: float, height: float, margin: int = 8
            ) -> Transform:
        """Fit a ``width`` x ``height`` arena into ``size`` pixels, centred, aspect kept."""
        w, h = size
        scale = max(min((w - 2 * margin) / width, (h - 2 * margin) / height), 1e-6)
        return cls(scale, (w - scale * width) / 2.0, (h - scale * height) / 2.0)

    def to_screen(self, xy: np.ndarray) -> np.ndarray:
        """float [..., 2] world points -> int [..., 2] pixels."""
        out = np.empty(np.shape(xy), np.int64)
        out[..., 0] = np.rint(self.ox + self.scale * xy[..., 0])
        out[..., 1] = np.rint(self.oy + self.scale * xy[..., 1])
        return out

    def to_world(self, px: tuple[float, float]) -> tuple[float, float]:
        """A pixel -> the world point under it."""
        return (px[0] - self.ox) / self.scale, (px[1] - self.oy) / self.scale


@dataclass(frozen=True)
class DrawOptions:
    """Everything ``draw`` needs beside the state. Build with ``from_scenario(scenario)``.

    ``show_rays`` draws every robot's rays; ``selected`` (a slot) is ringed and
    its rays are always drawn.
    """

    width: float
    height: float
    robot_radius: float
    mine_radius: float
    fruit_radius: float
    ray_offsets: tuple[float, ...]
    vision_range: float
    channels: tuple[str, ...]
    show_rays: bool = False
    selected: int | None = None
    margin: int = 8
    colour_by: str = "lineage"  # one of COLOUR_MODES
    speed_top: float = 4.5  # the speed gene drawn brightest (the scenario's speed cap)
    legend: bool = False  # a small key that says what the robots' colours mean

    @classmethod
    def from_scenario(cls, scenario: Scenario, **flags: object) -> DrawOptions:
        return cls(
            width=float(scenario.world.width),
            height=float(scenario.world.height),
            robot_radius=float(scenario.robots.radius),
            mine_radius=float(scenario.mines.radius),
            fruit_radius=float(scenario.fruit.radius),
            ray_offsets=tuple(float(a) for a in ray_offsets(scenario)),
            vision_range=float(scenario.vision.range),
            channels=tuple(scenario.vision.channels),
            speed_top=float(scenario.speed_cap) or 1.0,
            **flags,  # type: ignore[arg-type]
        )

    def with_(self, **changes: object) -> DrawOptions:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


_colour_cache: dict[int, Colour] = {}

COLOUR_MODES = ("lineage", "genome", "speed")
"""What a robot's colour tells: its founding lineage, its genome (a fixed projection:
close relatives look alike and drift shows), or its max-speed gene."""
GENOME_HUE_SCALE = 2.0  # genome units along the projection per full turn of the hue
SLOW: Colour = (60, 80, 190)
FAST: Colour = (255, 225, 90)


def _allowed_hue(t: float) -> float:
    """t in [0, 1) -> a hue in degrees that is never red or green (35-70, 165-330)."""
    hue = 165.0 + 200.0 * (t % 1.0)
    return 35.0 + (hue - 330.0) if hue >= 330.0 else hue


def lineage_colour(lineage: int) -> Colour:
    """A stable colour per lineage id, never red or green (those mean mine and fruit).

    Hues are spread by the golden ratio over 35-70 degrees (orange, yellow) and
    165-330 degrees (cyan, blue, violet, magenta).
    """
    colour = _colour_cache.get(lineage)
    if colour is None:
        hue = _allowed_hue(lineage * 0.6180339887498949)
        light = 0.62 + 0.12 * ((lineage * 0.7548776662) % 1.0)
        r, g, b = colorsys.hls_to_rgb(hue / 360.0, light, 0.85)
        colour = (int(r * 255), int(g * 255), int(b * 255))
        if len(_colour_cache) > 8192:
            _colour_cache.clear()
        _colour_cache[lineage] = colour
    return colour


_projections: dict[int, np.ndarray] = {}


def genome_projection(length: int) -> np.ndarray:
    """float64 [2, length]: two fixed orthonormal directions in genome space (the
    same for every world with this genome length, so colours compare across runs)."""
    v = _projections.get(length)
    if v is None:
        rng = np.random.default_rng(20240517 + length)  # fixed: a colour key, not a draw
        q, _ = np.linalg.qr(rng.standard_normal((length, 2)))
        v = _projections[length] = np.ascontiguousarray(q.T)
    return v


def genome_colours(genome: np.ndarray) -> list[Colour]:
    """A colour per genome (float32 [N, G]): the first projection turns the hue
    (GENOME_HUE_SCALE units per turn), the second sets the lightness. A mutation
    (sigma 0.15 per gene) moves a colour a little; a lineage drifting for hundreds
    of generations walks through the hues."""
    p = np.asarray(genome, np.float64) @ genome_projection(genome.shape[1]).T
    out = []
    for a, b in p.tolist():
        hue = _allowed_hue(a / GENOME_HUE_SCALE)
        light = 0.60 + 0.15 * math.tanh(b / GENOME_HUE_SCALE)
        r, g, bl = colorsys.hls_to_rgb(hue / 360.0, light, 0.85)
        out.append((int(r * 255), int(g * 255), int(bl * 255)))
    return out


def speed_colour(speed: float, top: float) -> Colour:
    """Dim blue (speed gene 0) to bright yellow (``top`` and above)."""
    t = min(max(speed / top, 0.0), 1.0) if top > 0 else 0.0
    return tuple(int(s + (f - s) * t) for s, f in zip(SLOW, FAST, strict=True))  # type: ignore[return-value]


def robot_colours(state: WorldState, options: DrawOptions) -> list[Colour]:
    """Every robot's colour under ``options.colour_by``."""
    if options.colour_by == "genome":
        return genome_colours(state.genome)
    if options.colour_by == "speed":
        return [speed_colour(v, options.speed_top) for v in state.speed_gene.tolist()]
    if options.colour_by != "lineage":
        raise ValueError(f"colour_by: expected one of {', '.join(COLOUR_MODES)}, "
                         f"got {options.colour_by!r}")
    return [lineage_colour(li) for li in state.robot_lineage.tolist()]


def _draw_legend(surface: pygame.Surface, arena: pygame.Rect, options: DrawOptions) -> None:
    """A small key in the arena's bottom-right corner: what the robots' colours mean."""
    f = font(15)
    text = {"lineage": "colour: lineage (founder)",
            "genome": "colour: genome (relatives alike)",
            "speed": f"colour: speed gene 0..{options.speed_top:g}"}[options.colour_by]
    label = f.render(text, True, TEXT)
    sw = 60 if options.colour_by == "speed" else 0
    w, h = label.get_width() + sw + 14, label.get_height() + 8
    x, y = max(arena.right - w - 4, arena.left), arena.bottom - h - 4
    box = pygame.Surface((w, h), pygame.SRCALPHA)
    box.fill((0, 0, 0, 170))
    surface.blit(box, (x, y))
    surface.blit(label, (x + 5, y + 4))
    if sw:
        bx = x + label.get_width() + 9
        for k in range(sw - 6):
            colour = speed_colour(k / (sw - 7) * options.speed_top, options.speed_top)
            pygame.draw.line(surface, colour, (bx + k, y + 5), (bx + k, y + h - 5))


def _ray_segments(state: WorldState, options: DrawOptions, slots: np.ndarray,
                  observations: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ray ends and hit channels of robots ``slots``.

    Returns (end float [n, R, 2] world points, hit bool [n, R], channel int [n, R]).
    Without observations every ray is drawn to full range as a miss.
    """
    offsets = np.asarray(options.ray_offsets)
    xy = state.robot_xy[slots]
    angle = state.robot_heading[slots][:, None] + offsets[None, :]
    if observations is None:
        value = np.zeros(angle.shape)
        channel = np.zeros(angle.shape, np.int64)
    else:
        obs = observations[slots]
        value = obs.max(axis=2).astype(np.float64)
        channel = obs.argmax(axis=2)
    hit = value > 0.0
    dist = np.where(hit, (1.0 - value) * options.vision_range, options.vision_range)
    end = np.empty((*angle.shape, 2))
    end[..., 0] = xy[:, None, 0] + dist * np.cos(angle)
    end[..., 1] = xy[:, None, 1] + dist * np.sin(angle)
    return end, hit, channel


def _draw_rays(surface: pygame.Surface, tf: Transform, state: WorldState,
               options: DrawOptions, slots: np.ndarray, observations: np.ndarray | None,
               bright: bool = False) -> None:
    if len(slots) == 0 or not options.ray_offsets:
        return
    end, hit, channel = _ray_segments(state, options, slots, observations)
    start_px = tf.to_screen(state.robot_xy[slots])
    end_px = tf.to_screen(end)
    line = pygame.draw.line
    dot = pygame.draw.circle
    names = options.channels
    miss = (110, 116, 140) if bright else RAY_MISS
    dot_r = max(2, round(tf.scale * 1.6))
    for i in range(len(slots)):
        sx, sy = int(start_px[i, 0]), int(start_px[i, 1])
        for k in range(end.shape[1]):
            ex, ey = int(end_px[i, k, 0]), int(end_px[i, k, 1])
            if hit[i, k]:
                name = names[int(channel[i, k])]
                line(surface, HIT_DOT[name] if bright else RAY_HIT[name], (sx, sy), (ex, ey))
                dot(surface, HIT_DOT[name], (ex, ey), dot_r)
            else:
                line(surface, miss, (sx, sy), (ex, ey))


def draw(state: WorldState, surface: pygame.Surface, options: DrawOptions,
         observations: np.ndarray | None = None) -> Transform:
    """Draw ``state`` onto ``surface`` (the whole surface; use a subsurface for part).

    Mines are red discs, fruit green discs, robots triangles pointing along
    their heading, coloured by ``options.colour_by`` (lineage, genome or speed
    gene; ``options.legend`` says which in a corner). With ``options.show_rays`` each
    robot's rays are drawn: grey where they see nothing, coloured by what they
    hit (red mine, green fruit, blue robot, grey edge) up to a dot at the hit
    point. ``observations`` (float32 [N, rays, channels], from
    ``World.observations()``) gives the hits; without it rays are drawn to full
    range. Only reads ``state``. Returns the world-to-pixel transform used.
    """
    tf = Transform.fit(surface.get_size(), options.width, options.height, options.margin)
    surface.fill(BACKGROUND)
    arena = pygame.Rect(round(tf.ox), round(tf.oy), round(tf.scale * options.width),
                        round(tf.scale * options.height))
    surface.fill(ARENA, arena)

    n_robots = state.robot_xy.shape[0]
    clip = surface.get_clip()
    surface.set_clip(arena.clip(clip))  # rays stop at the walls on screen too
    if options.show_rays:
        _draw_rays(surface, tf, state, options, np.arange(n_robots), observations)
    sel = options.selected
    if sel is not None and 0 <= sel < n_robots:
        _draw_rays(surface, tf, state, options, np.array([sel]), observations, bright=True)
    surface.set_clip(clip)

    _draw_discs(surface, tf, state, options)
    _draw_robots(surface, tf, state, options)
    pygame.draw.rect(surface, WALL, arena.inflate(2, 2), 1)
    if options.legend:
        _draw_legend(surface, arena, options)
    return tf


def _draw_discs(surface: pygame.Surface, tf: Transform, state: WorldState,
                options: DrawOptions) -> None:
    """Fruit, then mines: a disc with a lighter core up and to the left."""
    circle = pygame.draw.circle
    for xy, radius, colour, core in (
        (state.fruit_xy[: state.fruit_count], options.fruit_radius, FRUIT, FRUIT_CORE),
        (state.mine_xy[: state.mine_count], options.mine_radius, MINE, MINE_CORE),
    ):
        # Integer centres and radii: pygame shifts discs with fractional ones.
        r = max(2, round(tf.scale * radius))
        core_r = max(1, round(r * 0.3))
        shift = round(r * 0.3)
        for px, py in tf.to_screen(xy).tolist():
            circle(surface, colour, (px, py), r)
            circle(surface, core, (px - shift, py - shift), core_r)


def _draw_robots(surface: pygame.Surface, tf: Transform, state: WorldState,
                 options: DrawOptions) -> None:
    """Robot triangles along their headings, and a ring around the selected one."""
    # Nose 1.7 r ahead, back corners 1.25 r at +-140 degrees, with r at least 4
    # pixels so that robots stay visible in small frames.
    n_robots = state.robot_xy.shape[0]
    r_px = max(tf.scale * options.robot_radius, 4.0)
    heading = state.robot_heading
    centre_px = tf.to_screen(state.robot_xy)
    corners_px = np.empty((n_robots, 3, 2), np.int64)
    for j, (dist, turn) in enumerate(((1.7, 0.0), (1.25, 2.44), (1.25, -2.44))):
        corners_px[:, j, 0] = centre_px[:, 0] + np.rint(dist * r_px * np.cos(heading + turn))
        corners_px[:, j, 1] = centre_px[:, 1] + np.rint(dist * r_px * np.sin(heading + turn))
    corners = corners_px.tolist()
    colours = robot_colours(state, options)
    polygon = pygame.draw.polygon
    for i in range(n_robots):
        polygon(surface, colours[i], corners[i])
        polygon(surface, BACKGROUND, corners[i], 1)
    sel = options.selected
    if sel is not None and 0 <= sel < n_robots:
        pygame.draw.circle(surface, SELECTED, (int(centre_px[sel, 0]), int(centre_px[sel, 1])),
                           round(r_px * 2.6), 2)


def gif_palette() -> np.ndarray:
    """uint8 [256, 3]: one fixed palette holding every colour ``draw`` uses.

    A GIF with one palette for all frames compresses about twice as well as
    one with a palette per frame, and needs no look at the whole clip first.
    Holds the fixed colours, a ramp of text on the background, and samples
    of the lineage hues.
    """
    fixed = [BACKGROUND, ARENA, WALL, MINE, MINE_CORE, FRUIT, FRUIT_CORE, RAY_MISS,
             (110, 116, 140), SELECTED, TEXT, (0, 0, 0), (60, 62, 75), (230, 200, 80),
             *RAY_HIT.values(), *HIT_DOT.values()]
    ramp = [cast(Colour, tuple(int(b + (t - b) * i / 15)
                               for b, t in zip(BACKGROUND, TEXT, strict=True)))
            for i in range(16)]
    colours: list[Colour] = []
    for c in [*fixed, *ramp]:
        if c not in colours:
            colours.append(c)
    for k in range(16):  # the speed ramp
        c = speed_colour(k / 15, 1.0)
        if c not in colours:
            colours.append(c)
    lineage = 0
    while len(colours) < 256:
        c = lineage_colour(lineage)
        lineage += 1
        if c not in colours:
            colours.append(c)
    return np.array(colours[:256], np.uint8)


# ---------------------------------------------------------------- text

_fonts: dict[int, pygame.font.Font] = {}


def font(size: int = 16) -> pygame.font.Font:
    """pygame's bundled default font at ``size`` pixels (cached)."""
    f = _fonts.get(size)
    if f is None:
        if not pygame.font.get_init():
            pygame.font.init()
        f = _fonts[size] = pygame.font.Font(None, size)
    return f


def draw_panel(surface: pygame.Surface, lines: list[str], topleft: tuple[int, int],
               size: int = 18, alpha: int = 190, colour: Colour = TEXT,
               min_width: int = 0) -> pygame.Rect:
    """Text lines on a translucent dark box at ``topleft``; returns the box."""
    f = font(size)
    rendered = [f.render(line, True, colour) for line in lines]
    pad = 6
    width = max([min_width, *(r.get_width() for r in rendered)]) + 2 * pad
    height = sum(r.get_height() for r in rendered) + 2 * pad
    box = pygame.Surface((width, height), pygame.SRCALPHA)
    box.fill((0, 0, 0, alpha))
    surface.blit(box, topleft)
    y = topleft[1] + pad
    for r in rendered:
        surface.blit(r, (topleft[0] + pad, y))
        y += r.get_height()
    return pygame.Rect(topleft, (width, height))
