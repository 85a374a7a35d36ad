"""The DCT genome encoding: layout, decode against explicit DCT math, worlds and checkpoints."""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pytest

from evosim.errors import EvosimError
from evosim.scenario.genome import GenomeLayout, dct_basis
from evosim.world import World
from evosim.world.checkpoint import load_checkpoint
from tests.helpers import assert_states_equal, module_actions, small_scenario
from tests.naive import engine_brains


def dct_scenario(k: int = 3, **tables):
    return small_scenario(brain={"encoding": "dct", "dct_coefficients": k},
                          robots={"count": 12}, **tables)


def reference_dct_matrix(R: int) -> np.ndarray:
    """The orthonormal DCT-II matrix D [R, R]: D[k, n] = s_k cos(pi (n + 1/2) k / R)."""
    D = np.zeros((R, R))
    for k in range(R):
        s = math.sqrt(1.0 / R) if k == 0 else math.sqrt(2.0 / R)
        for n in range(R):
            D[k, n] = s * math.cos(math.pi * (n + 0.5) * k / R)
    return D


def test_basis_is_the_orthonormal_dct_and_its_rows_are_orthonormal():
    R = 16
    D = reference_dct_matrix(R)
    assert np.allclose(dct_basis(R, R), D, atol=1e-14)
    assert np.allclose(D @ D.T, np.eye(R), atol=1e-12)  # DCT-III = D.T is the inverse
    assert np.array_equal(dct_basis(R, 3), dct_basis(R, R)[:3])


def test_layout_lengths_and_offsets():
    sc = dct_scenario(2)
    lay = sc.genome_layout
    R, C, H = sc.vision.rays, len(sc.vision.channels), sc.brain.hidden
    assert lay.b1 == H * C * 2 and lay.length == H * C * 2 + 3 * H + 2 + 1
    assert sc.genome_length == 115 and sc.genome_length <= small_scenario().genome_length / 4
    assert lay.decoded == GenomeLayout(R * C, H)
    assert small_scenario().genome_layout.dct == 0
    g = np.random.default_rng(3).normal(size=lay.length).astype(np.float32)
    parts = lay.split(g)  # the decoded brain's parts
    assert parts[0].shape == (H, R * C)
    assert np.array_equal(np.concatenate([np.ravel(x) for x in parts]),
                          lay.decode(g))


def test_decode_matches_reference_math():
    sc = dct_scenario(5)
    lay = sc.genome_layout
    R, C, H, K = sc.vision.rays, len(sc.vision.channels), sc.brain.hidden, 5
    g = np.random.default_rng(0).normal(size=lay.length).astype(np.float32)
    out = lay.decode(g)
    coef = g[:H * C * K].astype(np.float64).reshape(H, C, K)
    full = np.zeros((H, C, R))
    full[:, :, :K] = coef
    w1 = full @ reference_dct_matrix(R)  # DCT-III of the zero-padded coefficients
    w1 = w1.transpose(0, 2, 1).reshape(H, R * C)  # input r*C + c
    d = lay.decoded
    assert np.allclose(out[:d.b1].reshape(H, R * C), w1, rtol=1e-6, atol=1e-6)
    assert np.array_equal(out[d.b1:], g[lay.b1:])  # b1, W2, b2 and the speed gene as they are


def test_all_coefficients_decode_to_any_weights():
    """K = R: every W1 is reachable (the DCT is invertible)."""
    sc = small_scenario(brain={"encoding": "dct", "dct_coefficients": 16})
    lay = sc.genome_layout
    H, R, C = sc.brain.hidden, sc.vision.rays, len(sc.vision.channels)
    w1 = np.random.default_rng(1).normal(size=(H, R, C))
    coef = np.einsum("hrc,kr->hck", w1, reference_dct_matrix(R))
    g = np.zeros(lay.length, np.float32)
    g[:lay.b1] = coef.reshape(-1)
    out = lay.decode(g)[:lay.decoded.b1].reshape(H, R, C)
    assert np.allclose(out, w1, atol=1e-5)


def test_too_many_coefficients_is_one_line():
    with pytest.raises(EvosimError, match=r"brain.dct_coefficients.*at most vision.rays \(16\)"):
        small_scenario(brain={"encoding": "dct", "dct_coefficients": 17})


def _decoded_all(world):
    return engine_brains(world.scenario.genome_layout, world.state.genome)


def test_direct_worlds_run_their_genomes_with_w1_input_major():
    """Direct worlds decode too (W1 transposed), at birth, never per tick."""
    world = World(small_scenario(), seed=4)
    world.step(800)
    assert world.counters["births"] + world.counters["random_spawns"] > 0
    assert np.array_equal(world._scratch.weights, _decoded_all(world))


