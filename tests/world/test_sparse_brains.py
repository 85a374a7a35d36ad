"""Sparse brains (``[brain] connections = "evolved"``): the connection mask in the genome,
its decoding, mutation (pruning and regrowth), random masks, the life cost, worlds,
checkpoints and the bridges."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from evosim import load_scenario
from evosim.errors import EvosimError
from evosim.kernels.life import mutate_genome
from evosim.scenario.genome import GenomeLayout
from evosim.world import World
from evosim.world.checkpoint import load_checkpoint
from tests import naive
from tests.helpers import (
    assert_one_line_error,
    assert_states_equal,
    module_actions,
    run_cli_child,
    small_scenario,
)
from tests.naive import engine_brains


def sparse_scenario(**brain):
    """12 robots whose random brains have half their connections."""
    return small_scenario(brain={"connections": "evolved", "initial_connections": 0.5,
                                 **brain}, robots={"count": 12})


def _decoded_all(world: World) -> np.ndarray:
    return engine_brains(world.scenario.genome_layout, world.state.genome)


# ---------------------------------------------------------------- layout and decoding


def test_layout_puts_one_mask_gene_per_connection_before_the_speed_gene():
    sc = sparse_scenario()
    lay = sc.genome_layout
    H, n_in = sc.brain.hidden, sc.n_inputs
    dense = small_scenario().genome_layout
    assert lay.masked and not dense.masked and dense.mask_length == 0
    assert (lay.w1, lay.b1, lay.w2, lay.b2) == (dense.w1, dense.b1, dense.w2, dense.b2)
    assert lay.mask == dense.speed and lay.mask_length == H * n_in + 2 * H == 544
    assert lay.speed == lay.length - 1 == dense.speed + 544
    assert sc.genome_length == 1107 and small_scenario().genome_length == 563
    assert lay.decoded == dense == GenomeLayout(n_in, H)
    both = sparse_scenario(encoding="dct", dct_coefficients=2).genome_layout
    assert both.mask == both.b2 + 2 and both.length == 115 + 544
    assert both.decoded == dense


@pytest.mark.parametrize("brain", [{}, {"encoding": "dct", "dct_coefficients": 3}])
def test_decode_is_the_reference_weights_times_the_mask(brain):
    sc = sparse_scenario(**brain)
    lay = sc.genome_layout
    rng = np.random.default_rng(4)
    g = rng.normal(size=(6, lay.length)).astype(np.float32)
    g[:, lay.mask:lay.speed] = rng.random((6, lay.mask_length)) < 0.4
    w1, b1, w2, b2 = naive.decoded_weights(sc, g)
    want = np.concatenate([w1.reshape(6, -1), b1, w2.reshape(6, -1), b2, g[:, -1:]], axis=1)
    got = np.stack([lay.decode(x) for x in g])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    d = lay.decoded
    conn = np.concatenate([got[:, d.w1:d.b1], got[:, d.w2:d.b2]], axis=1)
    off = g[:, lay.mask:lay.speed] == 0.0
    assert off.any() and (conn[off] == 0.0).all()  # pruned: exactly 0.0, never -0.0 noise
    assert np.array_equal(np.signbit(conn[off]), np.zeros(off.sum(), bool))
    on = ~off
    if not lay.dct:  # direct: the active weights are the genes themselves, bit for bit
        genes = np.concatenate([g[:, lay.w1:lay.b1], g[:, lay.w2:lay.b2]], axis=1)
        assert np.array_equal(conn[on], genes[on])
    assert np.array_equal(lay.active(g), on.mean(axis=1))


def test_a_dense_layout_decodes_to_itself_and_counts_every_connection():
    lay = small_scenario().genome_layout
    g = np.random.default_rng(0).normal(size=(3, lay.length)).astype(np.float32)
    assert not lay.decodes and np.array_equal(lay.decode(g[0]), g[0])
    assert (lay.active(g) == 1.0).all()


# ---------------------------------------------------------------- mutation


def _mutants(lay: GenomeLayout, src: np.ndarray, n: int, rate: float, sigma: float,
             flip: float, key: int = 12345, regrowth: float = 1.0) -> np.ndarray:
    out = np.empty((n, lay.length), np.float32)
    for i in range(n):
        mutate_genome(src, out[i], rate, sigma, 10.0, np.uint64(key), 7, i, lay.mask,
                      lay.mask_length, flip, regrowth, sigma)
    return out


def test_mutation_flips_mask_genes_at_the_rate_and_never_adds_noise_to_them():
    lay = sparse_scenario().genome_layout
    rng = np.random.default_rng(1)
    src = rng.normal(size=lay.length).astype(np.float32)
    src[lay.mask:lay.speed] = rng.random(lay.mask_length) < 0.5
    src[-1] = 2.0
    n, flip = 200, 0.05
    out = _mutants(lay, src, n, 1.0, 0.15, flip)
    mask = out[:, lay.mask:lay.speed]
    assert set(np.unique(mask).tolist()) <= {0.0, 1.0}  # flipped or kept, never noised
    flipped = mask != src[lay.mask:lay.speed]
    # 200 x 544 = 108,800 coins at p = 0.05: std 0.00066; 0.01 is over 15 std.
    assert abs(flipped.mean() - flip) < 0.01
    # Both ways: pruning (1 -> 0) and regrowth (0 -> 1).
    was_on = src[lay.mask:lay.speed] > 0.5
    assert flipped[:, was_on].any() and flipped[:, ~was_on].any()
    # Every other gene got its Gaussian noise (rate 1.0), the speed gene included.
    rest = np.r_[0:lay.mask, lay.speed]
    assert (out[:, rest] != src[rest]).mean() > 0.99
    # No flips at rate 0: the mask is copied exactly, whatever the noise.
    kept = _mutants(lay, src, 50, 1.0, 5.0, 0.0)
    assert np.array_equal(kept[:, lay.mask:lay.speed],
                          np.broadcast_to(src[lay.mask:lay.speed], (50, lay.mask_length)))
    # No noise at sigma 0: only the mask changes.
    only = _mutants(lay, src, 50, 1.0, 0.0, 0.3)
    assert np.array_equal(only[:, rest], np.broadcast_to(src[rest], (50, len(rest))))
    assert (only[:, lay.mask:lay.speed] != src[lay.mask:lay.speed]).any()


@pytest.mark.parametrize("regrowth", [0.0, 0.25, 1.0, 3.0])
def test_pruned_connections_grow_back_at_regrowth_times_the_flip_rate(regrowth):
    lay = sparse_scenario().genome_layout
    rng = np.random.default_rng(2)
    src = rng.normal(size=lay.length).astype(np.float32)
    src[lay.mask:lay.speed] = rng.random(lay.mask_length) < 0.5
    n, flip = 300, 0.04
    out = _mutants(lay, src, n, 1.0, 0.15, flip, regrowth=regrowth)
    was_on = src[lay.mask:lay.speed] > 0.5
    flipped = out[:, lay.mask:lay.speed] != src[lay.mask:lay.speed]
    pruned, grown = flipped[:, was_on].mean(), flipped[:, ~was_on].mean()
    # About 300 x 272 coins each way: the std of a share at p = 0.04 is 0.0007.
    assert abs(pruned - flip) < 0.006
    assert abs(grown - min(flip * regrowth, 1.0)) < 0.008
    if regrowth == 0.0:
        assert not flipped[:, ~was_on].any()  # nothing grows back, ever
    # The same coins decide: pruning and every other gene are as with symmetric flips.
    symmetric = _mutants(lay, src, n, 1.0, 0.15, flip, regrowth=1.0)
    sym_flipped = symmetric[:, lay.mask:lay.speed] != src[lay.mask:lay.speed]
    assert np.array_equal(flipped[:, was_on], sym_flipped[:, was_on])
    rest = np.r_[0:lay.mask, lay.speed]
    assert np.array_equal(out[:, rest], symmetric[:, rest])


def test_mutation_is_deterministic_and_leaves_dense_genomes_as_before():
    lay = sparse_scenario().genome_layout
    src = np.random.default_rng(2).normal(size=lay.length).astype(np.float32)
    src[lay.mask:lay.speed] = 1.0
    a = _mutants(lay, src, 5, 0.3, 0.2, 0.1)
    assert np.array_equal(a, _mutants(lay, src, 5, 0.3, 0.2, 0.1))
    assert not np.array_equal(a, _mutants(lay, src, 5, 0.3, 0.2, 0.1, key=99))
    # The genes before the mask draw exactly what a dense genome's would.
    dense = small_scenario().genome_layout
    d_src = np.concatenate([src[:dense.speed], src[-1:]])
    d = np.empty((5, dense.length), np.float32)
    for i in range(5):
        mutate_genome(d_src, d[i], 0.3, 0.2, 10.0, np.uint64(12345), 7, i, 0, 0, 0.1, 1.0, 0.2)
    assert np.array_equal(a[:, :lay.mask], d[:, :dense.speed])


# ---------------------------------------------------------------- random genomes


@pytest.mark.parametrize("initial", [0.0, 0.3, 1.0])
def test_random_genomes_switch_on_the_initial_fraction(initial):
    sc = small_scenario(brain={"connections": "evolved", "initial_connections": initial})
    world = World(sc, seed=3)
    lay = sc.genome_layout
    mask = world.state.genome[:, lay.mask:lay.speed]
    assert set(np.unique(mask).tolist()) <= {0.0, 1.0}
    # 50 x 544 coins: std 0.003 at p = 0.3.
    assert abs(mask.mean() - initial) < 0.02
    assert np.array_equal(world._scratch.active, mask.sum(axis=1).astype(np.int64))
    # The weight genes are drawn as in a dense world of the same seed.
    dense = World(small_scenario(), seed=3)
    assert np.array_equal(world.state.genome[:, :lay.mask],
                          dense.state.genome[:, :dense.scenario.genome_layout.speed])


def _unit_masks(world: World) -> tuple[np.ndarray, np.ndarray]:
    """(W1 mask [N, H, I], W2 mask [N, 2, H]) of a world's genomes."""
    lay = world.scenario.genome_layout
    H, n_in = lay.hidden, lay.inputs
    mask = world.state.genome[:, lay.mask:lay.speed]
    return mask[:, :H * n_in].reshape(-1, H, n_in), mask[:, H * n_in:].reshape(-1, 2, H)


