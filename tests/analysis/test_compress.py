"""evosim compress: JPEG round trips, honest byte counts, pruning budgets, the JSON shape."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

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
    img, lo, hi = cz.to_bytes8(w)
    back = cz.from_bytes8(img, lo, hi)
    step = (hi - lo) / 255.0
    assert img.dtype == np.uint8 and img.min() == 0 and img.max() == 255
    assert np.abs(back - w).max() <= 0.5 * step + 1e-6
    assert back.min() == pytest.approx(w.min()) and back.max() == pytest.approx(w.max())


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
    c = cz.quant8_population(genomes, lay)
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
    assert [(r["method"], r["quality"]) for r in data["results"]] == [
        ("quant8", None), ("jpeg", 80), ("prune", 80), ("jpeg", 10), ("prune", 10)]
    for r in data["results"]:
        assert set(r) == {"method", "quality", "bytes_per_brain", "fruit_per_robot_per_1k",
                          "mine_deaths_per_robot_per_1k"}
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
    for word in ("original", "quant8", "jpeg", "prune", "random", "kept"):
        assert word in out
