"""``evosim brain``: a PNG of a robot's network and response map; one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.analysis.brainplot import network_layout
from evosim.cli import main


def _checkpoint(tmp_path):
    world = World(load_scenario("classic"), seed=0)
    world.step(500)
    return world.save(tmp_path / "w.npz")


def test_brain_png_shows_network_and_response_maps(tmp_path, capsys):
    import matplotlib.image

    ckpt = _checkpoint(tmp_path)
    out = tmp_path / "brain.png"
    assert main(["brain", str(ckpt), "--best", "--out", str(out)]) == 0
    assert "slot" in capsys.readouterr().out
    image = matplotlib.image.imread(out)
    assert image.shape[1] >= 1200 and image[..., :3].std() > 0.05
    # the left half (the network) holds red and blue edges: weights of both signs
    left = image[:, : image.shape[1] // 3, :3]
    reddish = (left[..., 0] > 0.7) & (left[..., 2] < 0.5)
    bluish = (left[..., 2] > 0.7) & (left[..., 0] < 0.5)
    assert reddish.sum() > 100 and bluish.sum() > 100
    assert main(["brain", str(ckpt), "--slot", "3", "--out", str(out), "--force"]) == 0


def test_brain_errors_are_one_line(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path)
    out = tmp_path / "b.png"
    assert main(["brain", str(ckpt), "--slot", "50", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith("--slot: expected 0 to 49, got 50")
    assert main(["brain", str(ckpt), "--slot", "1", "--out", str(tmp_path / "b.jpg")]) == 2
    out.write_bytes(b"x")
    assert main(["brain", str(ckpt), "--best", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and len(err.strip().splitlines()) == 2
    assert out.read_bytes() == b"x"
    assert main(["brain", str(tmp_path / "none.npz"), "--best", "--out", str(out)]) == 2


def test_network_layout_has_a_node_per_input_and_hidden_unit():
    sc = load_scenario("classic")
    pos = network_layout(sc)
    assert len(pos["inputs"]) == sc.n_inputs and len(pos["hidden"]) == sc.brain.hidden
    assert np.all(np.diff(pos["inputs"]) < 0)


def test_pruned_connections_are_not_drawn(tmp_path, monkeypatch):
    from evosim.analysis import brainplot
    from evosim.scenario import scenario_from_dict

    data = load_scenario("classic-sparse").model_dump(mode="json")
    data["brain"].update(hidden=6, initial_connections=0.1, initial_pattern="connections")
    sc = scenario_from_dict(data)
    genome = World(sc, seed=3).state.genome[0]
    on1, on2 = brainplot.connections_on(sc.genome_layout, genome)
    w1, _, w2, _, _ = sc.genome_layout.split(genome)
    # The mask says which weights the robot runs with: exactly the non-zero ones.
    assert np.array_equal(on1, w1 != 0) and np.array_equal(on2, w2 != 0)
    active = int(on1.sum() + on2.sum())
    assert 0 < active < on1.size + on2.size
    drawn = []
    import matplotlib.axes

    real_plot = matplotlib.axes.Axes.plot

    def counting_plot(self, *args, **kwargs):
        if kwargs.get("zorder") == 1:  # the network's edges
            drawn.append(args)
        return real_plot(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", counting_plot)
    brainplot.draw_brain(sc, genome, "sparse", tmp_path / "b.png")
    assert len(drawn) == active
    dense = load_scenario("classic")
    drawn.clear()
    brainplot.draw_brain(dense, World(dense, seed=3).state.genome[0], "dense", tmp_path / "d.png")
    assert len(drawn) == dense.genome_layout.connections


def test_the_biggest_float32_weight_draws_at_full_opacity_not_above():
    """A masked brain decodes to float32, where 0.15 + 0.85 x 1.1775888 / 1.1775888 is
    1.0000001: matplotlib refused that as an alpha (a classic-sparse brain, seed 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evosim.analysis import brainplot

    sc = load_scenario("classic")
    biggest = np.float32(1.1775888)
    assert np.float32(0.15) + np.float32(0.85) * biggest / biggest > 1  # the trap
    w1 = np.full((sc.brain.hidden, sc.n_inputs), 0.5, np.float32)
    w1[0, 0], w1[1, 1] = biggest, -biggest
    w2 = np.full((2, sc.brain.hidden), -0.25, np.float32)
    ax = plt.figure().add_subplot()
    alphas = []
    real_plot = ax.plot

    def plot(*args, **kwargs):
        alphas.append(kwargs["alpha"])
        return real_plot(*args, **kwargs)

    ax.plot = plot
    brainplot._draw_edges(ax, brainplot.network_layout(sc), (w1, w2),
                          (np.ones(w1.shape, bool), np.ones(w2.shape, bool)),
                          matplotlib.colormaps["coolwarm_r"])
    plt.close("all")
    assert len(alphas) == w1.size + w2.size
    assert max(alphas) == 1.0 and min(alphas) == pytest.approx(0.15 + 0.85 * 0.25 / 1.1775888)