@pytest.mark.parametrize(("hidden", "initial", "units"), [
    (50, 0.29, 15),  # 14.5 rounds up, though 0.29 * 50 is 14.499... in binary
    (4, 0.375, 2),   # 1.5 rounds up
    (4, 0.125, 1),   # 0.5 rounds up
    (16, 0.1, 2),    # 1.6
    (16, 0.09, 1),   # 1.44
    (6, 0.5, 3),
])
def test_units_pattern_rounds_half_up(hidden, initial, units):
    brain = {"connections": "evolved", "initial_connections": initial,
             "initial_pattern": "units", "hidden": hidden}
    assert small_scenario(brain=brain).brain.initial_units == units
    assert small_scenario(brain={**brain, "initial_pattern": "connections"}
                          ).brain.initial_units == -1


@pytest.mark.parametrize(("initial", "units"), [(0.25, 4), (0.1, 2), (0.0, 0), (1.0, 16)])
def test_units_pattern_wires_whole_hidden_units(initial, units):
    sc = small_scenario(brain={"connections": "evolved", "initial_connections": initial,
                               "initial_pattern": "units"}, robots={"count": 40})
    assert sc.brain.initial_units == units
    world = World(sc, seed=5)
    w1, w2 = _unit_masks(world)
    assert set(np.unique(w1).tolist()) | set(np.unique(w2).tolist()) <= {0.0, 1.0}
    wired = w1.all(axis=2)
    # A unit is wired whole or not at all: every input and both outputs alike.
    assert np.array_equal(wired, w1.any(axis=2))
    assert np.array_equal(w2[:, 0], wired) and np.array_equal(w2[:, 1], wired)
    assert (wired.sum(axis=1) == units).all()
    lay = sc.genome_layout
    assert np.allclose(lay.active(world.state.genome), units * (lay.inputs + 2) / 544)
    assert np.array_equal(world._scratch.active, (w1.sum((1, 2)) + w2.sum((1, 2))).astype(int))
    # The weight genes are drawn as in a dense world of the same seed.
    dense = World(small_scenario(robots={"count": 40}), seed=5)
    assert np.array_equal(world.state.genome[:, :lay.mask],
                          dense.state.genome[:, :dense.scenario.genome_layout.speed])


