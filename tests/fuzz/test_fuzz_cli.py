"""Fuzzing the command line: generated argument lists for every subcommand.

Each list runs in-process through ``evosim.cli.main``; the long-running part
of a valid command (evolving, evaluating, encoding a video) is replaced by a
stub that records it was reached, so the fuzzer exercises parsing and every
input check within its time budget. The answer must be exit 0 or 2, no
traceback, one line on error, in bounded time.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evosim import World
from tests.helpers import TINY_TOML, examples, run_cli, tiny_scenario

NUMBERS = st.sampled_from(["0", "1", "2", "3", "-1", "1e3", "1_000", "abc", "", "2.5",
                           "4096", "4097", "1000", "1001", "1000000", "1000000000",
                           str(2**62), str(2**64), str(10**18), "9" * 50, "0x10", "nan"])
PATHS = st.sampled_from(["tiny.toml", "classic", "good.npz", "missing.npz", "nofile.toml",
                         "junk.npz", "out", "out/x.mp4", "x.gif", "x.avi", "/", "..", "",
                         "tiny.toml/x", "run", "\0bad", "a" * 300])
FLAGS = {
    "evolve": ["--steps", "--worlds", "--workers", "--seed", "--out", "--checkpoint-every",
               "--metrics-every", "--resume", "--quiet"],
    "evaluate": ["--steps", "--seeds", "--seed", "--json"],
    "record": ["--steps", "--out", "--fov", "--size", "--fps", "--steps-per-frame", "--seed",
               "--vs", "--quiet"],
    "plot": ["--out"],
    "export": ["--slot", "--best", "--out", "--force"],
    "watch": ["--seed", "--steps-per-frame", "--fps", "--size", "--rays"],
}
SWITCHES = {"--quiet", "--json", "--fov", "--best", "--force", "--rays"}
PATH_FLAGS = {"--out", "--resume"}


@st.composite
def argument_lists(draw) -> list[str]:
    command = draw(st.sampled_from(sorted(FLAGS)))
    argv = [command]
    if draw(st.integers(0, 4)):
        argv.append(draw(PATHS))
    for flag in draw(st.lists(st.sampled_from(FLAGS[command]), max_size=4)):
        argv.append(flag)
        if flag in SWITCHES:
            continue
        if flag in PATH_FLAGS:
            argv.append(draw(PATHS))
        elif flag == "--size":
            argv.append(draw(st.sampled_from(["64x64", "1280x720", "0x0", "10x", "x",
                                              "99999x99999", "640X480"])))
        elif flag == "--vs":
            argv.append(draw(st.sampled_from(["random", "other"])))
        else:
            argv.append(draw(NUMBERS))
    if draw(st.integers(0, 9)) == 0:
        argv.append(draw(st.sampled_from(["--help", "--bogus", "-x"])))
    return argv


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    (root / "tiny.toml").write_text(TINY_TOML)
    (root / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    World(tiny_scenario(), seed=0).save(root / "good.npz")
    return root


@pytest.fixture
def stubbed(monkeypatch):
    """Replace the long-running work of valid commands with a marker."""
    reached: list[str] = []
    import importlib

    import evosim.evolve.evaluate as evaluate
    from evosim.evolve import metrics, runs
    from evosim.record.writer import check_video_path, check_video_size

    def fake_record(worlds, out, steps, size=(1280, 720), **_):
        out = check_video_path(out)  # the real checks on the output, not the encoding
        check_video_size(out, size)
        reached.append("record")
        return out

    def fake_batch(run_dir, plan, *_, **__):
        reached.append("evolve")
        metrics.write_metrics(run_dir, plan)  # no rows: what the summary reads

    monkeypatch.setattr(runs, "run_batch", fake_batch)
    monkeypatch.setattr(evaluate, "measure", lambda *a, **k: reached.append("evaluate") or
                        dict.fromkeys(evaluate.KEYS, 0.0))
    # The module, not the package's function of the same name.
    monkeypatch.setattr(importlib.import_module("evosim.record.record"), "record", fake_record)
    return reached


@settings(max_examples=examples(300), suppress_health_check=list(HealthCheck))
@given(argv=argument_lists())
def test_generated_argument_lists_exit_0_or_one_line_2(workdir, stubbed, tmp_path_factory, argv):
    cwd = tmp_path_factory.mktemp("cwd")
    for name in ("tiny.toml", "junk.npz", "good.npz"):
        (cwd / name).symlink_to(workdir / name)
    code, _, _ = run_cli(argv, cwd)
    event(f"{argv[0]} exit {code}")
