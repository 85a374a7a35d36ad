"""`evosim record RUN_DIR --story`: one clip per stage, each from the first checkpoint at
or after the stage's start, the stage named on screen."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from evosim import World
from evosim.analysis import story as story_module
from evosim.analysis.story import STAGES
from evosim.cli import main

STARTS = {"caution": 1_100, "fruit": 2_000, "speed": 2_500, "balance": 3_900}


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A real genesis run with checkpoints every 1,000 steps, and a story told at the
    steps of STARTS for world 0 (the detector needs runs far longer than a test)."""
    out = tmp_path / "g"
    assert main(["evolve", "genesis", "--steps", "4000", "--worlds", "2", "--workers", "1",
                 "--checkpoint-every", "1000", "--out", str(out), "--quiet"]) == 0
    told = {"worlds": [{"world": 0, "stages": dict(STARTS), "in_order": True},
                       {"world": 1, "stages": dict(STARTS, speed=None), "in_order": False}],
            "mean": {"world": "mean", "stages": dict(STARTS), "in_order": True}}
    monkeypatch.setattr(story_module, "run_story", lambda path: told)
    return out


def test_story_video_has_one_clip_per_stage_from_the_right_checkpoints(run_dir, tmp_path,
                                                                       capsys):
    out = tmp_path / "story.gif"
    assert main(["record", str(run_dir), "--story", "--world", "0", "--steps", "6",
                 "--steps-per-frame", "2", "--size", "320x240", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    frames = np.stack(list(iio.imiter(out)))
    assert frames.shape == (4 * 3, 240, 320, 3)  # 4 clips x ceil(6 / 2) frames
    # Each clip starts from the first checkpoint at or after its stage's start.
    for number, (stage, ckpt) in enumerate(zip(STAGES, (2000, 2000, 3000, 4000),
                                               strict=True), 1):
        assert f"stage {number} of 4: " in printed
        assert f"(begins at step {STARTS[stage]:,}; world 0): from step {ckpt:,}" in printed
    # The clip of the speed stage shows the world of checkpoint 3,000 stepped 6 ticks:
    # its first frame differs from the last frame of the clip before (from 2,000).
    assert (frames[6] != frames[5]).any()
    ref = World.load(run_dir / "world-000" / "checkpoints" / "step-000003000.npz")
    assert ref.step_count == 3000


def test_story_video_of_a_world_without_the_whole_story_is_a_clear_error(run_dir, tmp_path,
                                                                         capsys):
    code = main(["record", str(run_dir), "--story", "--world", "1", "--steps", "4",
                 "--out", str(tmp_path / "s.gif"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "world 1 never reached the speed stage" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.gif").exists()
    code = main(["record", str(run_dir), "--story", "--world", "5", "--steps", "4",
                 "--out", str(tmp_path / "s.gif"), "--quiet"])
    assert code == 2 and "--world: expected one of 0 to 1, got 5" in capsys.readouterr().err


def test_one_stage_of_the_first_world_that_tells_the_whole_story(run_dir, tmp_path, capsys):
    out = tmp_path / "speed.gif"
    # No --world: world 0 is the first in order (world 1 never reached speed).
    assert main(["record", str(run_dir), "--story", "--stage", "speed", "--steps", "6",
                 "--steps-per-frame", "2", "--size", "320x240", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert np.stack(list(iio.imiter(out))).shape == (3, 240, 320, 3)  # one clip
    assert "stage 3 of 4: " in printed and "world 0): from step 3,000" in printed
    assert "stage 2 of 4" not in printed


def test_story_video_needs_a_world_in_order_and_stage_needs_story(run_dir, tmp_path,
                                                                 monkeypatch, capsys):
    told = story_module.run_story(run_dir)
    told["worlds"][0]["in_order"] = False
    monkeypatch.setattr(story_module, "run_story", lambda path: told)
    out = tmp_path / "s.gif"
    assert main(["record", str(run_dir), "--story", "--steps", "4", "--out", str(out),
                 "--quiet"]) == 2
    assert "no world shows all four stages in order" in capsys.readouterr().err
    assert main(["record", "classic", "--stage", "fruit", "--steps", "4", "--out",
                 str(out), "--quiet"]) == 2
    assert "--world and --stage: expected with --story only" in capsys.readouterr().err
    assert not out.exists()
