"""Videos: ffmpeg's failure is an error (no file left), no silent overwrite, killed
writers' temp files are swept, short default names, --vs frames without bands, and
a viewer without a screen fails fast."""

from __future__ import annotations

import json
import subprocess
import time

import pygame
import pytest

from evosim import World, load_scenario
from evosim.cli import main
from evosim.record import writer as writer_module
from evosim.record.record import label_font_size, render_frame, short_seed, vs_size
from evosim.record.writer import RecordError, VideoWriter
from evosim.render.display import NoDisplayError
from evosim.render.drawing import DrawOptions, font
from evosim.render.viewer import Viewer


def test_ffmpeg_failure_is_one_line_and_leaves_no_file(tmp_path, monkeypatch):
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\ncat > /dev/null\necho 'av_interleaved_write_frame(): "
                    "Input/output error' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(writer_module.imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(fake))
    out = tmp_path / "videos" / "v.mp4"
    writer = VideoWriter(out, (64, 64), fps=10)
    writer.write(bytes(64 * 64 * 3))
    with pytest.raises(RecordError) as info:
        writer.close()
    message = str(info.value)
    assert "\n" not in message and str(out) in message
    assert "exit status 1" in message and "Input/output error" in message
    assert list(out.parent.iterdir()) == []


def test_record_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "v.gif"
    out.write_bytes(b"precious")
    args = ["record", "classic", "--steps", "2", "--size", "64x64", "--out", str(out),
            "--quiet"]
    assert main(args) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"precious"
    assert main([*args, "--force"]) == 0
    assert out.read_bytes()[:3] == b"GIF"


def test_a_killed_writers_temp_files_are_removed_by_the_next(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [tmp_path / f".v.rec{dead.pid}.k2j4_x.mp4",
             tmp_path / f".v.rec{dead.pid}.k2j4_x.palette.rgb"]
    live = tmp_path / f".w.rec{__import__('os').getppid()}.abc123.mp4"
    for p in [*stale, live]:
        p.write_bytes(b"x" * 100)
    with VideoWriter(tmp_path / "v.mp4", (64, 64), fps=10) as w:
        w.write(bytes(64 * 64 * 3))
    assert not any(p.exists() for p in stale)
    assert live.exists()  # its writer may still be at work
    assert (tmp_path / "v.mp4").stat().st_size > 0


def test_default_names_are_short(tmp_path):
    assert short_seed("classic", 0) == "s0"
    big = 8668861027912758289
    assert short_seed(str(tmp_path / "x.npz"), big) == f"s{big:x}"[:7]
    run = tmp_path / "run"
    (run / "world-001").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"seed": 4, "seeds": [1, big]}))
    assert short_seed(str(run / "world-001" / "final.npz"), big) == "s4w1"


def test_vs_frame_has_no_empty_bands():
    world = World(load_scenario("classic"), seed=0)
    w, h = vs_size(world)
    assert w == 1280 and h % 2 == 0 and h < 720
    surface = pygame.Surface((w, h))
    surface.fill((255, 0, 255))
    opts = DrawOptions.from_scenario(world.scenario)
    render_frame(surface, [world, world], [opts, opts], ["a", "b"])
    size = label_font_size(w, h, 2)
    arena_h = h - (font(size).get_linesize() * 2 + 16)
    arena = world.scenario.world
    drawn_h = (w // 2 - 16) * arena.height / arena.width  # Transform.fit, 8 px margins
    assert abs(arena_h - 16 - drawn_h) <= 2  # the arena fills its panel's height


def test_viewer_without_a_display_fails_fast():
    world = World(load_scenario("classic"), seed=0)
    start = time.monotonic()
    with pytest.raises(NoDisplayError, match="record a video instead"):
        Viewer(world).run()
    assert time.monotonic() - start < 5.0


def test_sigterm_stops_record_and_leaves_no_file(tmp_path):
    """A terminated `record` unwinds like Ctrl-C: exit 130, one line, no video and no
    temp file left behind (the writer aborts)."""
    import sys

    out = tmp_path / "videos" / "long.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "evosim", "record", "classic", "--steps",
                             "200000", "--size", "320x240", "--quiet", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.parent.is_dir() and any(out.parent.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # frames are being written to the temp file
    proc.terminate()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip().count("\n") == 0, stderr
    assert list(out.parent.iterdir()) == []
