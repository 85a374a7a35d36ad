"""Brain files (evosim/world/brainfile.py): read without running code, checked against the
scenario, and ``[evolution] seed_brain`` seeding a world (files written with evosim.torch)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from evosim import World, load_scenario  # noqa: E402
from evosim.cli import main  # noqa: E402
from evosim.errors import BrainFileError  # noqa: E402
from evosim.torch import BRAIN_FORMAT, load_brain, policy_module, save_brain  # noqa: E402
from tests.helpers import assert_states_equal, small_scenario, tiny_scenario  # noqa: E402


def test_wrong_shape_brain_file_is_a_clear_error(tmp_path):
    classic = load_scenario("classic")
    path = save_brain(tmp_path / "b.pt", classic, policy_module(
        classic, np.zeros(classic.genome_length, np.float32)))
    narrower = small_scenario(brain={"hidden": 8})
    with pytest.raises(BrainFileError, match=r"b\.pt: brain shape does not fit.*16 hidden.*8 hid"):
        load_brain(path, narrower)
    more_eyes = small_scenario(vision={"channels": ["mine", "fruit", "edge"]})
    with pytest.raises(BrainFileError, match=r"b\.pt: .*channels \['mine', 'fruit', 'edge'\]"):
        load_brain(path, more_eyes)

    # Metadata that lies about the tensors is caught too.
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["0.weight"] = torch.zeros(16, 30)
    torch.save(payload, tmp_path / "lying.pt")
    with pytest.raises(BrainFileError, match=r"lying\.pt: 0\.weight: expected shape \[16, 32\]"):
        load_brain(tmp_path / "lying.pt", classic)



def _plant_marker(path: str) -> str:
    Path(path).write_text("code ran")
    return "pwned"


class _Evil:
    """Unpickling this would call _plant_marker: a brain file must never do that."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (_plant_marker, (str(self.marker),))


def test_malicious_brain_file_is_refused_and_runs_nothing(tmp_path):
    scenario = load_scenario("classic")
    marker = tmp_path / "marker.txt"
    evil_zip = tmp_path / "evil.pt"
    torch.save({"format": BRAIN_FORMAT, "schema": 1, "meta": _Evil(marker),
                "state_dict": {}}, evil_zip)
    evil_pickle = tmp_path / "evil.pkl"
    evil_pickle.write_bytes(pickle.dumps(_Evil(marker)))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a brain at all")

    for path in (evil_zip, evil_pickle):
        with pytest.raises(BrainFileError, match="refused for safety") as exc:
            load_brain(path, scenario)
        assert str(path) in str(exc.value)
    with pytest.raises(BrainFileError, match=r"garbage\.pt: not a readable evosim brain file"):
        load_brain(garbage, scenario)
    with pytest.raises(BrainFileError, match="no such brain file"):
        load_brain(tmp_path / "missing.pt", scenario)
    assert not marker.exists()

    # Through a scenario's seed_brain as well.
    seeded = small_scenario(evolution={"seed_brain": str(evil_zip)})
    with pytest.raises(BrainFileError, match="refused for safety"):
        World(seeded, seed=0)
    assert not marker.exists()


# ---------------------------------------------------------------- seed_brain


@pytest.fixture
def brain_file(tmp_path) -> tuple[Path, np.ndarray]:
    scenario = load_scenario("classic")
    rng = np.random.default_rng(7)
    genome = rng.standard_normal(scenario.genome_length).astype(np.float32)
    genome[-1] = np.float32(2.75)
    path = save_brain(tmp_path / "brains" / "seed.pt", scenario, policy_module(scenario, genome))
    return path, genome


def test_seed_brain_relative_path_and_mutated_copies(tmp_path, brain_file):
    path, genome = brain_file
    toml = tmp_path / "seeded.toml"
    toml.write_text('[robots]\ncount = 20\n[evolution]\nseed_brain = "brains/seed.pt"\n'
                    'mutation_sigma = 0.1\n')
    scenario = load_scenario(toml)
    assert scenario.evolution.seed_brain == str(path.resolve())

    world = World(scenario, seed=11)
    g = np.asarray(world.state.genome)
    assert g[0].tobytes() == genome.tobytes()  # slot 0: the brain itself
    noise = g[1:, :-1].astype(np.float64) - genome[:-1]
    assert np.all(noise != 0)  # every other slot is a mutated copy
    assert 0.08 < noise.std() < 0.12  # with the scenario's sigma
    assert np.all((g[:, -1] >= 0) & (g[:, -1] <= scenario.robots.speed_limit))

    same = World(scenario, seed=11)
    assert np.array_equal(np.asarray(same.state.genome), g)
    other = World(scenario, seed=12)
    assert not np.array_equal(np.asarray(other.state.genome), g)
    world.step(200)
    same.step(100)
    same.step(100)
    assert_states_equal(world, same)

    # A checkpoint of a seeded world resumes without the brain file.
    saved = world.save(tmp_path / "seeded.npz")
    path.unlink()
    loaded = World.load(saved)
    loaded.step(50)
    world.step(50)
    assert np.array_equal(np.asarray(loaded.state.genome), np.asarray(world.state.genome))