def test_world_runs_decoded_brains_and_redecodes_every_birth():
    world = World(dct_scenario(3), seed=2)
    assert np.array_equal(world._scratch.weights, _decoded_all(world))
    world.step(1500)
    assert world.counters["births"] > 0
    # Every genome placed since (births, spawns) was decoded when it was placed.
    assert np.array_equal(world._scratch.weights, _decoded_all(world))


def _engine_actions(scenario, genomes, obs):
    from evosim.kernels.brain import decide_all
    from evosim.kernels.step import prepare
    from evosim.world.kernel_args import make_params, make_schedule, make_scratch
    from evosim.world.state import WorldState

    state = WorldState.empty(scenario)
    state.genome[:] = genomes
    params = make_params(scenario)
    scratch = make_scratch(scenario, params)
    prepare(state, params, make_schedule(scenario), scratch, False)
    scratch.obs[:] = obs
    decide_all(state, params, scratch)
    return scratch.actions.copy()


def test_actions_are_the_decoded_direct_brain():
    """A dct brain acts exactly as the direct brain of its decoded genome."""
    sc = dct_scenario(4)
    direct = small_scenario(robots={"count": 12})
    rng = np.random.default_rng(7)
    g = rng.normal(size=(12, sc.genome_length)).astype(np.float32)
    obs = rng.random((12, sc.vision.rays, len(sc.vision.channels))).astype(np.float32)
    obs[obs < 0.5] = 0.0
    decoded = np.stack([sc.genome_layout.decode(x) for x in g])
    assert np.array_equal(_engine_actions(sc, g, obs), _engine_actions(direct, decoded, obs))


def test_same_seed_same_world_and_different_seeds_differ():
    sc = dct_scenario(2)
    a, b, c = World(sc, seed=5), World(sc, seed=5), World(sc, seed=6)
    for w in (a, b, c):
        w.step(600)
    assert_states_equal(a, b)
    assert not np.array_equal(a.state.genome, c.state.genome)


def test_set_genomes_decodes(tmp_path):
    sc = dct_scenario(3)
    world = World(sc, seed=1)
    g = np.random.default_rng(2).normal(size=world.state.genome.shape).astype(np.float32)
    world.set_genomes(g)
    assert np.array_equal(world._scratch.weights, _decoded_all(world))


def test_checkpoint_records_the_encoding_and_resumes_bit_identically(tmp_path):
    sc = dct_scenario(2)
    world = World(sc, seed=4)
    world.step(500)
    path = world.save(tmp_path / "c.npz")
    _meta, scenario, _ = load_checkpoint(path)
    assert scenario.brain.encoding == "dct" and scenario.brain.dct_coefficients == 2
    back = World.load(path)
    assert np.array_equal(back._scratch.weights, world._scratch.weights)
    world.step(300)
    back.step(300)
    assert_states_equal(world, back)


def test_checkpoint_whose_encoding_does_not_match_its_genomes_is_refused(tmp_path):
    world = World(dct_scenario(2), seed=4)
    path = world.save(tmp_path / "c.npz")
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "meta.npy":
                meta = json.loads(str(np.load(io.BytesIO(data))))
                meta["scenario"]["brain"]["encoding"] = "direct"
                buf = io.BytesIO()
                np.save(buf, np.array(json.dumps(meta, sort_keys=True)))
                data = buf.getvalue()
            dst.writestr(item, data)
    with pytest.raises(EvosimError) as exc:
        load_checkpoint(bad)
    assert "genome" in str(exc.value) and "\n" not in str(exc.value)


def test_seed_brain_and_compress_refuse_dct_with_one_line(tmp_path):
    from evosim.analysis.compress import compress_checkpoint
    from evosim.world.brainfile import genome_from_state

    sc = dct_scenario(2)
    with pytest.raises(EvosimError, match='encoding = "dct"'):
        genome_from_state(sc, {}, 1.0, "brain.pt")
    path = World(sc, seed=1).save(tmp_path / "c.npz")
    with pytest.raises(EvosimError, match="direct-encoded"):
        compress_checkpoint(path, {"jpeg": [50]}, 10, 1)


def test_torch_bridge_exports_the_decoded_weights_and_refuses_the_way_back():
    pytest.importorskip("torch")
    from evosim.torch import genome_from_module, policy_module

    sc = dct_scenario(3)
    world = World(sc, seed=9)
    world.step(200)
    ours = module_actions(sc, np.asarray(world.state.genome), world.observations())
    assert np.allclose(ours, world.actions(), atol=1e-5)
    module = policy_module(sc, world.state.genome[0])
    d = sc.genome_layout.decoded
    w1 = module.state_dict()["0.weight"].numpy()
    assert np.array_equal(w1.reshape(-1), sc.genome_layout.decode(world.state.genome[0])[:d.b1])
    with pytest.raises(EvosimError, match='encoding = "dct"'):
        genome_from_module(sc, module)
