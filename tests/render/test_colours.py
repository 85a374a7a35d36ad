"""Colours that keep telling robots apart: by genome, lineage or speed gene, with a key;
the viewer's c key cycles them; recordings take --colour."""

from __future__ import annotations

import colorsys

import numpy as np
import pygame
import pytest

from evosim import World, load_scenario
from evosim.cli import main
from evosim.render import DrawOptions, Viewer, draw
from evosim.render.drawing import COLOUR_MODES, genome_colours, robot_colours, speed_colour
from evosim.render.hud import draw_network
from evosim.render.viewer import CONTROLS
from tests.render.test_draw import _digest


def _hue(c: tuple[int, int, int]) -> float:
    return colorsys.rgb_to_hls(*(v / 255 for v in c))[0] * 360


def test_genome_colours_keep_relatives_alike_and_strangers_apart():
    rng = np.random.default_rng(1)
    parent = rng.normal(0, 0.5, size=(1, 580)).astype(np.float32)
    child = parent + rng.normal(0, 0.15, size=parent.shape).astype(np.float32)  # one mutation
    strangers = rng.normal(0, 0.5, size=(200, 580)).astype(np.float32)
    a, b = genome_colours(parent)[0], genome_colours(child)[0]
    others = genome_colours(strangers)
    near = np.abs(np.subtract(a, b)).sum()
    far = np.median([np.abs(np.subtract(a, c)).sum() for c in others])
    assert near < far / 2
    assert genome_colours(np.repeat(parent, 3, axis=0)) == [a, a, a]  # a fixed projection
    assert len(set(others)) > 150
    for c in others:  # never the red of mines or the green of fruit
        h = _hue(c)
        assert 30 <= h <= 75 or 160 <= h <= 335, c


def test_speed_colour_runs_from_slow_to_fast():
    slow, fast = speed_colour(0.0, 4.5), speed_colour(4.5, 4.5)
    assert sum(fast) > sum(slow) + 200
    assert speed_colour(9.0, 4.5) == fast


@pytest.mark.parametrize("mode", COLOUR_MODES)
def test_each_mode_draws_read_only_with_its_key(mode):
    world = World(load_scenario("classic"), seed=2)
    world.step(30)
    before = _digest(world)
    plain, keyed = pygame.Surface((640, 480)), pygame.Surface((640, 480))
    options = DrawOptions.from_scenario(world.scenario, colour_by=mode)
    draw(world.state, plain, options)
    draw(world.state, keyed, options.with_(legend=True))
    assert _digest(world) == before
    diff = np.any(pygame.surfarray.array3d(plain) != pygame.surfarray.array3d(keyed), axis=2)
    xs, ys = np.nonzero(diff)
    assert len(xs) > 100 and xs.min() > 320 and ys.min() > 400  # the key, bottom right
    colours = robot_colours(world.state, options)
    assert len(colours) == world.scenario.robots.count


def test_modes_colour_robots_differently():
    world = World(load_scenario("classic"), seed=2)
    by = {m: robot_colours(world.state, DrawOptions.from_scenario(world.scenario, colour_by=m))
          for m in COLOUR_MODES}
    assert by["lineage"] != by["genome"] != by["speed"]
    with pytest.raises(ValueError, match="colour_by"):
        robot_colours(world.state, DrawOptions.from_scenario(world.scenario, colour_by="x"))


def test_c_key_cycles_colours_and_help_lists_it():
    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, surface=pygame.Surface((800, 600)), fps=0)
    seen = [viewer.colour_by]
    for _ in range(3):
        viewer._key(pygame.K_c)
        viewer.run(1)
        seen.append(viewer.colour_by)
    assert seen == ["lineage", "genome", "speed", "lineage"]
    assert any(c.label == "c" for c in CONTROLS)


def test_follow_panel_draws_the_network():
    world = World(load_scenario("classic"), seed=0)
    surface = pygame.Surface((400, 300))
    obs = world.observations()
    rect = draw_network(surface, (0, 0), world.scenario, world.state.genome[0], obs[0])
    pixels = pygame.surfarray.array3d(surface)[: rect.width, : rect.height]
    blue = (pixels[..., 2] > 120) & (pixels[..., 0] < 110)
    red = (pixels[..., 0] > 120) & (pixels[..., 2] < 110)
    assert blue.sum() > 50 and red.sum() > 50  # positive and negative weights drawn


def test_record_colour_flag(tmp_path, capsys):
    out = tmp_path / "g.gif"
    assert main(["record", "classic", "--steps", "4", "--size", "320x240", "--colour",
                 "genome", "--out", str(out), "--quiet"]) == 0
    assert out.stat().st_size > 1000
    with pytest.raises(SystemExit) as exc:
        main(["record", "classic", "--steps", "4", "--colour", "rainbow", "--out",
              str(tmp_path / "x.gif")])
    assert exc.value.code == 2
    assert "--colour" in capsys.readouterr().err


def test_follow_panel_draws_no_edge_for_pruned_connections():
    sc = load_scenario("classic-sparse")
    world = World(sc, seed=0)
    obs = world.observations()
    lay = sc.genome_layout
    genome = world.state.genome[0].copy()
    drawn = []
    for on in (1.0, 0.0):
        genome[lay.mask:lay.speed] = on
        surface = pygame.Surface((400, 300))
        rect = draw_network(surface, (0, 0), sc, genome, obs[0])
        # Between the input dots (x 40) and the hidden units (x 140): only edges.
        pixels = pygame.surfarray.array3d(surface)[46: rect.width // 2 - 6, 24: rect.height]
        blue = (pixels[..., 2] > 120) & (pixels[..., 0] < 110)
        red = (pixels[..., 0] > 120) & (pixels[..., 2] < 110)
        drawn.append(int(blue.sum() + red.sum()))
    assert drawn[0] > 100 and drawn[1] == 0
