"""The architecture holds: --help imports no heavy library, registries agree."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from evosim.errors import ScenarioError
from evosim.kernels import layout
from evosim.scenario import CHANNELS, load_scenario

HEAVY = ("numba", "pygame", "torch", "matplotlib")
COMMANDS = ("evolve", "resume", "evaluate", "compress", "plot", "story", "export", "brain",
            "watch", "record", "bench")


@pytest.mark.parametrize("argv", [["--help"], *[[c, "--help"] for c in COMMANDS]])
def test_help_imports_no_heavy_library_and_is_quick(argv) -> None:
    code = (
        "import sys, json, contextlib, io\n"
        "from evosim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
        "print(len(out.getvalue()))\n"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    loaded, help_chars = done.stdout.split("\n")[:2]
    assert json.loads(loaded) == []
    assert int(help_chars) > 100  # the help was printed
    assert elapsed < 3.0  # a whole interpreter start; well under a second on a quiet machine


def test_kernel_channel_indices_follow_the_registry() -> None:
    assert [layout.CH_MINE, layout.CH_FRUIT, layout.CH_ROBOT, layout.CH_EDGE] == [
        CHANNELS.index(name) for name in ("mine", "fruit", "robot", "edge")]


def test_an_unknown_channel_is_refused_with_the_registry_listed(tmp_path) -> None:
    path = tmp_path / "old.toml"
    path.write_text('[vision]\nchannels = ["mine", "wall"]\n')
    with pytest.raises(ScenarioError, match=r"vision.channels: expected a list of 'mine', "
                                            r"'fruit', 'robot', 'edge', got \['mine', 'wall'\]"):
        load_scenario(path)


def test_genome_layout_offsets() -> None:
    scenario = load_scenario("classic")
    g = scenario.genome_layout
    H, n_in = scenario.brain.hidden, scenario.n_inputs
    assert (g.w1, g.b1, g.w2, g.b2, g.speed) == (0, H * n_in, H * n_in + H, H * n_in + 3 * H,
                                                  H * n_in + 3 * H + 2)
    assert g.length == scenario.genome_length
