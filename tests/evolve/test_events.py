"""Event logs: the kernel records every death, birth and spawn, exactly once, without
changing the world; the run writes them per checkpoint interval, deterministically."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from evosim import World, load_scenario
from evosim.errors import RunDirError
from evosim.evolve import events
from evosim.evolve.checkpoints import FINAL_FILE, world_dir
from evosim.kernels.life import EV_AGE, EV_BIRTH, EV_INITIAL, EV_MINE, EV_SPAWN
from evosim.world import world as world_module
from tests.evolve.test_batch import run_in_process, tiny_plan
from tests.helpers import assert_states_equal, small_scenario


def test_recording_events_changes_nothing_and_counts_every_event():
    plain = World(load_scenario("classic"), seed=3)
    logged = World(load_scenario("classic"), seed=3)
    plain.step(4000)
    logged.step(4000, events=True)
    assert_states_equal(plain, logged)
    ev = logged.drain_events()
    c = logged.counters
    kinds = np.bincount(ev["kind"], minlength=6)
    assert kinds[EV_MINE] == c["mine_deaths"] > 0
    assert kinds[EV_AGE] == c["age_deaths"] > 0
    assert kinds[EV_BIRTH] == c["births"] > 0
    assert kinds[EV_SPAWN] == c["random_spawns"]
    assert np.all(np.diff(ev["step"]) >= 0) and ev["step"].min() >= 1
    assert ev["step"].max() <= 4000
    assert len(logged.drain_events()) == 0  # drained once
    logged.step(10)  # without events=True: nothing is recorded
    assert len(logged.drain_events()) == 0


def test_events_do_not_depend_on_how_steps_are_split(monkeypatch):
    whole = World(load_scenario("classic"), seed=1)
    whole.step(1500, events=True)
    monkeypatch.setattr(world_module, "EVENT_BUFFER_ROWS", 1)  # 2 x robots x 2 rows
    pieces = World(load_scenario("classic"), seed=1)
    for n in (1, 499, 1000):
        pieces.step(n, events=True)
    assert pieces._event_buffer.rows.shape[0] == 200  # small: calls were split
    assert_states_equal(whole, pieces)
    assert np.array_equal(whole.drain_events(), pieces.drain_events())


def test_replaying_the_log_gives_every_slot_its_robot():
    """Deaths name the robot in the slot; refills follow deaths in the same step and
    slot; births name a parent that lived before; replaying gives the final ids."""
    world = World(load_scenario("classic"), seed=2)
    slots = world.initial_events()
    assert np.all(slots["kind"] == EV_INITIAL)
    who = dict(zip(slots["slot"].tolist(), slots["id"].tolist(), strict=True))
    seen = set(who.values())
    world.step(3000, events=True)
    dead_at: dict[int, int] = {}
    for e in world.drain_events():
        slot, rid, step = int(e["slot"]), int(e["id"]), int(e["step"])
        if e["kind"] in (EV_MINE, EV_AGE):
            assert who[slot] == rid
            dead_at[slot] = step
        else:
            assert dead_at.pop(slot) == step  # a refill follows its death, same step
            if e["kind"] == EV_BIRTH:
                assert int(e["parent"]) in seen
            who[slot] = rid
            seen.add(rid)
    assert not dead_at
    assert [who[i] for i in range(len(who))] == world.state.robot_id.tolist()


def test_mine_deaths_happen_on_mines():
    world = World(load_scenario("classic"), seed=0)
    world.step(2000, events=True)
    ev = world.drain_events()
    mine = ev[ev["kind"] == EV_MINE]
    sc = world.scenario
    d = np.hypot(mine["x"][:, None] - world.state.mine_xy[:, 0],
                 mine["y"][:, None] - world.state.mine_xy[:, 1]).min(axis=1)
    assert len(mine) > 0 and np.all(d < sc.robots.radius + sc.mines.radius)


def test_a_run_writes_its_log_per_checkpoint_and_it_adds_up(tmp_path):
    plan = tiny_plan()
    run_in_process(tmp_path, plan)
    for i in range(plan.worlds):
        files = events.list_event_files(tmp_path, i)
        assert [s for s, _ in files] == [300, 600, 900]
        with gzip.open(files[0][1], "rt") as handle:
            assert handle.readline().strip() == events.HEADER
        ev = events.read_events(tmp_path, i)
        final = World.load(world_dir(tmp_path, i) / FINAL_FILE)
        kinds = np.bincount(ev["kind"], minlength=6)
        assert kinds[EV_INITIAL] == final.scenario.robots.count
        assert kinds[EV_MINE] == final.counters["mine_deaths"]
        assert kinds[EV_AGE] == final.counters["age_deaths"]
        assert kinds[EV_BIRTH] == final.counters["births"]
        assert kinds[EV_SPAWN] == final.counters["random_spawns"]
        # each file holds the events after the previous file's step, up to its own
        lows = 0
        for step, path in files:
            part = events.read_events_file(path)
            assert np.all((part["step"] > lows) | (part["kind"] == EV_INITIAL))
            assert np.all(part["step"] <= step)
            lows = step
    again = tmp_path / "again"
    run_in_process(again, plan)
    for i in range(plan.worlds):
        assert [p.read_bytes() for _, p in events.list_event_files(tmp_path, i)] == \
            [p.read_bytes() for _, p in events.list_event_files(again, i)]


def test_damaged_event_files_are_one_line_errors(tmp_path):
    plan = tiny_plan(steps=300, worlds=1)
    run_in_process(tmp_path, plan)
    _, path = events.list_event_files(tmp_path, 0)[0]
    path.write_bytes(b"not gzip")
    with pytest.raises(RunDirError, match="unreadable event log"):
        events.read_events(tmp_path, 0)
    with gzip.open(path, "wt") as handle:
        handle.write(events.HEADER + "\n1,explosion,0,1,-1,0,0,1.00,2.00\n")
    with pytest.raises(RunDirError, match="line 2: bad event"):
        events.read_events(tmp_path, 0)


def test_event_log_of_a_small_world_stays_small(tmp_path):
    """Bounded memory: a world keeps at most one checkpoint interval of events, and the
    kernel buffer has a fixed size."""
    scenario = small_scenario(robots={"count": 8})
    world = World(scenario, seed=0)
    world.step(20_000, events=True)
    assert world._event_buffer.rows.shape[0] == world_module.EVENT_BUFFER_ROWS
    ev = world.drain_events()
    path = events.write_events(tmp_path / "e.csv.gz", ev)
    assert path.stat().st_size < 40 * len(ev) + 100  # compressed: well under a line each
