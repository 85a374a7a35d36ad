"""The Ray backend on a real multi-node Ray cluster on this machine
(``ray.cluster_utils.Cluster``: a head without CPUs and three one-CPU nodes, each its
own raylet and object store): islands run on several nodes at once, one node is
killed mid-epoch (after a migration), and the run ends with the same bytes as the
local backend. Skipped without Ray (``pip install 'evosim[ray]'``)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import pytest

from evosim.evolve.batch import run_batch
from evosim.evolve.checkpoints import list_checkpoints
from tests.evolve.test_islands import island_plan
from tests.helpers import files_of

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'evosim[ray]')")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

TIMEOUT = 300.0  # seconds for the whole Ray run; a hang fails the test, it does not stall
# Notice a dead node within about two seconds (the default is 15 s of missed health checks).
FAST_HEALTH_CHECKS = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500,
                      "health_check_timeout_ms": 500, "health_check_failure_threshold": 4}


@pytest.fixture
def cluster():
    from ray._private import ray_constants
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    started = time.monotonic()
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "include_dashboard": False, "_system_config": FAST_HEALTH_CHECKS})
    try:
        nodes = [c.add_node(num_cpus=1) for _ in range(3)]
        c.wait_for_nodes()
        ray.init(address=c.address, logging_level=logging.WARNING, log_to_driver=False)
        raylets = {n.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid: n
                   for n in nodes}
        print(f"cluster of {len(ray.nodes())} nodes up in {time.monotonic() - started:.1f}s")
        yield c, raylets
    finally:
        ray.shutdown()
        c.shutdown()


def _ppid(pid: int) -> int | None:
    """The parent of a running process; None once it has ended (zombies included)."""
    try:
        state, ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
    except (OSError, IndexError, ValueError):
        return None
    return None if state == "Z" else int(ppid)


def epoch_tasks_by_node(raylets: dict[int, object]) -> dict[int, list[int]]:
    """Ray worker processes now running an evosim world epoch, by their node's raylet
    pid (a Ray worker is a child of its node's raylet)."""
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"_world_epoch" not in (entry / "cmdline").read_bytes():
                continue
        except OSError:
            continue
        parent = _ppid(int(entry.name))
        if parent in raylets:
            found.setdefault(parent, []).append(int(entry.name))
    return found


def test_islands_across_nodes_survive_a_lost_node_with_the_same_bytes(tmp_path, cluster):
    c, raylets = cluster
    # Three worlds, an epoch of 6000 ticks, migration at 6000 and 12000.
    plan = island_plan(steps=18_000, worlds=3, every=6000, checkpoint_every=1000)
    local = tmp_path / "local"
    local.mkdir()
    plan.save(local)
    started = time.monotonic()
    run_batch(local, plan, workers=3)
    local_seconds = time.monotonic() - started

    out = tmp_path / "cluster"
    out.mkdir()
    plan.save(out)
    seen: dict[str, object] = {}

    def kill_a_node_mid_epoch() -> None:  # in the second epoch, after a migration
        # The most nodes seen running an epoch at once, polled over the whole run: one
        # look could fall where the other worlds have just ended their epoch.
        most = 0
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            busy = epoch_tasks_by_node(raylets)
            most = seen["nodes_busy"] = max(most, len(busy))
            steps = [s for s, _ in list_checkpoints(out, 0)]
            # Kill once two nodes are busy, or late in the epoch with whatever runs.
            window = any(7000 <= s < 12_000 for s in steps)
            late = any(10_000 <= s < 12_000 for s in steps)
            if window and busy and (len(busy) >= 2 or late):
                raylet, pids = sorted(busy.items())[0]
                seen["killed_tasks"] = pids
                c.remove_node(raylets[raylet], allow_graceful=False)  # kill -9 the node
                seen["at"] = max(s for s, _ in list_checkpoints(out, 0))
                time.sleep(3.0)
                seen["killed_tasks_alive_after"] = [p for p in pids if _ppid(p) is not None]
                break
            time.sleep(0.02)
        while runner.is_alive() and time.monotonic() < deadline:  # the rest of the run
            most = seen["nodes_busy"] = max(most, len(epoch_tasks_by_node(raylets)))
            time.sleep(0.05)

    def run() -> None:
        try:
            run_batch(out, plan, workers=3, backend="ray")
        except BaseException as exc:  # handed to the test's thread
            seen["error"] = exc

    killer = threading.Thread(target=kill_a_node_mid_epoch, daemon=True)
    runner = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    killer.start()
    runner.start()
    runner.join(TIMEOUT)
    assert not runner.is_alive(), f"the Ray run did not end within {TIMEOUT:.0f}s"
    ray_seconds = time.monotonic() - started
    killer.join(10)
    if "error" in seen:
        raise seen["error"]  # type: ignore[misc]
    assert "at" in seen, "no node was killed mid-epoch"
    assert seen["nodes_busy"] >= 2, "the worlds did not run on several nodes at once"
    # The lost node's task processes ended with it (else they would write on, beside
    # their retries), within a few seconds of the kill.
    assert seen["killed_tasks_alive_after"] == []
    print(f"local {local_seconds:.1f}s; 3-node cluster, one node killed at step "
          f"{seen['at']}: {ray_seconds:.1f}s")
    assert files_of(out) == files_of(local)  # checkpoints, finals, events, metrics
    assert len(ray.nodes()) == 4 and sum(n["Alive"] for n in ray.nodes()) == 3
