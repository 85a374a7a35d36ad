"""evosim compress: each codec's round trip against a direct computation, honest byte
counts, pruning budgets, down-sizing, the JSON shape, the table and the plot."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from evosim.analysis import codecs, downsize
from evosim.analysis import compress as cz
from evosim.cli import main
from evosim.errors import EvosimError
from evosim.world import World
from tests.helpers import small_scenario


def _weights(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, (rows, cols)).astype(np.float32)


def test_8bit_mapping_is_within_half_a_step_and_keeps_the_extremes():
    w = _weights(16, 32)
    img, lo, hi = codecs.quant_codes(w, 8)
    back = codecs.from_codes(img, lo, hi, 8)
    step = (hi - lo) / 255.0
    assert img.dtype == np.uint8 and img.min() == 0 and img.max() == 255
    assert np.abs(back - w).max() <= 0.5 * step + 1e-6
    assert back.min() == pytest.approx(w.min()) and back.max() == pytest.approx(w.max())


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 5, 7, 8])
def test_code_packing_round_trips_at_the_fewest_bytes(bits):
    codes = np.random.default_rng(bits).integers(0, 2**bits, 101).astype(np.uint8)
    data = codecs.pack_codes(codes, bits)
    assert len(data) == -(-101 * bits // 8)
    assert np.array_equal(codecs.unpack_codes(data, 101, bits), codes)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_quantize_round_trip_equals_the_direct_mapping(bits):
    w = _weights(16, 32, seed=bits)
    data = codecs.quantize(w, bits)
    assert len(data) == 8 + -(-w.size * bits // 8)  # lo, hi and the packed codes
    back = codecs.dequantize(data, w.shape, bits)
    lo, hi = float(w.min()), float(w.max())
    top = 2**bits - 1
    direct = lo + np.rint((w.astype(np.float64) - lo) * top / (hi - lo)) * (hi - lo) / top
    assert np.allclose(back, direct, atol=1e-5)
    assert np.abs(back - w).max() <= 0.5 * (hi - lo) / top + 1e-5
    assert len(np.unique(back)) <= 2**bits


@pytest.mark.parametrize("k", [1, 2, 4, 16])
def test_sharing_uses_k_values_nearest_to_each_weight(k):
    w = _weights(16, 32, seed=k)
    data = codecs.share(w, k)
    back = codecs.unshare(data, w.shape)
    centres = np.unique(back)
    assert len(centres) <= k
    assert len(data) == 2 + 4 * len(centres) + -(-w.size * codecs.code_bits(len(centres)) // 8)
    # Every weight went to its nearest centre, and each centre is its cluster's mean
    # (k-means converged), to float32 rounding.
    dist = np.abs(w.ravel()[:, None] - centres[None, :])
    assert np.allclose(np.abs(w.ravel() - back.ravel()), dist.min(axis=1), atol=1e-6)
    for c in centres:
        members = w.ravel()[back.ravel() == c]
        assert abs(members.astype(np.float64).mean() - c) <= 1e-4 * max(1.0, abs(c))


def test_sharing_two_distinct_values_is_exact():
    w = np.where(np.arange(40).reshape(5, 8) % 3 == 0, -1.5, 2.25).astype(np.float32)
    assert np.array_equal(codecs.unshare(codecs.share(w, 4), w.shape), w)


@pytest.mark.parametrize("rank", [1, 2, 5, 8])
def test_low_rank_is_the_truncated_svd(rank):
    w = _weights(8, 12, seed=rank)
    data = codecs.low_rank(w, rank)
    assert len(data) == 4 * rank * (8 + 12)
    back = codecs.from_low_rank(data, w.shape, rank)
    s = np.linalg.svd(w.astype(np.float64), compute_uv=False)
    # Eckart-Young: the error of the best rank-r approximation is the tail of the spectrum.
    assert np.linalg.norm(back - w) == pytest.approx(np.sqrt((s[rank:] ** 2).sum()), abs=1e-4)
    assert np.linalg.matrix_rank(back.astype(np.float64), tol=1e-4) == rank


@pytest.mark.parametrize("keep", [0, 1, 7, 60])
def test_prune_keeps_the_largest_weights_as_index_value_pairs(keep):
    flat = _weights(1, 60, seed=keep).ravel()
    data = codecs.prune(flat, keep)
    assert len(data) == 2 + keep * 6  # uint16 count, (uint16 index, float32 value) pairs
    back = codecs.unprune(data, flat.size)
    kept = back != 0
    assert kept.sum() == keep and np.array_equal(back[kept], flat[kept])
    if 0 < keep < flat.size:
        assert np.abs(flat[kept]).min() >= np.abs(flat[~kept]).max()
    assert codecs.index_bytes(2**16) == 2 and codecs.index_bytes(2**16 + 1) == 4


def test_constant_matrix_round_trips_exactly():
    w = np.full((4, 8), 0.25, np.float32)
    back, _, _ = cz.jpeg_matrix(w, 10)
    assert np.array_equal(back, w)


def test_jpeg_error_shrinks_and_bytes_grow_with_quality():
    w = _weights(32, 16, seed=3)
    span = float(w.max() - w.min())
    errors, sizes = [], []
    for q in (5, 20, 50, 90, 100):
        back, n, tables = cz.jpeg_matrix(w, q)
        assert back.shape == w.shape and back.dtype == np.float32
        assert 0 < tables < n
        errors.append(float(np.sqrt(np.mean((back - w) ** 2))))
        sizes.append(n - tables)
    assert all(a > b for a, b in itertools.pairwise(errors)), errors
    assert all(a < b for a, b in itertools.pairwise(sizes)), sizes
    # Quality 100 is the 8-bit mapping up to a few grey levels; quality 90 within 2%.
    assert errors[-1] <= 2.0 * span / 255.0
    assert errors[-2] <= 0.02 * span


def test_table_bytes_counts_dqt_and_dht_segments():
    _, n, tables = cz.jpeg_matrix(_weights(8, 8), 50)
    # One greyscale DQT (2 + 67) and two standard DHT tables (DC 2 + 31, AC 2 + 181).
    assert tables == 69 + 33 + 183
    assert n > tables


def test_w1_image_puts_rays_along_columns_and_inverts():
    H, R, C = 3, 5, 2
    w1 = np.arange(H * R * C, dtype=np.float32).reshape(H, R * C)
    img = cz.w1_image(w1, R, C)
    assert img.shape == (C * H, R)
    assert img[1 * H + 2, 4] == w1[2, 4 * C + 1]  # channel 1, hidden 2, ray 4
    assert np.array_equal(cz.w1_from_image(img, H, R, C), w1)


@pytest.fixture(scope="module")
def population():
    sc = small_scenario(robots={"count": 6})
    world = World(sc, seed=4)
    return sc, world.state.genome.copy()


def test_quant8_bytes_and_kept_genes(population):
    sc, genomes = population
    lay = sc.genome_layout
    c = cz.quant_population(genomes, lay, 8)
    n_weights = lay.hidden * lay.inputs + 2 * lay.hidden
    assert c.bytes_per_brain == n_weights + 16 + 4 * (lay.hidden + 3)
    # Biases and the speed gene are untouched; weights within half an 8-bit step.
    for g0, g1 in zip(genomes, c.genomes, strict=True):
        a, b = lay.split(g0), lay.split(g1)
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[3], b[3]) and a[4] == b[4]
        for w0, w1 in ((a[0], b[0]), (a[2], b[2])):
            assert np.abs(w0 - w1).max() <= 0.5 * (w0.max() - w0.min()) / 255 + 1e-6


def test_jpeg_population_bytes_and_pruning_to_the_same_budget(population):
    sc, genomes = population
    lay = sc.genome_layout
    jpeg, own = cz.jpeg_population(genomes, lay, sc.vision.rays, len(sc.vision.channels), 20)
    assert own.shape == (genomes.shape[0],)
    assert jpeg.bytes_per_brain == pytest.approx(own.mean())
    assert jpeg.bytes_per_brain < cz.float32_bytes(lay)
    pruned = cz.prune_population(genomes, lay, own, 20)
    entry = cz.prune_entry_bytes(lay)
    assert entry == 6
    fixed = 4 * (lay.hidden + 3) + 2
    for g0, g1, budget in zip(genomes, pruned.genomes, own, strict=True):
        a, b = lay.split(g0), lay.split(g1)
        flat0 = np.concatenate([a[0].ravel(), a[2].ravel()])
        flat1 = np.concatenate([b[0].ravel(), b[2].ravel()])
        k = int(np.count_nonzero(flat1))
        assert fixed + k * entry <= budget < fixed + (k + 1) * entry
        # The kept weights are unchanged and are the largest in magnitude.
        kept = flat1 != 0
        assert np.array_equal(flat1[kept], flat0[kept])
        assert np.abs(flat0[kept]).min() >= np.abs(flat0[~kept]).max()
    assert pruned.bytes_per_brain <= jpeg.bytes_per_brain


def test_svd_and_share_populations_count_their_bytes(population):
    sc, genomes = population
    lay = sc.genome_layout
    H, n_in = lay.hidden, lay.inputs
    svd = cz.svd_population(genomes, lay, 2)
    assert svd.bytes_per_brain == 4 * 2 * (H + n_in) + 4 * 2 * H + 4 * (H + 3)
    shared = cz.share_population(genomes, lay, 4)
    per_matrix = [2 + 4 * 4 + -(-n // 4) for n in (H * n_in, 2 * H)]  # 2 bits per index
    assert shared.bytes_per_brain <= sum(per_matrix) + 4 * (H + 3)
    for g0, g1 in zip(genomes, svd.genomes, strict=True):
        a, b = lay.split(g0), lay.split(g1)
        assert np.array_equal(a[2], b[2]) and np.linalg.matrix_rank(b[0], tol=1e-4) <= 2


def test_downsize_fits_a_smaller_brain_that_tracks_the_original(population):
    sc, genomes = population
    x = downsize.record_observations(sc, genomes, 99, steps=120, samples=200)
    assert x.shape == (200, sc.genome_layout.inputs) and (x > 0).any()
    small = downsize.downsize_population(genomes, sc, 3, x)
    assert small.scenario.brain.hidden == 3 and small.genomes.shape == (
        genomes.shape[0], small.scenario.genome_layout.length)
    assert small.bytes_per_brain == 4 * small.scenario.genome_layout.length
    assert np.array_equal(small.genomes[:, -1], genomes[:, -1])  # the speed gene
    lay, sl = sc.genome_layout, small.scenario.genome_layout
    big = [np.stack([lay.split(g.astype(np.float64))[j] for g in genomes]) for j in range(4)]
    target = downsize._forward(x, *big)[1]
    start = downsize.fit_small(genomes, lay, x, 3, iterations=0)
    fitted = [np.stack([sl.split(g.astype(np.float64))[j] for g in small.genomes])
              for j in range(4)]
    error = lambda p: float(((downsize._forward(x, *p)[1] - target) ** 2).mean())  # noqa: E731
    assert error(fitted) < 0.8 * error(start)  # the fit improves on the truncated brain


def test_bad_levels_are_one_line_errors_naming_the_argument(population):
    sc, _ = population
    for levels, words in (({"svd": [999]}, "ranks: expected integers from 1 to"),
                          ({"downsize": [sc.brain.hidden]}, "hidden: expected integers"),
                          ({"quant": [9]}, "bits: expected integers from 1 to 8"),
                          ({"share": [0]}, "values: expected integers from 1 to 256"),
                          ({"zip": [1]}, "methods: expected some of downsize")):
        with pytest.raises(EvosimError, match=words) as exc:
            cz.check_levels(levels, sc)
        assert "\n" not in str(exc.value)


@pytest.mark.parametrize("bad", [0, 101, -5, 2.5, True])
def test_bad_quality_is_refused(bad):
    with pytest.raises(EvosimError, match="quality: expected an integer from 1 to 100"):
        cz.check_quality(bad)


@pytest.mark.parametrize("bad", ["0", "101", "x"])
def test_bad_quality_on_the_command_line_is_one_line(bad, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "x.npz"), "--quality", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--quality" in err


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    sc = small_scenario(robots={"count": 8})
    world = World(sc, seed=7)
    world.step(300)
    return world.save(tmp_path_factory.mktemp("cz") / "c.npz")


def test_json_shape_and_plot(checkpoint, capsys, tmp_path):
    plot = tmp_path / "kept.png"
    assert main(["compress", str(checkpoint), "--quality", "80", "10", "--steps", "150",
                 "--seeds", "2", "--json", "--out", str(plot)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"original", "random", "results"}
    for arm in ("original", "random"):
        assert set(data[arm]) == {"fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k",
                                  "mean_speed"}
    assert [(r["method"], r["level"]) for r in data["results"]] == [
        ("downsize", 8), ("downsize", 4), ("downsize", 2), ("svd", 4), ("svd", 2), ("svd", 1),
        ("quant", 8), ("quant", 4), ("quant", 2), ("jpeg", 80), ("jpeg", 10),
        ("share", 16), ("share", 4), ("share", 2), ("prune", 80), ("prune", 10)]
    for r in data["results"]:
        assert set(r) == {"method", "level", "unit", "bytes_per_brain",
                          "fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k"}
        assert 0 < r["bytes_per_brain"] < 4 * 563
        for key in ("fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k"):
            assert set(r[key]) == {"mean", "std"} and r[key]["std"] >= 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_original_arm_equals_evaluate(checkpoint, capsys):
    """The same fresh worlds as evosim evaluate: the original arm is its evolved arm."""
    assert main(["compress", str(checkpoint), "--quality", "50", "--steps", "120",
                 "--seeds", "2", "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(checkpoint), "--steps", "120", "--seeds", "2", "--json"]) == 0
    theirs = json.loads(capsys.readouterr().out)
    assert ours["original"] == theirs["evolved"] and ours["random"] == theirs["random"]


def test_table_names_every_method(checkpoint, capsys):
    assert main(["compress", str(checkpoint), "--quality", "30", "--steps", "100",
                 "--seeds", "1"]) == 0
    out = capsys.readouterr().out
    for word in ("original", "downsize", "svd", "quant", "jpeg", "share", "prune", "random",
                 "kept", "rank 2", "4 bits", "Q30", "16 values", "8 hidden"):
        assert word in out


def test_methods_and_levels_flags_choose_what_runs(checkpoint, capsys):
    assert main(["compress", str(checkpoint), "--methods", "quant", "svd", "--bits", "3",
                 "--ranks", "2", "--steps", "50", "--seeds", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["method"], r["level"]) for r in data["results"]] == [("svd", 2), ("quant", 3)]


@pytest.mark.parametrize(("argv", "words"), [
    (["--methods", "zip"], "--methods"), (["--bits", "9"], "--bits"),
    (["--values", "0"], "--values"), (["--ranks", "999"], "ranks: expected integers")])
def test_bad_compress_flags_are_one_line(checkpoint, capsys, argv, words):
    try:
        code = main(["compress", str(checkpoint), "--steps", "20", "--seeds", "1", *argv])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err
