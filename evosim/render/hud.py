"""What the heads-up display says: recent event rates and a followed robot's stats.

Rates are events per robot per 1,000 steps (the unit ``evosim evolve`` prints),
over the last ``window`` steps, from the world's cumulative counters.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
import pygame

from evosim.render.drawing import HIT_DOT, TEXT, font
from evosim.scenario import Scenario
from evosim.world import World


class RateTracker:
    """Recent fruit and mine-death rates from samples of a world's counters."""

    def __init__(self, window: int = 2000) -> None:
        self.window = window
        self._samples: deque[tuple[int, int, int]] = deque()

    def update(self, world: World) -> None:
        c = world.counters
        step = world.step_count
        if self._samples and step < self._samples[-1][0]:
            self._samples.clear()  # the world was replaced
        if not self._samples or step > self._samples[-1][0]:
            self._samples.append((step, c["fruit_eaten"], c["mine_deaths"]))
        while len(self._samples) > 2 and self._samples[1][0] <= step - self.window:
            self._samples.popleft()

    def rates(self, robots: int) -> tuple[float, float]:
        """(fruit, mine deaths) per robot per 1,000 steps over the window; 0 if unknown."""
        if len(self._samples) < 2:
            return 0.0, 0.0
        s0, f0, m0 = self._samples[0]
        s1, f1, m1 = self._samples[-1]
        per = 1000.0 / max((s1 - s0) * robots, 1)
        return (f1 - f0) * per, (m1 - m0) * per


def hud_lines(world: World, tracker: RateTracker) -> list[str]:
    """The world part of the HUD."""
    s = world.state
    c = world.counters
    n = s.robot_xy.shape[0]
    fruit, mines = tracker.rates(n)
    return [
        f"{world.scenario.name}  seed {world.seed}  step {world.step_count:,}",
        f"robots {n}   births {c['births']:,}   max generation {int(s.robot_generation.max())}",
        f"fruit {fruit:.2f}   mine deaths {mines:.2f}   (per robot per 1k steps)",
        f"mean speed gene {float(np.mean(s.speed_gene)):.2f}"
        f"   totals: fruit {c['fruit_eaten']:,}, mine deaths {c['mine_deaths']:,}",
    ]


def robot_lines(world: World, slot: int) -> list[str]:
    """Stats of the robot in ``slot``."""
    s = world.state
    return [
        f"robot #{int(s.robot_id[slot])}  (slot {slot})",
        f"lineage {int(s.robot_lineage[slot])}   generation {int(s.robot_generation[slot])}",
        f"age {int(s.robot_age[slot]):,}   life {int(s.robot_life[slot]):,}",
        f"fruit eaten {int(s.robot_fruit[slot])}   speed gene {float(s.speed_gene[slot]):.2f}",
    ]


