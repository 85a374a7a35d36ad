"""Recording: streamed video files with the expected frames, size and content."""

from __future__ import annotations

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.bench.media import bench_record
from evosim.cli import main
from evosim.record import VideoWriter, record
from tests.helpers import assert_states_equal


def _frames(path) -> np.ndarray:
    return np.stack(list(iio.imiter(path)))


def test_mp4_decodes_with_expected_frame_count_and_size(tmp_path) -> None:
    out = tmp_path / "v.mp4"
    world = World(load_scenario("classic"), seed=0)
    record(world, out, steps=25, steps_per_frame=2, size=(320, 240), fps=10, progress=False)
    n, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert n == 13  # ceil(25 / 2)
    frames = _frames(out)
    assert frames.shape == (13, 240, 320, 3)
    assert world.step_count == 25
    headless = World(load_scenario("classic"), seed=0)
    headless.step(25)
    assert_states_equal(world, headless)


def test_gif_by_extension(tmp_path) -> None:
    out = tmp_path / "v.gif"
    record(World(load_scenario("classic"), seed=0), out, steps=6, steps_per_frame=1,
           size=(200, 150), fps=10, progress=False)
    frames = _frames(out)
    assert out.read_bytes()[:6] == b"GIF89a"
    assert frames.shape[0] == 6 and frames.shape[1:3] == (150, 200)


def test_fov_changes_the_frames(tmp_path) -> None:
    args = ["--steps", "4", "--steps-per-frame", "2", "--size", "320x240", "--quiet"]
    assert main(["record", "classic", *args, "--out", str(tmp_path / "a.gif")]) == 0
    assert main(["record", "classic", *args, "--fov", "--out", str(tmp_path / "b.gif")]) == 0
    a, b = _frames(tmp_path / "a.gif"), _frames(tmp_path / "b.gif")
    assert a.shape == b.shape == (2, 240, 320, 3)
    assert (a != b).any(axis=3).sum() > 500


def test_vs_random_side_by_side(tmp_path, capsys) -> None:
    ckpt = World(load_scenario("classic"), seed=9)
    ckpt.step(20)
    ckpt.save(tmp_path / "c.npz")
    out = tmp_path / "vs.mp4"
    code = main(["record", str(tmp_path / "c.npz"), "--vs", "random", "--steps", "6",
                 "--size", "640x240", "--seed", "4", "--out", str(out), "--quiet"])
    assert code == 0
    frames = _frames(out)
    assert frames.shape == (3, 240, 640, 3)
    text = capsys.readouterr().out
    assert "random robots" in text and "evolved robots" in text


@pytest.mark.parametrize(("argv", "needle"), [
    (["record", "classic", "--steps", "5", "--out", "x.avi"], ".mp4 or .gif"),
    (["record", "classic", "--steps", "5", "--vs", "random"], "checkpoint"),
    (["record", "classic", "--steps", "5", "--size", "321x240", "--out", "x.mp4"], "even"),
    (["record", "nope", "--steps", "5"], "nope"),
    (["record", "missing.npz", "--steps", "5"], "missing.npz"),
])
def test_bad_input_is_one_line_exit_2(argv, needle, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())  # nothing written


def test_writer_removes_a_partial_file_on_error(tmp_path) -> None:
    out = tmp_path / "v.mp4"
    with pytest.raises(RuntimeError), VideoWriter(out, (64, 64)) as writer:
        writer.write(np.zeros((64, 64, 3), np.uint8))
        raise RuntimeError("stop")
    assert not any(tmp_path.iterdir())


def test_bench_record_reports_frames_per_second() -> None:
    assert bench_record(frames=3, size=(160, 120)) > 0


def test_gif_without_fixed_palette(tmp_path) -> None:
    out = tmp_path / "p.gif"
    rng = np.random.default_rng(0)
    with VideoWriter(out, (80, 64), fps=5) as writer:
        for _ in range(3):
            writer.write(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8))
    assert _frames(out).shape == (3, 64, 80, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["p.gif"]  # no temp files left


def test_fixed_palette_keeps_the_drawn_colours(tmp_path) -> None:
    """Mines stay pure red and fruit pure green through the gif palette."""
    from evosim.render.drawing import FRUIT, MINE

    out = tmp_path / "c.gif"
    record(World(load_scenario("classic"), seed=0), out, steps=1, size=(400, 300),
           progress=False)
    frame = _frames(out)[0].reshape(-1, 3)
    colours = {tuple(c) for c in np.unique(frame, axis=0)}
    assert MINE in colours and FRUIT in colours


def test_vs_random_ignores_the_scenarios_seed_brain(tmp_path) -> None:
    """The "random" side has random brains even when the checkpoint's scenario
    starts from a seed brain, and neither side needs the brain file."""
    pytest.importorskip("torch")
    from evosim.commands.record import build_worlds
    from evosim.scenario import scenario_from_dict
    from evosim.torch import policy_module, save_brain

    classic = load_scenario("classic")
    genome = np.random.default_rng(7).standard_normal(classic.genome_length).astype(np.float32)
    genome[-1] = np.float32(2.0)
    brain = save_brain(tmp_path / "seed.pt", classic, policy_module(classic, genome))
    data = classic.model_dump(mode="json")
    seeded = scenario_from_dict({**data, "evolution": {**data["evolution"],
                                                       "seed_brain": str(brain)}})
    evolved_from = World(seeded, seed=3)
    evolved_from.step(10)
    ckpt = evolved_from.save(tmp_path / "seeded.npz")
    brain.unlink()  # a checkpoint needs no brain file; --vs random must not either

    (random_world, evolved), labels, _ = build_worlds(str(ckpt), 4, "random")
    assert random_world.scenario.evolution.seed_brain is None
    assert not (np.asarray(random_world.state.genome) == genome).all(axis=1).any()
    plain = World(load_scenario("classic"), seed=4)
    assert_states_equal(random_world, plain)
    np.testing.assert_array_equal(evolved.state.genome, evolved_from.state.genome)
    np.testing.assert_array_equal(evolved.state.robot_xy, plain.state.robot_xy)
    assert labels[0] == "random robots"


def test_video_file_mode_is_the_atomic_writes_mode(tmp_path, monkeypatch) -> None:
    """Finished videos get the same permissions as every other output (evosim._atomic)."""
    from evosim import _atomic

    monkeypatch.setattr(_atomic, "_FILE_MODE", 0o640)
    out = tmp_path / "m.gif"
    with VideoWriter(out, (64, 64), fps=5) as writer:
        writer.write(np.zeros((64, 64, 3), np.uint8))
    assert out.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(("argv", "needle"), [
    (["--seed", "2"], "drop --seed, or use --vs random"),
    ([], "from step 0"),
])
def test_checkpoint_source_shares_the_watch_rule(argv, needle, tmp_path, capsys) -> None:
    World(load_scenario("classic"), seed=1).save(tmp_path / "c.npz")
    code = main(["record", str(tmp_path / "c.npz"), "--steps", "2", "--size", "64x64",
                 "--out", str(tmp_path / "c.gif"), "--quiet", *argv])
    assert code == (2 if argv else 0)
    out = capsys.readouterr()
    assert needle in out.err + out.out
