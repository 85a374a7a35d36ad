"""One world on several threads: bit-identical to one thread, the golden included."""

from __future__ import annotations

import json

import numba
import numpy as np
import pytest

from evosim import World, load_scenario
from tests.helpers import assert_states_equal, small_scenario
from tests.world.test_determinism import GOLDEN, state_digest


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_threads_equal_one_thread(threads):
    """Chunks of uneven size, more chunks than cores, every channel (robots see robots)."""
    sc = small_scenario(robots={"count": 40},
                        vision={"channels": ["mine", "fruit", "robot", "edge"]})
    one = World(sc, seed=3)
    many = World(sc, seed=3, threads=threads)
    for n in (1, 7, 300):
        one.step(n)
        many.step(n)
        assert_states_equal(one, many)
    assert (one.observations() == many.observations()).all()
    assert (one.actions() == many.actions()).all()


def test_threaded_world_follows_the_golden_trajectory():
    golden = json.loads(GOLDEN.read_text())
    world = World(load_scenario("classic"), seed=0, threads=2)
    done = 0
    for entry in golden["checkpoints"]:
        world.step(entry["step"] - done)
        done = entry["step"]
        assert world.counters == entry["counters"], f"counters differ at step {done}"
        assert state_digest(world) == entry["digest"], f"state differs at step {done}"


def test_threads_survive_save_and_load(tmp_path):
    sc = load_scenario("classic")
    a = World(sc, seed=1, threads=2)
    a.step(200)
    path = a.save(tmp_path / "w.npz")
    b = World.load(path)
    c = World.load(path, threads=2)
    a.step(100)
    b.step(100)
    c.step(100)
    assert_states_equal(a, b)
    assert_states_equal(a, c)


def test_stepping_leaves_numbas_thread_count_alone():
    before = numba.get_num_threads()
    World(load_scenario("classic"), seed=0, threads=2).step(3)
    assert numba.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_threads_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="threads: expected an integer"):
        World(load_scenario("classic"), seed=0, threads=bad)


def test_threads_with_events_and_external_control():
    """Event logs and controlled robots (who skip their brain) are the same on 2 threads."""
    sc = load_scenario("classic")
    one = World(sc, seed=5)
    two = World(sc, seed=5, threads=2)
    n = sc.robots.count
    actions = np.zeros((n, 2), np.float32)
    actions[:, 0] = 0.3
    actions[:, 1] = 1.0
    controlled = np.zeros(n, np.bool_)
    controlled[::3] = True
    for w in (one, two):
        w.step(50, events=True)
        w.step(20, actions=actions, controlled=controlled, events=True)
        w.step(200, events=True)
    assert_states_equal(one, two)
    a, b = one.drain_events(), two.drain_events()
    assert len(a) > 0 and a.tobytes() == b.tobytes()


def test_threads_with_dct_brains():
    """DCT genomes (brains decoded at birth into scratch) think alike on 3 threads."""
    sc = small_scenario(brain={"encoding": "dct", "dct_coefficients": 4})
    one = World(sc, seed=2)
    many = World(sc, seed=2, threads=3)
    one.step(400)
    many.step(400)
    assert_states_equal(one, many)
    assert (one.actions() == many.actions()).all()


@pytest.mark.parametrize("brain", [{"connections": "evolved", "connection_cost": 0.001},
                                   {"connections": "evolved", "encoding": "dct",
                                    "dct_coefficients": 2}])
def test_threads_with_evolved_connections(brain):
    """Masked brains (decoded at birth, with a life cost per connection) are identical
    on 2 threads."""
    sc = small_scenario(brain={**brain, "connection_flip_rate": 0.02})
    one = World(sc, seed=3)
    many = World(sc, seed=3, threads=2)
    one.step(500)
    many.step(500)
    assert one.counters["births"] > 0
    assert_states_equal(one, many)
    assert (one.actions() == many.actions()).all()
    assert (one._scratch.active == many._scratch.active).all()
