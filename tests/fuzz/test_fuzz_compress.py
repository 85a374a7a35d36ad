"""Fuzzing ``evosim compress``: generated lists of its options (read from the command's
own parser, so every option it has is fuzzed) with odd and fitting values.

The answer must be exit 0 or exit 2 with one line, in bounded time (tests.helpers.run_cli);
a plot asked for is written whole or not at all. The evaluation is stubbed (no world is
stepped) and the compression itself runs once: later valid calls get a copy of that
first result, so the fuzzer spends its time on the options and their checks.
"""

from __future__ import annotations

import argparse
import copy

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evosim import World
from evosim.commands import compress as command
from tests.helpers import TINY_TOML, examples, run_cli, small_scenario

NUMBERS = ["0", "1", "2", "3", "4", "5", "8", "16", "90", "100", "101", "255", "256", "257",
           "-1", "1.5", "", "x", "1e3", "1_000", "nan", "4096", str(2**63), "9" * 40]
PATHS = ["kept.png", "plots/kept.png", "kept.jpg", "kept", "/", "", "evolved.npz/x.png",
         "a" * 300 + ".png", "\0bad.png", "."]
CHECKPOINTS = ["evolved.npz", "evolved.npz", "evolved.npz", "junk.npz", "missing.npz",
               "tiny.toml", "/", ""]


def _options() -> list[argparse.Action]:
    parser = argparse.ArgumentParser(parents=command.parents(), add_help=False)
    command.add_arguments(parser)
    return [a for a in parser._actions if a.option_strings]


OPTIONS = _options()


@st.composite
def compress_argvs(draw) -> list[str]:
    argv = ["compress", draw(st.sampled_from(CHECKPOINTS))]
    for action in draw(st.lists(st.sampled_from(OPTIONS), max_size=4, unique=True)):
        argv.append(action.option_strings[-1])
        if action.nargs == 0:  # a switch
            continue
        if action.choices is not None:
            pool = st.sampled_from([*action.choices, "bogus", ""])
        elif action.dest == "out":
            pool = st.sampled_from(PATHS)
        else:
            pool = st.sampled_from(NUMBERS)
        argv += draw(st.lists(pool, min_size=1, max_size=3 if action.nargs == "+" else 1))
    if draw(st.integers(0, 3)):  # mostly quick: few, short evaluations
        argv += ["--steps", "5", "--seeds", "1", "--quiet"]
    return argv


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("compress")
    (root / "tiny.toml").write_text(TINY_TOML)
    (root / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    scenario = small_scenario(robots={"count": 8}, mines={"count": 5}, fruit={"count": 5},
                              vision={"rays": 8})
    world = World(scenario, seed=0)
    world.step(300)
    world.save(root / "evolved.npz")
    return root


@pytest.fixture(scope="module")
def compressed_once():
    """compress_checkpoint runs for real the first time, then returns copies of that
    result; the evaluation of each population is stubbed."""
    import evosim.analysis.compress as compress
    from evosim.evolve import evaluate

    first: list = []
    real = compress.compress_checkpoint

    def once(*args, **kwargs):
        if not first:
            first.append(real(*args, **kwargs))
        return copy.deepcopy(first[0])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compress, "measure", lambda world, steps: dict.fromkeys(evaluate.KEYS,
                                                                                0.0))
        patch.setattr(compress, "compress_checkpoint", once)
        yield first


@settings(max_examples=examples(200), suppress_health_check=list(HealthCheck))
@given(argv=compress_argvs())
def test_generated_compress_options_exit_0_or_one_line_2(workdir, compressed_once,
                                                           tmp_path_factory, argv):
    cwd = tmp_path_factory.mktemp("cwd")
    for name in ("tiny.toml", "junk.npz", "evolved.npz"):
        (cwd / name).symlink_to(workdir / name)
    code, out, _ = run_cli(argv, cwd)
    event(f"exit {code}")
    if "--out" in argv:
        target = argv[argv.index("--out") + 1]
        usable = target and "\0" not in target and len(target) < 255
        png = cwd / target if usable else None
        if code == 0:
            assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        elif png is not None and png.suffix == ".png" and png.parent.is_dir():
            assert not png.exists()  # nothing half-written under the plot's name
    if code == 0 and "--json" in argv:
        assert out.lstrip().startswith("{")