def test_units_pattern_draws_a_uniform_subset_per_genome():
    sc = small_scenario(brain={"connections": "evolved", "initial_connections": 0.25,
                               "initial_pattern": "units"}, robots={"count": 400})
    wired = _unit_masks(World(sc, seed=2))[0].all(axis=2)
    # Genomes differ in which units they wire ...
    assert len({tuple(row) for row in wired.tolist()}) > 300
    # ... and each unit is wired by about a quarter of them (400 genomes: std 0.022).
    assert np.abs(wired.mean(axis=0) - 0.25).max() < 0.09
    again = _unit_masks(World(sc, seed=2))[0].all(axis=2)
    assert np.array_equal(wired, again)


def test_units_pattern_is_kept_by_fresh_random_robots():
    """Robots spawned later (a death refilled at random) follow the pattern too."""
    sc = small_scenario(brain={"connections": "evolved", "initial_connections": 0.25,
                               "initial_pattern": "units"},
                        evolution={"reproduction": False}, robots={"count": 20})
    world = World(sc, seed=9)
    first = world.state.robot_id.copy()
    world.step(3000)
    assert world.counters["random_spawns"] > 0
    fresh = world.state.robot_id != first
    assert fresh.any()
    w1, w2 = _unit_masks(world)
    wired = w1.all(axis=2)
    assert (wired[fresh].sum(axis=1) == 4).all()
    assert np.array_equal(w1[fresh].any(axis=2), wired[fresh])
    assert np.array_equal(w2[fresh, 0], wired[fresh])
    assert np.array_equal(w2[fresh, 1], wired[fresh])


