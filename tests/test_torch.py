"""evosim.torch: brains as PyTorch modules (the same actions as the engine), export."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from evosim import World, load_scenario  # noqa: E402
from evosim.cli import main  # noqa: E402
from evosim.errors import BrainFileError, EvosimError  # noqa: E402
from evosim.kernels.brain import decide_all  # noqa: E402
from evosim.kernels.step import prepare  # noqa: E402
from evosim.torch import (  # noqa: E402
    BRAIN_FORMAT,
    BrainModule,
    best_slot,
    genome_from_module,
    load_brain,
    load_brain_genome,
    policy_module,
    read_brain_file,
)
from evosim.world.kernel_args import make_params, make_schedule, make_scratch  # noqa: E402
from evosim.world.state import WorldState  # noqa: E402
from tests.helpers import examples, module_actions, small_scenario  # noqa: E402

TOLERANCE = 1e-5


def engine_actions(scenario, genomes: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """The engine's brain kernel on arbitrary observations (not only ones a world produced)."""
    state = WorldState.empty(scenario)
    state.genome[:] = genomes
    params = make_params(scenario)
    scratch = make_scratch(scenario, params)
    prepare(state, params, make_schedule(scenario), scratch, False)
    scratch.obs[:] = obs
    decide_all(state, params, scratch)
    return scratch.actions.copy()


# ---------------------------------------------------------------- equivalence