def draw_brain(surface: pygame.Surface, topleft: tuple[int, int], inputs: np.ndarray,
               channels: tuple[str, ...], turn: float, throttle: float) -> pygame.Rect:
    """A robot's live brain: inputs as a rays x channels grid, outputs as bars.

    ``inputs`` is float32 [rays, channels] in [0, 1]; ``turn`` in [-1, 1],
    ``throttle`` in [0, 1].
    """
    rays, n_ch = inputs.shape
    cell = max(4, min(12, 200 // max(rays, 1)))
    f = font(16)
    label_w = 64
    width = label_w + rays * cell + 16
    height = 24 + n_ch * (cell + 2) + 44
    box = pygame.Surface((width, height), pygame.SRCALPHA)
    box.fill((0, 0, 0, 190))
    surface.blit(box, topleft)
    x0, y = topleft[0] + 6, topleft[1] + 6
    surface.blit(f.render("brain inputs (rays, left to right)", True, TEXT), (x0, y))
    y += 18
    for c, name in enumerate(channels):
        surface.blit(f.render(name, True, TEXT), (x0, y))
        base = np.array(HIT_DOT[name], np.float64)
        for k in range(rays):
            v = float(inputs[k, c])
            colour = tuple(int(30 + (b - 30) * v) for b in base)
            pygame.draw.rect(surface, colour, (x0 + label_w + k * cell, y, cell - 1, cell))
        y += cell + 2
    y += 4
    bar_w = rays * cell
    for label, value, lo in (("turn", turn, -1.0), ("throttle", throttle, 0.0)):
        surface.blit(f.render(label, True, TEXT), (x0, y))
        bx = x0 + label_w
        pygame.draw.rect(surface, (60, 62, 75), (bx, y + 2, bar_w, 10))
        zero = bx + int(bar_w * (0.0 - lo) / (1.0 - lo))
        end = bx + int(bar_w * (min(max(value, lo), 1.0) - lo) / (1.0 - lo))
        pygame.draw.rect(surface, (230, 200, 80), (min(zero, end), y + 2, abs(end - zero) + 1, 10))
        y += 18
    return pygame.Rect(topleft, (width, height))


def draw_network(surface: pygame.Surface, topleft: tuple[int, int], scenario: Scenario,
                 genome: np.ndarray, inputs: np.ndarray, size: tuple[int, int] = (280, 230)
                 ) -> pygame.Rect:
    """A robot's network, live: inputs (rays x channels, lit by what they see now) on
    the left, hidden units (lit by their activation) in the middle, turn and throttle
    on the right; edges blue for positive weights, red for negative, the stronger the
    wider and brighter. The same picture as ``evosim brain``, small. With evolved
    connections the title says what share of them is on (pruned ones have no edge)."""
    w1, b1, w2, b2, _ = scenario.genome_layout.split(np.asarray(genome, np.float64))
    x = np.asarray(inputs, np.float64).reshape(-1)
    hidden = np.tanh(w1 @ x + b1)
    z = w2 @ hidden + b2
    out = np.array([np.tanh(z[0]), 1.0 / (1.0 + np.exp(-z[1]))])
    width, height = size
    box = pygame.Surface((width, height), pygame.SRCALPHA)
    box.fill((0, 0, 0, 190))
    surface.blit(box, topleft)
    f = font(16)
    x0, y0 = topleft
    title = "brain network (blue +, red -)"
    layout = scenario.genome_layout
    if layout.masked:  # evolved connections: pruned ones are 0.0, so not drawn
        title += f", {float(layout.active(np.asarray(genome))):.0%} on"
    surface.blit(f.render(title, True, TEXT), (x0 + 6, y0 + 4))
    top, bottom = y0 + 24, y0 + height - 8
    cols = (x0 + 40, x0 + width // 2, x0 + width - 70)

    def ys(n: int) -> np.ndarray:
        return np.linspace(top, bottom, n) if n > 1 else np.array([(top + bottom) / 2])

    yi, yh, yo = ys(len(x)), ys(len(hidden)), ys(2)
    biggest = max(float(np.abs(w1).max()), float(np.abs(w2).max()), 1e-9)

    def edge(a: tuple[float, float], b: tuple[float, float], w: float) -> None:
        s = abs(w) / biggest
        if s < 0.3:  # faint edges would only be noise at this size
            return
        base = (90, 150, 255) if w > 0 else (255, 90, 80)
        colour = tuple(int(20 + (c - 20) * s * s) for c in base)
        pygame.draw.line(surface, colour, a, b, 1 + int(s > 0.7))

    for h in range(len(hidden)):
        for j in range(len(x)):
            edge((cols[0], yi[j]), (cols[1], yh[h]), w1[h, j])
        for o in range(2):
            edge((cols[1], yh[h]), (cols[2], yo[o]), w2[o, h])
    chans = scenario.vision.channels
    for j in range(len(x)):
        base = np.array(HIT_DOT.get(chans[j % len(chans)], TEXT), np.float64)
        colour = tuple(int(40 + (b - 40) * x[j]) for b in base)
        pygame.draw.circle(surface, colour, (cols[0], int(yi[j])), 3)
    for h in range(len(hidden)):
        v = float(hidden[h])
        colour = (int(128 + 127 * max(-v, 0) - 60 * max(v, 0)), int(128 - 60 * abs(v)),
                  int(128 + 127 * max(v, 0) - 60 * max(-v, 0)))
        pygame.draw.circle(surface, colour, (cols[1], int(yh[h])), 4)
    for o, name in enumerate(("turn", "throttle")):
        pygame.draw.circle(surface, (230, 200, 80), (cols[2], int(yo[o])), 6)
        surface.blit(f.render(f"{name} {out[o]:+.2f}", True, TEXT), (cols[2] + 9, int(yo[o]) - 7))
    return pygame.Rect(topleft, size)


def draw_help(surface: pygame.Surface, rows: Sequence[tuple[str, str]]) -> None:
    """The controls, centred, in two columns: ``rows`` of (keys, what they do), from
    the viewer's table of controls (``viewer.CONTROLS``)."""
    f = font(20)
    key_w = max(f.size(k)[0] for k, _ in rows) + 16
    desc_w = max(f.size(d)[0] for _, d in rows)
    line = f.get_linesize() + 2
    box_w, box_h = key_w + desc_w + 24, (len(rows) + 2) * line + 16
    w, h = surface.get_size()
    x, y = max((w - box_w) // 2, 0), max((h - box_h) // 2, 0)
    box = pygame.Surface((box_w, box_h), pygame.SRCALPHA)
    box.fill((0, 0, 0, 220))
    surface.blit(box, (x, y))
    x, y = x + 12, y + 8
    surface.blit(f.render("evosim watch: controls", True, TEXT), (x, y))
    y += 2 * line
    for key, desc in rows:
        surface.blit(f.render(key, True, (255, 220, 120)), (x, y))
        surface.blit(f.render(desc, True, TEXT), (x + key_w, y))
        y += line
