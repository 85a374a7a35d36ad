"""draw(): reads the state only, and puts things where they are, in their colours."""

from __future__ import annotations

import hashlib

import numpy as np
import pygame
import pytest

from evosim import World, load_scenario
from evosim.bench.media import bench_draw
from evosim.render import DrawOptions, Transform, draw, lineage_colour
from evosim.render.drawing import FRUIT, MINE
from tests.helpers import small_scenario


def _digest(world: World) -> str:
    h = hashlib.sha256()
    for a in world.state:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_drawing_does_not_change_the_state() -> None:
    world = World(load_scenario("classic"), seed=1)
    world.step(50)
    before = _digest(world)
    surface = pygame.Surface((640, 480))
    options = DrawOptions.from_scenario(world.scenario, show_rays=True, selected=0)
    draw(world.state, surface, options, world.observations())
    assert _digest(world) == before
    # and the world steps on exactly as an undrawn one does
    twin = World(load_scenario("classic"), seed=1)
    twin.step(50)
    world.step(10)
    twin.step(10)
    assert _digest(world) == _digest(twin)


def test_mine_and_fruit_pixels_have_their_colours() -> None:
    world = World(small_scenario(robots={"count": 1}, mines={"count": 5},
                                 fruit={"count": 5}), seed=2)
    surface = pygame.Surface((800, 600))
    tf = draw(world.state, surface, DrawOptions.from_scenario(world.scenario))
    s = world.state
    robot = s.robot_xy[0]
    for xy, colour in ((s.mine_xy[: s.mine_count], MINE), (s.fruit_xy[: s.fruit_count], FRUIT)):
        for p in xy:
            if np.hypot(*(p - robot)) < 30:
                continue  # a robot's triangle may cover it
            # a pixel off-centre (the centre holds a highlight): the disc's own colour
            px = tf.to_screen(p + np.array([4.0, 4.0]))
            assert tuple(surface.get_at((int(px[0]), int(px[1]))))[:3] == colour


def test_a_mine_pixel_is_red() -> None:
    world = World(small_scenario(robots={"count": 1}), seed=3)
    surface = pygame.Surface((400, 300))
    tf = draw(world.state, surface, DrawOptions.from_scenario(world.scenario))
    s = world.state
    far = [p for p in s.mine_xy[: s.mine_count] if np.hypot(*(p - s.robot_xy[0])) > 30]
    r, g, b, _ = surface.get_at(tuple(int(v) for v in tf.to_screen(far[0] + 3.0)))
    assert r > 180 and g < 80 and b < 80


def test_rays_show_hits_and_change_the_picture() -> None:
    world = World(load_scenario("classic"), seed=0)
    world.step(100)
    opts = DrawOptions.from_scenario(world.scenario)
    plain, rays = pygame.Surface((640, 480)), pygame.Surface((640, 480))
    draw(world.state, plain, opts)
    draw(world.state, rays, opts.with_(show_rays=True), world.observations())
    a = pygame.surfarray.array3d(plain)
    b = pygame.surfarray.array3d(rays)
    assert (a != b).any(axis=2).sum() > 1000


def test_a_ray_ends_where_it_hits() -> None:
    """Ray k ends at distance (1 - v) * range on the channel that saw v, else at range."""
    from evosim.render.drawing import _ray_segments

    sc = load_scenario("classic")
    world = World(sc, seed=0)
    world.step(100)
    obs = world.observations()
    n = obs.shape[0]
    end, hit, channel = _ray_segments(world.state, DrawOptions.from_scenario(sc),
                                      np.arange(n), obs)
    value = obs.max(axis=2)
    assert hit.sum() > 20  # some rays see something
    np.testing.assert_array_equal(hit, value > 0)
    dist = np.hypot(*(end - world.state.robot_xy[:, None, :]).transpose(2, 0, 1))
    expected = np.where(value > 0, (1 - value) * sc.vision.range, sc.vision.range)
    np.testing.assert_allclose(dist, expected, rtol=1e-6)  # float32 observations
    seen = hit.nonzero()
    np.testing.assert_array_equal(obs[seen[0], seen[1], channel[seen]], value[seen])


def test_transform_round_trip_and_aspect() -> None:
    tf = Transform.fit((1280, 720), 800, 600, margin=0)
    assert tf.scale == pytest.approx(1.2)
    px = tf.to_screen(np.array([400.0, 300.0]))
    assert tuple(px) == (640, 360)
    assert tf.to_world((640, 360)) == pytest.approx((400.0, 300.0))


def test_lineage_colours_are_stable_and_never_red_or_green() -> None:
    import colorsys

    for lineage in range(500):
        c = lineage_colour(lineage)
        assert c == lineage_colour(lineage)
        hue = colorsys.rgb_to_hls(*(v / 255 for v in c))[0] * 360
        assert not (hue < 30 or hue > 335 or 80 < hue < 160), (lineage, c, hue)


def test_bench_draw_reports_frames_per_second() -> None:
    fps = bench_draw(frames=5, size=(320, 240))
    assert fps > 0


def test_every_object_kind_and_channel_has_colours():
    from evosim.render.drawing import HIT_DOT, KIND_COLOURS, RAY_HIT
    from evosim.scenario import CHANNELS, OBJECT_KINDS

    assert set(KIND_COLOURS) == {kind.name for kind in OBJECT_KINDS}
    assert set(RAY_HIT) == set(HIT_DOT) == set(CHANNELS)