def test_classic_sparse_brains_start_at_a_quarter_and_only_thin():
    """The shipped classic-sparse: 4 of 16 units wired, pruning without regrowth, so no
    brain ever has more than a quarter of its connections on."""
    sc = load_scenario("classic-sparse")
    assert sc.brain.initial_units == 4 and sc.brain.connection_regrowth == 0.0
    world = World(sc, seed=1)
    on = sc.genome_layout.active(world.state.genome)
    assert np.all(on == 0.25)
    for _ in range(10):
        world.step(1000)
        assert np.all(sc.genome_layout.active(world.state.genome) <= 0.25)
    assert world.counters["births"] > 100
    assert np.any(sc.genome_layout.active(world.state.genome) < 0.25)  # pruning acts


def test_no_connections_means_only_biases_act():
    sc = small_scenario(brain={"connections": "evolved", "initial_connections": 0.0},
                        robots={"count": 6})
    world = World(sc, seed=1)
    world.step(3)
    g = world.state.genome
    lay = sc.genome_layout
    b1, b2 = g[:, lay.b1:lay.w2].astype(np.float64), g[:, lay.b2:lay.b2 + 2].astype(np.float64)
    assert (world._scratch.active == 0).all()
    # W2 pruned too: the outputs are the output biases alone, whatever is seen.
    assert b1.shape[1] == sc.brain.hidden
    want = np.stack([np.tanh(b2[:, 0]), 1 / (1 + np.exp(-b2[:, 1]))], 1)
    np.testing.assert_allclose(world.actions(), want, atol=1e-6)


# ---------------------------------------------------------------- worlds


def test_world_runs_masked_brains_and_redecodes_every_birth():
    world = World(sparse_scenario(), seed=2)
    assert np.array_equal(world._scratch.weights, _decoded_all(world))
    world.step(1500)
    assert world.counters["births"] > 0
    assert np.array_equal(world._scratch.weights, _decoded_all(world))
    lay = world.scenario.genome_layout
    assert np.array_equal(world._scratch.active,
                          np.round(lay.active(world.state.genome) * lay.connections))


