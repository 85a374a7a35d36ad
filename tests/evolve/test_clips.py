"""Clips during evolution: a copy of each world recorded every T ticks, the run's
results unchanged."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import imageio.v3 as iio
import numpy as np

from evosim import World, load_scenario
from evosim.evolve.batch import run_batch
from evosim.evolve.checkpoints import FINAL_FILE, METRICS_FILE, world_dir
from evosim.evolve.events import list_event_files
from evosim.evolve.metrics import write_metrics
from evosim.evolve.worker import clip_path, run_world
from evosim.record.clips import record_clip
from tests.evolve.test_batch import run_in_process, tiny_plan
from tests.helpers import assert_states_equal


def test_copy_is_independent():
    world = World(load_scenario("classic"), seed=0)
    world.step(10)
    twin = world.copy()
    twin.step(50)
    assert world.step_count == 10 and twin.step_count == 60
    again = World(load_scenario("classic"), seed=0)
    again.step(60)
    assert_states_equal(twin, again)


def test_clips_do_not_change_the_run(tmp_path):
    plain = tiny_plan(steps=900, worlds=2)
    clipped = dataclasses.replace(plain, record_every=400, record_steps=30)
    run_in_process(tmp_path / "plain", plain)
    out = tmp_path / "clipped"
    out.mkdir()
    clipped.save(out)
    for i in range(clipped.worlds):
        run_world(out, clipped, i, clipper=record_clip)
    write_metrics(out, clipped)
    assert (out / METRICS_FILE).read_bytes() == (tmp_path / "plain" / METRICS_FILE).read_bytes()
    for i in range(2):
        a = World.load(world_dir(out, i) / FINAL_FILE).state
        b = World.load(world_dir(tmp_path / "plain", i) / FINAL_FILE).state
        assert_states_equal(a, b)
        assert [p.read_bytes() for _, p in list_event_files(out, i)] == \
            [p.read_bytes() for _, p in list_event_files(tmp_path / "plain", i)]
        clips = sorted((world_dir(out, i) / "clips").iterdir())
        assert [p.name for p in clips] == ["step-000000000.mp4", "step-000000400.mp4",
                                           "step-000000800.mp4"]
        frames = np.stack(list(iio.imiter(clips[1])))
        assert frames.shape == (15, 480, 640, 3)
        assert frames[0].std() > 10  # a picture, not a blank frame
        assert not np.array_equal(frames[0], frames[-1])  # the copy moves


def test_resumed_runs_keep_their_clips(tmp_path):
    plan = dataclasses.replace(tiny_plan(steps=600, worlds=1), record_every=300,
                               record_steps=10)
    tmp_path.mkdir(exist_ok=True)
    plan.save(tmp_path)
    run_batch(tmp_path, plan, workers=1, clipper=record_clip)
    path = clip_path(tmp_path, 0, 300)
    before = path.stat().st_mtime_ns
    (world_dir(tmp_path, 0) / FINAL_FILE).unlink()
    run_batch(tmp_path, plan, workers=1, clipper=record_clip)
    assert path.stat().st_mtime_ns == before  # already there: not recorded again
    assert clip_path(tmp_path, 0, 600).exists()


def test_evolve_record_every_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "evosim", "evolve", "classic", "--steps",
                           "300", "--record-every", "200", "--record-steps", "10", "--out",
                           str(out), "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (world_dir(out, 0) / "clips").iterdir()) == \
        ["step-000000000.mp4", "step-000000200.mp4"]
    bad = subprocess.run([sys.executable, "-m", "evosim", "evolve", "classic", "--steps",
                          "300", "--record-steps", "10", "--out", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--record-every" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
