"""The plot's pictures from event logs and checkpoints: each one exists, is not blank,
and its data shows what the figure claims."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.analysis import lineages
from evosim.analysis.plot import diversity_series, plot_run
from evosim.evolve import events
from evosim.evolve.checkpoints import FINAL_FILE, world_dir
from evosim.kernels.life import EV_BIRTH, EV_INITIAL
from evosim.world.world import EVENT_DTYPE
from tests.evolve.test_batch import run_in_process, tiny_plan

NEW_FIGURES = ("diversity", "muller", "phylogeny", "deaths", "summary")


@pytest.fixture(scope="module")
def logged_world():
    world = World(load_scenario("classic"), seed=0)
    first = world.initial_events()
    world.step(6000, events=True)
    return world, np.concatenate([first, world.drain_events()])


def test_every_figure_is_written_and_not_blank(tmp_path):
    import matplotlib.image

    plan = tiny_plan(steps=900, worlds=2)
    run_in_process(tmp_path, plan)
    written = {p.stem: p for p in plot_run(tmp_path)}
    for name in ("overview", *NEW_FIGURES):
        image = matplotlib.image.imread(written[name])
        assert image.shape[0] > 300 and image.shape[1] > 600
        assert image[..., :3].std() > 0.05, f"{name}.png looks blank"


def test_a_run_without_event_logs_still_plots(tmp_path):
    plan = tiny_plan(steps=300, worlds=1)
    run_in_process(tmp_path, plan)
    for _, path in events.list_event_files(tmp_path, 0):
        path.unlink()
    names = {p.stem for p in plot_run(tmp_path)}
    assert "overview" in names and "diversity" in names and "muller" not in names


def test_hot_cells_of_the_mine_death_map_lie_on_mines(logged_world):
    world, ev = logged_world
    sc = world.scenario
    mine, age, (xe, ye) = lineages.death_grid(ev, sc.world.width, sc.world.height)
    assert mine.sum() == world.counters["mine_deaths"] and age.sum() == world.counters[
        "age_deaths"]
    cy, cx = np.nonzero(mine)
    centres = np.stack([(xe[cx] + xe[cx + 1]) / 2, (ye[cy] + ye[cy + 1]) / 2], axis=1)
    mines = world.state.mine_xy[:world.state.mine_count]
    d = np.hypot(*(centres[:, None, :] - mines[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    reach = sc.robots.radius + sc.mines.radius + np.hypot(10, 10) / 2
    assert np.all(d <= reach)
    # age deaths are spread over the arena, not only at mines
    ay, _ = np.nonzero(age)
    assert len(ay) > 10


def test_muller_shares_add_up_to_one_and_follow_the_population(logged_world):
    world, ev = logged_world
    steps, labels, shares = lineages.muller_shares(ev, 50, 6000, points=50, top=5)
    assert shares.shape == (len(labels), len(steps)) and labels[-1] == "others"
    assert np.allclose(shares.sum(axis=0), 1.0)
    ids, counts = lineages.lineage_counts(ev, 50, np.array([6000]))
    alive_ids, alive_counts = np.unique(world.state.robot_lineage, return_counts=True)
    got = dict(zip(ids.tolist(), counts[0].tolist(), strict=True))
    assert {k: v for k, v in got.items() if v} == dict(zip(alive_ids.tolist(),
                                                           alive_counts.tolist(), strict=True))


def test_family_tree_has_the_living_as_leaves_and_only_branch_points(logged_world):
    world, ev = logged_world
    alive = world.state.robot_id
    tree = lineages.family_tree(ev, alive)
    assert sorted(tree.ids[tree.leaf].tolist()) == sorted(alive.tolist())
    assert len(tree.ids) <= 2 * len(alive)
    for k in np.flatnonzero(~tree.leaf & (tree.parent >= 0)):  # inner nodes branch
        assert np.count_nonzero(tree.parent == k) >= 2
    for k in np.flatnonzero(tree.parent < 0):  # roots are founders: random robots
        assert ev["parent"][ev["id"] == tree.ids[k]][0] == -1
    roots = tree.parent < 0
    assert tree.size[roots].sum() == len(alive)
    for k in np.flatnonzero(tree.parent >= 0):  # a child is born after its ancestor
        assert tree.step[k] >= tree.step[tree.parent[k]]


def test_family_tree_of_a_long_chain_collapses():
    """A 200,000-generation chain ending in two robots: three nodes, no recursion
    trouble (the shape of a 1M-step run's ancestry)."""
    n = 200_000
    ev = np.zeros(n + 2, EVENT_DTYPE)
    ev["kind"] = EV_BIRTH
    ev["kind"][0] = EV_INITIAL
    ev["id"] = np.arange(n + 2)
    ev["parent"] = np.arange(-1, n + 1)
    ev["parent"][-1] = n - 1  # the last two are siblings
    ev["step"] = np.arange(n + 2)
    tree = lineages.family_tree(ev, np.array([n, n + 1]))
    assert len(tree.ids) == 4 and tree.leaf.sum() == 2 and tree.parent[0] == -1
    assert tree.ids[0] == 0 and tree.parent[1] == 0  # the founder, then ...
    assert tree.step[1] == n - 1  # ... the common ancestor, the chain between collapsed


def test_genome_diversity_is_the_rms_pairwise_distance():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(12, 7)).astype(np.float32)
    pairs = [np.sum((g[i].astype(float) - g[j]) ** 2) for i in range(12) for j in range(12)
             if i != j]
    assert lineages.genome_diversity(g) == pytest.approx(np.sqrt(np.mean(pairs)), rel=1e-9)
    assert lineages.genome_diversity(np.repeat(g[:1], 5, axis=0)) == 0.0


def test_diversity_series_reads_every_checkpoint(tmp_path):
    plan = tiny_plan(steps=900, worlds=1)
    run_in_process(tmp_path, plan)
    steps, values = diversity_series(tmp_path, plan)[0]
    assert steps.tolist() == [300, 600, 900]
    final = World.load(world_dir(tmp_path, 0) / FINAL_FILE)
    assert values[-1] == pytest.approx(lineages.genome_diversity(final.state.genome))


def test_sparse_brains_get_an_active_connections_figure(tmp_path):
    import matplotlib.image

    from evosim.evolve import metrics

    plan = tiny_plan(steps=900, worlds=2, connections="evolved", connection_flip_rate=0.05,
                     initial_connections=0.6)
    run_in_process(tmp_path, plan)
    written = {p.stem: p for p in plot_run(tmp_path)}
    image = matplotlib.image.imread(written["active_connections"])
    assert image.shape[0] > 300 and image[..., :3].std() > 0.05
    # Three panels side by side: active connections beside fruit eaten and mine deaths.
    assert image.shape[1] > 3 * image.shape[0]
    rows = metrics.read_rows(tmp_path / "metrics.csv")
    shares = [float(r["active_connections"]) for r in rows]
    assert all(0.0 < s < 1.0 for s in shares)  # what the figure draws: partial brains
    # Dense brains: no such figure.
    dense = tmp_path / "dense"
    run_in_process(dense, tiny_plan(steps=300, worlds=1))
    assert "active_connections" not in {p.stem for p in plot_run(dense)}