def test_actions_are_the_masked_direct_brain():
    """An evolved-connections brain acts exactly as the dense brain of its decoding."""
    from tests.scenario.test_dct_encoding import _engine_actions

    sc = sparse_scenario()
    direct = small_scenario(robots={"count": 12})
    rng = np.random.default_rng(7)
    g = rng.normal(size=(12, sc.genome_length)).astype(np.float32)
    g[:, sc.genome_layout.mask:-1] = rng.random((12, sc.genome_layout.mask_length)) < 0.5
    obs = rng.random((12, sc.vision.rays, len(sc.vision.channels))).astype(np.float32)
    obs[obs < 0.5] = 0.0
    decoded = np.stack([sc.genome_layout.decode(x) for x in g])
    got = _engine_actions(sc, g, obs)
    assert np.array_equal(got, _engine_actions(direct, decoded, obs))
    np.testing.assert_allclose(got, naive.brain(sc, g, obs), atol=1e-6)


@pytest.mark.parametrize("brain", [{}, {"encoding": "dct", "dct_coefficients": 2},
                                   {"connection_cost": 0.003}])
def test_same_seed_same_world_and_different_seeds_differ(brain):
    sc = sparse_scenario(**brain)
    a, b, c = World(sc, seed=5), World(sc, seed=5), World(sc, seed=6)
    for w in (a, b, c):
        w.step(600)
    assert_states_equal(a, b)
    assert not np.array_equal(a.state.genome, c.state.genome)
    # However the steps are split.
    d = World(sc, seed=5)
    for _ in range(6):
        d.step(100)
    assert_states_equal(a, d)


def test_births_flip_their_parents_mask():
    """At flip rate 1 every offspring's mask is its parent's complement: starting from
    full masks, even generations have every connection, odd ones none."""
    sc = small_scenario(brain={"connections": "evolved", "connection_flip_rate": 1.0,
                               "initial_connections": 1.0})
    world = World(sc, seed=4)
    world.step(4000)
    gen = world.state.robot_generation
    assert (gen % 2 == 1).any() and (gen >= 2).any()
    want = np.where(gen % 2 == 0, 1.0, 0.0)
    assert np.array_equal(sc.genome_layout.active(world.state.genome), want)
    assert np.array_equal(world._scratch.active, (want * 544).astype(np.int64))


def test_set_genomes_decodes():
    sc = sparse_scenario()
    world = World(sc, seed=1)
    g = np.random.default_rng(2).normal(size=world.state.genome.shape).astype(np.float32)
    g[:, sc.genome_layout.mask:-1] = 1.0
    g[:, sc.genome_layout.mask] = 0.0
    world.set_genomes(g)
    assert np.array_equal(world._scratch.weights, _decoded_all(world))
    assert (world._scratch.active == sc.genome_layout.connections - 1).all()


# ---------------------------------------------------------------- the life cost


def _ageing_only(**brain):
    """No mines, no fruit, no metabolic cost: life runs down by 1 and the connections."""
    return small_scenario(robots={"count": 4, "lifespan": 1000, "max_life": 1000,
                                  "max_age": 0, "metabolic_cost": 0.0},
                          mines={"count": 0}, fruit={"count": 0},
                          brain={"connections": "evolved", **brain})


def test_connection_cost_drains_life_per_active_connection():
    cost = 0.001
    free, paying = World(_ageing_only(), seed=3), World(_ageing_only(connection_cost=cost),
                                                        seed=3)
    n = paying._scratch.active.copy()
    assert (n > 200).all() and np.array_equal(n, free._scratch.active)
    k = 300
    free.step(k)
    paying.step(k)
    assert (free.state.robot_life == 1000 - k).all()
    want = 1000 - k - np.floor(k * cost * n.astype(np.float64)).astype(np.int64)
    assert np.array_equal(paying.state.robot_life, want)
    assert (paying.state.robot_life < free.state.robot_life).all()


def test_connection_cost_shortens_life_and_spares_pruned_brains():
    cost = 0.002  # ~544 x 0.002 = 1.1 life per step with every connection on
    full = World(_ageing_only(connection_cost=cost, initial_connections=1.0), seed=1)
    none = World(_ageing_only(connection_cost=cost, initial_connections=0.0), seed=1)
    full.step(600)
    none.step(600)
    assert full.counters["age_deaths"] == 4  # 1000 / 2.09 per step: dead by ~479
    assert none.counters["age_deaths"] == 0 and (none.state.robot_life == 400).all()


