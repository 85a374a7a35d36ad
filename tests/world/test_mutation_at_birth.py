"""Offspring wait unmutated and are mutated at birth, exactly as if at conception."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from evosim import CheckpointError, World
from evosim.kernels.layout import FINAL_GENOME, NURSERY_HEAD
from evosim.kernels.life import EV_BIRTH, mutate_genome
from evosim.world.migration import Migrants
from tests.helpers import checkpoint_arrays, small_scenario, write_checkpoint

# Mutation and the speed limit change twice, so that offspring conceived in one
# phase are born in the next: their mutation must follow the phase of conception.
PHASES = [
    {"step": 300, "robots": {"speed_limit": 1.2},
     "evolution": {"mutation_rate": 0.3, "mutation_sigma": 0.6}},
    {"step": 700, "robots": {"speed_limit": 2.5},
     "evolution": {"mutation_rate": 1.0, "mutation_sigma": 0.05}},
]


def _scenario(brain: dict, nursery: int = 6):
    """Plenty of fruit and a small nursery: many offspring, most dropped unborn."""
    return small_scenario(robots={"count": 30, "lifespan": 200}, mines={"count": 15},
                          fruit={"count": 80}, evolution={"nursery": nursery},
                          brain=brain, phases=PHASES)


def _mutated_at_conception(world: World, parent_genome: np.ndarray, step: int,
                           slot: int) -> np.ndarray:
    """The genome the old engine made at conception: mutate_genome by hand, with the
    settings of ``step`` read from the scenario (not from the engine's schedule)."""
    at = world.scenario.settings_at(step)
    p = world._params
    out = np.empty_like(parent_genome)
    mutate_genome(parent_genome, out, float(at["mutation_rate"]), float(at["mutation_sigma"]),
                  float(at["speed_limit"]), world.state.rng_key[0], step, slot, p.mask,
                  p.n_mask, p.flip_rate, p.regrowth, float(at["speed_sigma"]))
    return out


@pytest.mark.parametrize("brain", [{}, {"connections": "evolved",
                                        "connection_flip_rate": 0.05}])
def test_every_birth_is_its_parent_mutated_at_conception(brain):
    """A reference of the old rule, tick by tick: each eater's genome (as it was when
    it ate) is mutated at once into a bounded queue; each birth must be the queue's
    oldest, bit for bit."""
    world = World(_scenario(brain), seed=2)
    K = world.scenario.evolution.nursery
    queue: deque = deque(maxlen=K)  # (genome, conception step), oldest first
    births = crossing = 0
    for _ in range(1200):
        t = world.step_count
        before = world.state.genome.copy()  # refills come after conception in a tick
        world.step(1, events=True)
        for i in np.flatnonzero(world._scratch.ate):
            queue.append((_mutated_at_conception(world, before[i], t, int(i)), t))
        for event in world.drain_events():
            if event["kind"] != EV_BIRTH:
                continue
            want, conceived = queue.popleft()
            np.testing.assert_array_equal(world.state.genome[event["slot"]], want)
            births += 1
            crossing += world.scenario.settings_at(conceived) != world.scenario.settings_at(t)
    assert len(queue) == world.state.nursery_size
    assert world.counters["offspring_dropped"] > 0  # some were never born (never mutated)
    assert births > 50 and crossing > 0, (births, crossing)


def _waiting(world: World) -> list[int]:
    s = world.state
    K = s.nursery_genome.shape[0]
    return [(int(s.clock[NURSERY_HEAD]) + k) % K for k in range(s.nursery_size)]


def test_a_checkpoint_without_nursery_step_is_refused(tmp_path):
    world = World(_scenario({}, nursery=50), seed=5)
    arrays = checkpoint_arrays(world.save(tmp_path / "new.npz"))
    del arrays["nursery_step"]
    with pytest.raises(CheckpointError, match="lacks arrays: nursery_step"):
        World.load(write_checkpoint(tmp_path / "lacking.npz", arrays))


@pytest.mark.parametrize(("value", "needle"), [
    (-1, "nursery_step: expected values from 0 to 400 or -2 (a final genome), got -1 at [0]"),
    (401, "nursery_step: expected values from 0 to 400 or -2 (a final genome), got 401"),
    (-3, "nursery_step: expected values"),
])
def test_a_bad_conception_step_is_refused_in_one_line(tmp_path, value, needle):
    world = World(_scenario({}), seed=5)
    world.step(400)
    arrays = checkpoint_arrays(world.save(tmp_path / "good.npz"))
    arrays["nursery_step"] = arrays["nursery_step"].copy()
    arrays["nursery_step"][0] = value
    bad = write_checkpoint(tmp_path / "bad.npz", arrays)
    with pytest.raises(CheckpointError) as info:
        World.load(bad)
    message = str(info.value)
    assert needle in message and str(bad) in message and "\n" not in message, message


def test_the_sentinel_and_the_checkpoint_step_itself_are_accepted(tmp_path):
    world = World(_scenario({}), seed=5)
    world.step(400)
    arrays = checkpoint_arrays(world.save(tmp_path / "good.npz"))
    arrays["nursery_step"] = arrays["nursery_step"].copy()
    arrays["nursery_step"][:2] = [FINAL_GENOME, 400]
    loaded = World.load(write_checkpoint(tmp_path / "edge.npz", arrays))
    assert loaded.state.nursery_step[:2].tolist() == [FINAL_GENOME, 400]


def test_migrants_are_born_exactly_as_sent():
    # Few fruit, so that births outpace offspring and the arrivals are not dropped.
    sc = small_scenario(robots={"count": 20, "lifespan": 300, "max_age": 500},
                        fruit={"count": 25}, brain={"connections": "evolved"}, phases=PHASES)
    world = World(sc, seed=3)
    s = world.state
    genes = s.genome.shape[1]
    rng = np.random.default_rng(0)
    genome = rng.normal(size=(3, genes)).astype(np.float32)
    lay = world.scenario.genome_layout
    genome[:, lay.mask:lay.speed] = rng.integers(0, 2, size=(3, lay.speed - lay.mask))
    genome[:, -1] = [0.3, 0.5, 0.7]  # within the speed limit
    # The nursery already holds offspring of the world: the migrants queue behind them.
    world.step(200)
    ahead = world.state.nursery_size
    world.receive_offspring(Migrants(genome, np.array([4, 5, 6])))
    assert (s.nursery_step[_waiting(world)[ahead:]] == FINAL_GENOME).all()
    born = []
    for _ in range(3000):
        world.step(1, events=True)
        for event in world.drain_events():
            # An arrival has no parent here (its event says spawn, not birth); its
            # generation tells it from a random robot (generation 0).
            if event["parent"] == -1 and event["generation"] > 0:
                born.append(world.state.genome[event["slot"]].copy())
        if len(born) == 3:
            break
    assert len(born) == 3 and world.counters["offspring_dropped"] == 0, "migrants unborn"
    np.testing.assert_array_equal(np.array(born), genome)