def test_seed_brain_must_fit_and_exist(tmp_path, brain_file):
    path, _ = brain_file
    narrow = small_scenario(brain={"hidden": 4}, evolution={"seed_brain": str(path)})
    with pytest.raises(BrainFileError, match=r"seed\.pt: brain shape does not fit"):
        World(narrow, seed=0)
    missing = small_scenario(evolution={"seed_brain": str(tmp_path / "nope.pt")})
    with pytest.raises(BrainFileError, match=r"nope\.pt: no such brain file"):
        World(missing, seed=0)
    assert main(["evolve", str(_toml(tmp_path, "nope.pt")), "--steps", "5", "--quiet",
                 "--out", str(tmp_path / "run")]) == 2


@pytest.mark.parametrize("problem", ["missing", "wrong shape"])
def test_evolve_checks_seed_brain_before_making_the_run_folder(tmp_path, brain_file, capsys,
                                                              problem):
    path, _ = brain_file
    toml = tmp_path / "s.toml"
    if problem == "missing":
        toml.write_text(f'[evolution]\nseed_brain = "{tmp_path / "nope.pt"}"\n')
        needle = "nope.pt: no such brain file"
    else:
        toml.write_text(f'[brain]\nhidden = 4\n[evolution]\nseed_brain = "{path}"\n')
        needle = "seed.pt: brain shape does not fit"
    new, empty = tmp_path / "new-run", tmp_path / "empty-run"
    empty.mkdir()
    for out in (new, empty):
        capsys.readouterr()
        assert main(["evolve", str(toml), "--steps", "5", "--quiet", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err
    assert not new.exists()  # so the same command can simply be run again
    assert list(empty.iterdir()) == []


def test_evaluate_of_a_seeded_run_has_a_random_arm_and_needs_no_brain(tmp_path, brain_file,
                                                                      capsys):
    from evosim.evolve.evaluate import evaluation_scenario

    path, genome = brain_file
    toml = tmp_path / "seeded.toml"
    toml.write_text(f'[robots]\ncount = 20\n[evolution]\nseed_brain = "{path}"\n')
    out = tmp_path / "run"
    assert main(["evolve", str(toml), "--steps", "300", "--seed", "3", "--quiet",
                 "--out", str(out)]) == 0
    final = out / "world-000" / "final.npz"
    source = World.load(final)
    frozen = evaluation_scenario(source.scenario, source.step_count)
    assert frozen.evolution.seed_brain is None
    random_arm = np.asarray(World(frozen, seed=source.seed).state.genome)
    assert not np.any(np.all(random_arm == genome, axis=1))  # not the brain, nor copies of it
    assert np.abs(random_arm[:, :-1] - genome[:-1]).mean() > 0.5
    path.unlink()  # evaluating must not need the brain file (or torch)
    capsys.readouterr()
    assert main(["evaluate", str(final), "--steps", "100", "--seeds", "2", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"evolved", "random"}


def _toml(tmp_path: Path, brain: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(f'[evolution]\nseed_brain = "{brain}"\n')
    return path


@pytest.mark.parametrize(("kind", "needle"), [
    ("sparse", "plain data (torch._utils._rebuild_sparse_tensor)"),
    ("meta", "plain data (torch._utils._rebuild_meta_tensor_no_storage)"),
    ("complex", "plain data (torch.ComplexFloatStorage)"),
    ("speed_complex", "plain data (torch.ComplexFloatStorage)"),
])
def test_odd_tensors_in_brain_files_are_refused(tmp_path, kind, needle):
    from evosim.torch import BRAIN_FORMAT, BRAIN_SCHEMA, brain_metadata, load_brain, policy_module

    sc = tiny_scenario()
    state = dict(policy_module(sc, World(sc, seed=0).state.genome[0]).state_dict())
    w = state["0.weight"]
    state["0.weight"] = {"sparse": w.to_sparse(), "meta": torch.empty(w.shape, device="meta"),
                         "complex": w.to(torch.complex64), "speed_complex": w}[kind]
    if kind == "speed_complex":
        state["max_speed"] = state["max_speed"].to(torch.complex64)
    path = tmp_path / "b.pt"
    torch.save({"format": BRAIN_FORMAT, "schema": BRAIN_SCHEMA, "meta": brain_metadata(sc),
                "state_dict": state}, path)
    with pytest.raises(BrainFileError) as info:
        load_brain(path, sc)
    assert needle in str(info.value) and "b.pt" in str(info.value), str(info.value)