def test_connection_cost_only_while_ageing():
    sc = small_scenario(robots={"count": 4, "ageing": False}, mines={"count": 0},
                        fruit={"count": 0},
                        brain={"connections": "evolved", "connection_cost": 0.01})
    world = World(sc, seed=0)
    life = world.state.robot_life.copy()
    world.step(200)
    assert np.array_equal(world.state.robot_life, life)


# ---------------------------------------------------------------- scenario keys


@pytest.mark.parametrize(("brain", "needle"), [
    ({"connections": "sparse"}, "brain.connections"),
    ({"connections": "evolved", "connection_flip_rate": 1.5}, "brain.connection_flip_rate"),
    ({"connections": "evolved", "initial_connections": -0.1}, "brain.initial_connections"),
    ({"connections": "evolved", "initial_pattern": "rows"}, "brain.initial_pattern"),
    ({"connections": "evolved", "connection_cost": -1.0}, "brain.connection_cost"),
    ({"connections": "evolved", "connection_cost": 1e9}, "brain.connection_cost"),
    ({"connection_cost": 0.01}, 'brain.connection_cost: expected 0 unless brain.connections'),
])
def test_bad_keys_are_one_line(brain, needle):
    with pytest.raises(EvosimError) as exc:
        small_scenario(brain=brain)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_records_the_connections_and_resumes_bit_identically(tmp_path):
    sc = sparse_scenario(connection_cost=0.001)
    world = World(sc, seed=4)
    world.step(500)
    path = world.save(tmp_path / "c.npz")
    _meta, scenario, _ = load_checkpoint(path)
    assert scenario.brain.connections == "evolved" and scenario.brain.connection_cost == 0.001
    back = World.load(path)
    assert np.array_equal(back._scratch.weights, world._scratch.weights)
    assert np.array_equal(back._scratch.active, world._scratch.active)
    world.step(700)
    back.step(700)
    assert_states_equal(world, back)


def _with_meta(path, bad, edit):
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "meta.npy":
                meta = json.loads(str(np.load(io.BytesIO(data))))
                edit(meta)
                buf = io.BytesIO()
                np.save(buf, np.array(json.dumps(meta, sort_keys=True)))
                data = buf.getvalue()
            dst.writestr(item, data)
    return bad


@pytest.mark.parametrize(("connections", "claimed"), [("evolved", "dense"),
                                                      ("dense", "evolved")])
def test_checkpoint_whose_connections_do_not_match_its_genomes_is_refused(
        tmp_path, connections, claimed):

    world = World(small_scenario(brain={"connections": connections}, robots={"count": 6}),
                  seed=4)
    path = world.save(tmp_path / "c.npz")
    bad = _with_meta(path, tmp_path / "bad.npz",
                     lambda m: m["scenario"]["brain"].update(connections=claimed))
    with pytest.raises(EvosimError) as exc:
        load_checkpoint(bad)
    assert "genome" in str(exc.value) and "\n" not in str(exc.value)
    assert_one_line_error(run_cli_child("evaluate", str(bad), "--quiet"), "genome")


def test_checkpoint_with_a_mask_gene_out_of_range_is_refused(tmp_path):
    sc = sparse_scenario()
    world = World(sc, seed=1)
    world.writable_state().genome[3, sc.genome_layout.mask + 5] = 2.0
    path = world.save(tmp_path / "c.npz")
    with pytest.raises(EvosimError, match=r"genome: expected values from 0 to 1, got 2"):
        load_checkpoint(path)


# ---------------------------------------------------------------- bridges and tools


def test_torch_bridge_exports_the_masked_weights_and_projects_the_way_back():
    pytest.importorskip("torch")
    from evosim.torch import genome_from_module, policy_module

    sc = sparse_scenario()
    world = World(sc, seed=9)
    world.step(200)
    ours = module_actions(sc, np.asarray(world.state.genome), world.observations())
    assert np.allclose(ours, world.actions(), atol=1e-5)
    lay = sc.genome_layout
    g = world.state.genome[0]
    module = policy_module(sc, g)
    w1 = module.state_dict()["0.weight"].numpy().reshape(-1)
    on = g[lay.mask:lay.mask + lay.hidden * lay.inputs] > 0.5
    assert not on.all() and (w1[~on] == 0).all() and np.array_equal(w1[on], g[:lay.b1][on])
    back = genome_from_module(sc, module)
    assert back.shape == g.shape
    assert np.array_equal(lay.decode(back), lay.decode(g))  # the same brain
    assert np.array_equal(back[lay.mask:lay.speed] > 0.5,
                          (lay.decode(g)[np.r_[0:lay.b1, lay.w2:lay.b2]] != 0))
    with pytest.raises(EvosimError, match='encoding = "dct"'):
        genome_from_module(sparse_scenario(encoding="dct", dct_coefficients=2),
                           policy_module(sparse_scenario(encoding="dct",
                                                         dct_coefficients=2),
                                         World(sparse_scenario(encoding="dct",
                                                               dct_coefficients=2),
                                               seed=1).state.genome[0]))


