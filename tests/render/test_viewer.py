"""The live viewer steps the same World as headless runs, bit for bit."""

from __future__ import annotations

import pygame
import pytest

from evosim import World, load_scenario
from evosim.record.writer import VideoWriter
from evosim.render import Viewer
from tests.helpers import assert_states_equal


@pytest.mark.parametrize("k", [1, 7])
def test_viewer_equals_headless(k: int) -> None:
    sc = load_scenario("classic")
    world = World(sc, seed=5)
    viewer = Viewer(world, steps_per_frame=k, size=(480, 360), fps=0, show_rays=True)
    viewer.follow_id = int(world.state.robot_id[0])  # brain panel reads actions() too
    frames = viewer.run(max_frames=12)
    headless = World(sc, seed=5)
    headless.step(12 * k)
    assert frames == 12
    assert world.step_count == 12 * k
    assert_states_equal(world, headless)


def test_viewer_draws_on_a_given_surface() -> None:
    world = World(load_scenario("classic"), seed=0)
    surface = pygame.Surface((320, 240))
    Viewer(world, surface=surface, fps=0).run(max_frames=2)
    assert pygame.surfarray.array3d(surface).any()
    assert world.step_count == 2


def test_keys_pause_step_and_speed() -> None:
    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, steps_per_frame=1, size=(320, 240), fps=0)
    viewer.run(max_frames=1)
    viewer._key(pygame.K_SPACE)
    viewer.run(max_frames=3)
    assert world.step_count == 1  # paused
    viewer._key(pygame.K_n)
    viewer._key(pygame.K_n)
    viewer.run(max_frames=1)
    assert world.step_count == 3  # two single steps
    viewer._key(pygame.K_SPACE)
    viewer._key(pygame.K_EQUALS)
    assert viewer.steps_per_frame == 2
    viewer.run(max_frames=2)
    assert world.step_count == 7
    for _ in range(20):
        viewer.faster()
    assert viewer.steps_per_frame == 0  # as fast as it goes
    viewer.run(max_frames=1)
    assert world.step_count > 7
    viewer._key(pygame.K_q)
    assert not viewer.running


def test_click_follows_the_nearest_robot_and_screenshot(tmp_path) -> None:
    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, size=(640, 480), fps=0, out_dir=tmp_path)
    viewer.run(max_frames=1)
    assert viewer._tf is not None
    target = world.state.robot_xy[3]
    px = viewer._tf.to_screen(target)
    assert viewer.click((int(px[0]), int(px[1]))) == int(world.state.robot_id[3])
    viewer.run(max_frames=2)  # draws the stats and brain panels
    path = viewer.screenshot()
    assert path is not None and path.exists() and path.parent == tmp_path
    assert pygame.image.load(str(path)).get_size() == (640, 480)
    viewer.click((0, 0))
    assert viewer.follow_id is None


def test_viewer_records_while_running(tmp_path) -> None:
    import imageio_ffmpeg

    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, size=(320, 240), fps=0, out_dir=tmp_path, writer_factory=VideoWriter)
    viewer.run(max_frames=1)
    viewer._key(pygame.K_v)
    viewer.run(max_frames=4)  # run() ends the recording when it returns
    (video,) = tmp_path.glob("*.mp4")
    n, _ = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert n == 4


@pytest.mark.parametrize(("start", "up", "down"), [
    (7, 10, 5), (1, 2, 1), (1000, 0, 500), (5000, 0, 1000), (0, 0, 1000), (3, 5, 2),
])
def test_speed_keys_move_to_the_next_ladder_value(start, up, down) -> None:
    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, steps_per_frame=start, size=(320, 240), fps=0)
    viewer.faster()
    assert viewer.steps_per_frame == up
    viewer.steps_per_frame = start
    viewer.slower()
    assert viewer.steps_per_frame == down


def _message(viewer: Viewer) -> str:
    return viewer._message[0]


def test_screenshot_and_record_errors_are_shown_not_raised(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, size=(320, 240), fps=0, out_dir=blocker / "recordings",
                    writer_factory=VideoWriter)
    viewer.run(max_frames=1)
    viewer._key(pygame.K_s)
    assert _message(viewer).startswith("screenshot failed:")
    assert "a-file" in _message(viewer)
    viewer._key(pygame.K_v)
    assert _message(viewer).startswith("recording failed:")
    assert viewer._writer is None
    assert viewer.run(max_frames=2) == 2  # still going
    assert world.step_count == 3
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


def test_recording_a_too_small_window_is_shown_not_raised(tmp_path) -> None:
    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, fps=0, surface=pygame.Surface((40, 30)), out_dir=tmp_path,
                    writer_factory=VideoWriter)
    viewer.run(max_frames=1)
    viewer._key(pygame.K_v)
    assert _message(viewer).startswith("recording failed:")
    assert "--size" in _message(viewer) or "64" in _message(viewer)
    assert viewer.run(max_frames=1) == 1
    assert not any(tmp_path.glob("*.mp4"))


def test_without_a_writer_factory_the_v_key_says_so(tmp_path) -> None:
    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, size=(320, 240), fps=0, out_dir=tmp_path)
    viewer.run(max_frames=1)
    viewer._key(pygame.K_v)
    assert "not available" in _message(viewer)
    assert viewer._writer is None
    assert viewer.run(max_frames=1) == 1
    assert not any(tmp_path.glob("*.mp4"))


def test_every_control_key_runs_its_action_and_shows_in_the_help(monkeypatch) -> None:
    """One table drives both: each key (and typed character) of ``CONTROLS`` runs its
    row's action, and the help overlay shows every row, in the table's order."""
    from evosim.render import viewer as viewer_module

    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, surface=pygame.Surface((640, 480)), fps=0)
    rows = [c for c in viewer_module.CONTROLS if c.action]
    assert rows and all(c.keys for c in rows)
    calls: list[str] = []
    for control in rows:
        assert callable(getattr(Viewer, control.action)), control.action
        monkeypatch.setattr(viewer, control.action, lambda a=control.action: calls.append(a))
    for control in rows:
        for key in control.keys:
            calls.clear()
            viewer._key(key)
            assert calls == [control.action], (control.label, pygame.key.name(key))
        for char in control.chars:
            calls.clear()
            viewer._key(pygame.K_UNKNOWN, char)
            assert calls == [control.action], (control.label, char)
    monkeypatch.undo()
    shown: list[list[tuple[str, str]]] = []
    monkeypatch.setattr(viewer_module, "draw_help", lambda _surface, r: shown.append(list(r)))
    viewer._key(pygame.K_F1)
    viewer.run(max_frames=1)
    assert shown == [[(c.label, c.help) for c in viewer_module.CONTROLS]]
    labels = [c.label for c in viewer_module.CONTROLS]
    assert len(set(labels)) == len(labels)


def test_unbound_keys_do_nothing_and_escape_closes_help_first() -> None:
    world = World(load_scenario("classic"), seed=0)
    viewer = Viewer(world, surface=pygame.Surface((320, 240)), fps=0)
    viewer.run(max_frames=1)
    viewer._key(pygame.K_z, "z")
    assert (viewer.paused, viewer.show_help, viewer.show_rays) == (False, False, False)
    viewer._key(pygame.K_SLASH, "?")
    assert viewer.show_help
    viewer.follow_id = int(world.state.robot_id[0])
    viewer.running = True
    viewer._key(pygame.K_ESCAPE)
    assert not viewer.show_help and viewer.follow_id is not None
    viewer._key(pygame.K_ESCAPE)
    assert viewer.follow_id is None and viewer.running
    viewer._key(pygame.K_ESCAPE)
    assert not viewer.running
