"""The Ray backend: the same run folder as the local backend, byte for byte, and a
Ray worker killed mid-epoch is retried with the same result. Skipped without Ray
(``pip install 'evosim[ray]'``; ``make test`` installs it)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from evosim.cli import main
from evosim.evolve.batch import run_batch
from evosim.evolve.checkpoints import RUN_FILE, list_checkpoints
from tests.evolve.test_islands import island_plan

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'evosim[ray]')")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    import logging

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
             log_to_driver=False)
    yield
    ray.shutdown()


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def test_ray_gives_the_same_run_folder_as_local(tmp_path):
    plan = island_plan(checkpoint_every=200)
    folders = []
    for backend in ("local", "ray"):
        out = tmp_path / backend
        out.mkdir()
        plan.save(out)
        run_batch(out, plan, workers=2, backend=backend)
        folders.append(out)
    local, on_ray = (files(f) for f in folders)
    assert sorted(local) == sorted(on_ray) and len(local) > 10
    assert local == on_ray  # every checkpoint, final state, metrics.csv and run.json


def test_evolve_backend_ray_writes_the_same_bytes(tmp_path, monkeypatch, capsys):
    argv = ["evolve", "classic", "--steps", "3000", "--worlds", "2", "--workers", "2",
            "--migrate-every", "1000", "--checkpoint-every", "1000", "--out", "run", "--quiet"]
    for backend in ("local", "ray"):
        (tmp_path / backend).mkdir()
        monkeypatch.chdir(tmp_path / backend)
        full = [*argv, "--backend", backend]
        monkeypatch.setattr("sys.argv", ["evosim", *full])
        assert main(full) == 0
    local, on_ray = files(tmp_path / "local" / "run"), files(tmp_path / "ray" / "run")
    assert local == on_ray
    assert "--backend" not in json.loads(local[RUN_FILE])["command"]


def ray_task_pids() -> list[int]:
    """Ray worker processes now running an evosim world epoch (their title says so)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"_world_epoch" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_killed_ray_worker_is_retried_and_the_run_is_the_same(tmp_path):
    plan = island_plan(steps=6000, worlds=2, every=3000, checkpoint_every=500)
    whole = tmp_path / "whole"
    whole.mkdir()
    plan.save(whole)
    run_batch(whole, plan, workers=2)
    out = tmp_path / "killed"
    out.mkdir()
    plan.save(out)
    killed: list[int] = []

    def kill_one() -> None:  # mid-epoch: once world 0 is past its first checkpoint
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            if any(1000 <= s < 3000 for s, _ in list_checkpoints(out, 0)):
                for pid in ray_task_pids()[:1]:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one)
    killer.start()
    run_batch(out, plan, workers=2, backend="ray")
    killer.join()
    assert killed, "no Ray worker was killed"
    assert files(whole) == files(out)