def test_seed_brain_starts_an_evolved_world_from_a_dense_brain(tmp_path):
    pytest.importorskip("torch")
    from evosim.torch import policy_module as module_of
    from evosim.torch import save_brain

    dense = small_scenario(robots={"count": 6})
    donor = World(dense, seed=2).state.genome[0].copy()
    lay = small_scenario().genome_layout
    donor[lay.w1:lay.w1 + 40] = 0.0  # 40 weights exactly zero: pruned in the seeded world
    path = save_brain(tmp_path / "b.pt", dense, module_of(dense, donor))
    sc = small_scenario(robots={"count": 6},
                        brain={"connections": "evolved", "connection_flip_rate": 0.0},
                        evolution={"seed_brain": str(path)})
    world = World(sc, seed=1)
    sl = sc.genome_layout
    mask = world.state.genome[:, sl.mask:sl.speed]
    assert mask.sum(axis=1).tolist() == [sl.connections - 40] * 6  # no flips at rate 0
    assert np.array_equal(sl.decode(world.state.genome[0])[:-1], donor[:-1])


def test_compress_and_the_numpy_baseline_refuse_evolved_connections(tmp_path):
    from evosim.analysis.compress import compress_checkpoint
    from evosim.bench.baseline import NumpyWorld

    sc = sparse_scenario()
    world = World(sc, seed=1)
    path = world.save(tmp_path / "c.npz")
    with pytest.raises(EvosimError, match="dense brains") as exc:
        compress_checkpoint(path, {"jpeg": [50]}, 10, 1)
    assert "\n" not in str(exc.value)
    with pytest.raises(EvosimError, match="direct dense brains"):
        NumpyWorld(sc, world.state)


def test_brain_views_see_the_masked_brain():
    from evosim.world.brainview import brain_outputs

    sc = sparse_scenario()
    world = World(sc, seed=3)
    world.step(50)
    obs = world.observations()
    for i in range(3):
        turn, throttle = brain_outputs(sc, world.state.genome[i], obs[i])
        np.testing.assert_allclose([turn, throttle], world.actions()[i], atol=1e-6)
    w1, _b1, w2, _b2, speed = sc.genome_layout.split(world.state.genome[0])
    lay = sc.genome_layout
    on = world.state.genome[0, lay.mask:lay.speed] > 0.5
    H, n_in = lay.hidden, lay.inputs
    assert (w1.reshape(-1)[~on[:H * n_in]] == 0).all()
    assert (w2.reshape(-1)[~on[H * n_in:]] == 0).all()
    assert speed == world.state.genome[0, -1]


def test_export_of_an_evolved_brain_loads_back_as_the_same_brain(tmp_path):
    pytest.importorskip("torch")
    from evosim.torch import export_brain
    from evosim.world.brainfile import load_brain_genome

    sc = sparse_scenario()
    world = World(sc, seed=5)
    world.step(300)
    path = world.save(tmp_path / "c.npz")
    source = export_brain(path, tmp_path / "b.pt", slot=2)
    genome = load_brain_genome(tmp_path / "b.pt", sc)
    lay = sc.genome_layout
    assert source["slot"] == 2
    assert np.array_equal(lay.decode(genome), lay.decode(world.state.genome[2]))
    # Into a dense scenario of the same shape: the pruned connections are weights 0.0.
    dense = small_scenario(robots={"count": 12})
    assert np.array_equal(load_brain_genome(tmp_path / "b.pt", dense),
                          lay.decode(world.state.genome[2]))