@settings(max_examples=examples(40))
@given(
    rays=st.integers(1, 24),
    channels=st.lists(st.sampled_from(["mine", "fruit", "robot", "edge"]), min_size=1,
                      max_size=4, unique=True),
    hidden=st.integers(1, 40),
    weight_std=st.floats(0.05, 3.0),
    zero_fraction=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_module_matches_engine_on_random_observations(rays, channels, hidden, weight_std,
                                                      zero_fraction, seed):
    scenario = small_scenario(robots={"count": 6}, vision={"rays": rays, "channels": channels},
                              brain={"hidden": hidden})
    rng = np.random.default_rng(seed)
    N, G = scenario.robots.count, scenario.genome_length
    genomes = (rng.standard_normal((N, G)) * weight_std).astype(np.float32)
    genomes[:, -1] = rng.uniform(0, scenario.robots.speed_limit, N).astype(np.float32)
    obs = rng.uniform(0, 1, (N, rays, len(scenario.vision.channels))).astype(np.float32)
    obs[rng.random(obs.shape) < zero_fraction] = 0.0

    want = engine_actions(scenario, genomes, obs)
    got = module_actions(scenario, genomes, obs)
    assert got.dtype == np.float32 and got.shape == (N, 2)
    assert np.abs(got - want).max() <= TOLERANCE


@pytest.mark.parametrize("channels", [["mine", "fruit"], ["mine", "fruit", "robot", "edge"]])
def test_module_matches_world_actions_on_real_observations(channels):
    scenario = small_scenario(vision={"channels": channels})
    world = World(scenario, seed=3)
    for _ in range(3):
        world.step(150)
        obs = world.observations()
        assert np.count_nonzero(obs) > 0  # robots do see things
        got = module_actions(scenario, np.asarray(world.state.genome), obs)
        assert np.abs(got - world.actions()).max() <= TOLERANCE


def test_module_runs_a_batch_and_has_gradients():
    scenario = load_scenario("classic")
    world = World(scenario, seed=1)
    world.step(50)
    obs = torch.from_numpy(world.observations().reshape(scenario.robots.count, -1))
    module = policy_module(scenario, world.state.genome[4])
    out = module(obs)
    assert out.shape == (scenario.robots.count, 2)
    assert torch.all(out[:, 0].abs() <= 1) and torch.all((out[:, 1] >= 0) & (out[:, 1] <= 1))
    out.sum().backward()
    assert module[0].weight.grad is not None and module[0].weight.grad.shape == (16, 32)


# ---------------------------------------------------------------- round trip


def test_genome_module_genome_is_bitwise_exact():
    scenario = load_scenario("classic")
    world = World(scenario, seed=2)
    world.step(100)
    for genome in np.asarray(world.state.genome):
        back = genome_from_module(scenario, policy_module(scenario, genome))
        assert back.dtype == np.float32
        assert back.tobytes() == genome.tobytes()


def test_speed_gene_is_the_max_speed_buffer():
    scenario = load_scenario("classic")
    genome = np.arange(scenario.genome_length, dtype=np.float32) / 7
    module = policy_module(scenario, genome)
    assert "max_speed" in module.state_dict()
    assert module.max_speed.dtype == torch.float32
    assert module.max_speed.item() == genome[-1]
    assert genome_from_module(scenario, module, max_speed=2.5)[-1] == np.float32(2.5)


def test_plain_sequential_converts_with_explicit_max_speed():
    scenario = load_scenario("classic")
    torch.manual_seed(0)
    plain = torch.nn.Sequential(torch.nn.Linear(32, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    with pytest.raises(BrainFileError, match="max_speed"):
        genome_from_module(scenario, plain)
    genome = genome_from_module(scenario, plain, max_speed=1.5)
    module = policy_module(scenario, genome)
    x = torch.rand(5, 32)
    with torch.no_grad():
        z = plain(x)
        assert torch.equal(module(x), torch.stack((z[:, 0].tanh(), z[:, 1].sigmoid()), 1))


def test_wrong_genome_or_module_shape_is_a_clear_error():
    scenario = load_scenario("classic")
    with pytest.raises(EvosimError, match=r"genome: expected shape \[563\]"):
        policy_module(scenario, np.zeros(10, np.float32))
    other = BrainModule(32, 8)
    with pytest.raises(BrainFileError, match=r"0.weight: expected shape \[16, 32\].*got \[8, 32\]"):
        genome_from_module(scenario, other)


# ---------------------------------------------------------------- export and files


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    world = World(small_scenario(robots={"count": 12}), seed=4)
    world.step(600)
    return world.save(tmp_path_factory.mktemp("ckpt") / "run.npz")


def test_best_slot_follows_the_documented_rule():
    class S:
        robot_lineage = np.array([5, 5, 9, 9, 9, 2])
        robot_fruit = np.array([4, 1, 2, 2, 1, 3])

    # Lineages 9 and 5 ate 5 each (lineage 2: 3): ties go to own fruit -> slot 0 (4 fruit).
    assert best_slot(S) == 0
    S.robot_fruit = np.array([4, 1, 2, 2, 1, 6])
    assert best_slot(S) == 5  # lineage 2 (one robot, 6 fruit) beats lineages of 5
    S.robot_fruit = np.array([1, 1, 2, 2, 1, 1])
    assert best_slot(S) == 2  # lineage 9 ate 5; slots 2 and 3 tie on own fruit: lowest slot
    S.robot_fruit = np.zeros(6, int)
    assert best_slot(S) == 0


def test_export_best_through_cli_and_load_back(checkpoint, tmp_path, capsys):
    out = tmp_path / "brains" / "best.pt"
    assert main(["export", str(checkpoint), "--best", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    world = World.load(checkpoint)
    slot = best_slot(world.state)
    assert world.state.robot_fruit.max() > 0  # the test world did evolve a little

    genome = load_brain_genome(out, world.scenario)
    assert genome.tobytes() == np.asarray(world.state.genome[slot]).tobytes()

    meta, _ = read_brain_file(out)
    assert meta["rays"] == 16 and meta["channels"] == ["mine", "fruit"] and meta["hidden"] == 16
    assert meta["source"]["slot"] == slot and meta["source"]["chosen_by"] == "best"
    assert "evosim_version" in meta and "max_speed" in meta["speed_gene"]
    raw = torch.load(out, weights_only=True)
    assert raw["format"] == BRAIN_FORMAT and set(raw["state_dict"]) == {
        "0.weight", "0.bias", "2.weight", "2.bias", "max_speed"}

    module = load_brain(out, world.scenario)
    obs = world.observations()
    with torch.no_grad():
        got = module(torch.from_numpy(obs[slot].reshape(1, -1)))[0].numpy()
    assert np.abs(got - world.actions()[slot]).max() <= TOLERANCE


def test_export_slot_and_bad_arguments(checkpoint, tmp_path, capsys):
    out = tmp_path / "slot3.pt"
    assert main(["export", str(checkpoint), "--slot", "3", "--out", str(out)]) == 0
    world = World.load(checkpoint)
    assert load_brain_genome(out, world.scenario).tobytes() == \
        np.asarray(world.state.genome[3]).tobytes()
    before = out.read_bytes()

    assert main(["export", str(checkpoint), "--slot", "4", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main(["export", str(checkpoint), "--slot", "4", "--out", str(out), "--force"]) == 0
    assert load_brain_genome(out, world.scenario).tobytes() == \
        np.asarray(world.state.genome[4]).tobytes()

    assert main(["export", str(checkpoint), "--slot", "12", "--out", str(tmp_path / "x.pt")]) == 2
    assert "expected a slot from 0 to 11, got 12" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "none.npz"), "--best", "--out",
                 str(tmp_path / "y.pt")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["export", str(checkpoint), "--out", str(tmp_path / "z.pt")])
    assert exc.value.code == 2  # one of --slot / --best is required
    assert not (tmp_path / "x.pt").exists() and not (tmp_path / "z.pt").exists()


# ---------------------------------------------------------------- without torch


def test_core_runs_without_torch_and_bridge_says_how_to_install():
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None  # as if torch were not installed
        import evosim, evosim.cli
        from evosim import World, load_scenario
        w = World(load_scenario("classic"), seed=0)
        w.step(20)
        w.actions()
        evosim.cli.build_parser()
        assert evosim.cli.main(["export", "x.npz", "--best", "--out", "y.pt"]) == 2
        try:
            import evosim.torch
        except evosim.EvosimError as exc:
            print("MESSAGE:", exc)
        else:
            raise SystemExit("evosim.torch imported without torch")
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" \
        in done.stdout
    assert "evosim[torch]" not in done.stdout  # that name on the index is another project
    assert "evosim export: error: evosim.torch needs PyTorch" in done.stderr


def test_core_import_does_not_import_torch():
    code = ("import sys, evosim, evosim.cli, evosim.commands.evolve; "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
