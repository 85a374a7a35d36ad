"""Process safety of evolve: workers die with the main process, a lost worker is
rerun, SIGTERM stops like Ctrl-C, one writer per run folder, extending a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from evosim import World
from evosim.errors import EvosimError, RunDirError
from evosim.evolve import local_backend, resume
from evosim.evolve.batch import run_batch
from evosim.evolve.checkpoints import FINAL_FILE, METRICS_FILE, list_checkpoints, world_dir
from evosim.evolve.events import list_event_files, read_events
from evosim.evolve.lock import run_lock, world_lock
from tests.evolve.test_batch import run_in_process, tiny_plan
from tests.helpers import assert_states_equal

LONG = ["evolve", "classic", "--steps", "2000000", "--checkpoint-every", "2000",
        "--metrics-every", "2000", "--quiet"]


def workers_of(parent: int) -> list[int]:
    """Pids of the spawned worker processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "evosim", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*")
            if p.is_file()}


def event_bytes(run_dir: Path, index: int) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for _, p in list_event_files(run_dir, index)}


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_kill_9_of_evolve_ends_its_workers_and_frees_the_folder(tmp_path):
    out = tmp_path / "run"
    main = start_cli(*LONG, "--out", str(out))
    try:
        wait_for(lambda: list_checkpoints(out, 0))
        workers = workers_of(main.pid)
        assert len(workers) == 1
        second = subprocess.run([sys.executable, "-m", "evosim", "evolve", "--resume",
                                 str(out), "--quiet"], capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 2
        assert "another evosim process" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        main.kill()
        main.wait()
    finally:
        main.kill()
        main.communicate()
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=3.0)
    before = snapshot(out)
    time.sleep(1.5)
    assert snapshot(out) == before  # nobody writes to the folder any more
    with run_lock(out):  # the dead process's lock is gone
        pass


def test_sigterm_stops_like_ctrl_c(tmp_path):
    out = tmp_path / "run"
    main = start_cli(*LONG, "--out", str(out))
    wait_for(lambda: list_checkpoints(out, 0))
    workers = workers_of(main.pid)
    main.terminate()
    _, stderr = main.communicate(timeout=60)
    assert main.returncode == 130, stderr
    assert "Traceback" not in stderr and "leaked" not in stderr, stderr
    assert f"continue with: evosim evolve --resume {out}" in stderr
    assert not any(alive(pid) for pid in workers)


def test_a_second_writer_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    with run_lock(out):
        assert (out / ".lock").read_text().strip() == str(os.getpid())
        with pytest.raises(RunDirError, match=rf"another evosim process \(pid {os.getpid()}\)"):
            with run_lock(out):
                pass
    with run_lock(out):  # released when the holder is done
        pass


def test_a_world_has_one_writer_and_a_retry_waits_for_the_attempt_before(tmp_path):
    import threading

    folder = tmp_path / "world-000"
    held, release = threading.Event(), threading.Event()

    def earlier_attempt() -> None:
        with world_lock(folder):
            held.set()
            release.wait(10)

    first = threading.Thread(target=earlier_attempt)
    first.start()
    held.wait(10)
    with pytest.raises(RunDirError, match=r"world-000: still written by another process "
                                          r"\(pid \d+ on .+\) after 0s .*--resume$"):
        with world_lock(folder, wait=0.3):
            pass
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    with world_lock(folder, wait=10):  # waits for the earlier attempt to end
        assert time.monotonic() - started >= 0.4
    first.join()


def killer(parent: int, at_step: int):
    """A listener that kill -9s the (single) worker once it reports ``at_step``."""
    state = {"kills": 0}

    def listener(message: tuple) -> None:
        if message[0] == "step" and message[2] >= at_step and state["kills"] == 0:
            for pid in workers_of(parent):
                os.kill(pid, signal.SIGKILL)
                state["kills"] += 1

    return listener, state


def test_a_killed_worker_is_rerun_from_its_checkpoint_with_the_same_result(tmp_path):
    plan = tiny_plan(steps=300_000, worlds=1, checkpoint_every=2000, metrics_every=1000)
    whole = tmp_path / "whole"
    run_in_process(whole, plan)
    out = tmp_path / "broken"
    out.mkdir()
    plan.save(out)
    listener, state = killer(os.getpid(), at_step=5000)
    warnings: list[str] = []
    run_batch(out, plan, workers=1, listener=listener, warn=warnings.append)
    assert state["kills"] == 1
    assert len(warnings) == 1 and "world 0: its worker died (killed by SIGKILL)" in warnings[0]
    assert (out / METRICS_FILE).read_bytes() == (whole / METRICS_FILE).read_bytes()
    assert event_bytes(out, 0) == event_bytes(whole, 0)
    a = World.load(world_dir(whole, 0) / FINAL_FILE).state
    b = World.load(world_dir(out, 0) / FINAL_FILE).state
    assert_states_equal(a, b)


def test_a_world_lost_too_often_stops_the_run_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(local_backend, "RERUNS", 0)
    plan = tiny_plan(steps=300_000, worlds=1, checkpoint_every=2000, metrics_every=1000)
    plan.save(tmp_path)
    listener, _ = killer(os.getpid(), at_step=3000)
    with pytest.raises(EvosimError, match=r"world 0: its worker died 1 times .*killed by "
                                          r"SIGKILL.*evosim evolve --resume"):
        run_batch(tmp_path, plan, workers=1, listener=listener)


@pytest.mark.parametrize("first", [600, 500])  # on a metrics boundary (200), and not
def test_extending_a_run_equals_running_it_that_long(tmp_path, first):
    plan = tiny_plan(steps=900)
    whole = tmp_path / "whole"
    run_in_process(whole, plan)
    short = tmp_path / "short"
    run_in_process(short, tiny_plan(steps=first))
    assert resume(short, 900, workers=1).steps == 900
    assert (short / METRICS_FILE).read_bytes() == (whole / METRICS_FILE).read_bytes()
    for i in range(plan.worlds):
        a = World.load(world_dir(whole, i) / FINAL_FILE).state
        b = World.load(world_dir(short, i) / FINAL_FILE).state
        assert_states_equal(a, b)
        assert world_dir(short, i).joinpath(METRICS_FILE).read_bytes() == \
            world_dir(whole, i).joinpath(METRICS_FILE).read_bytes()
        # The log may be split at other steps (the first run's end), never differ.
        assert np.array_equal(read_events(short, i), read_events(whole, i))
    with pytest.raises(RunDirError, match="cannot be shortened"):
        resume(short, 800, workers=1)


# Long enough that the kill lands mid-run: about 0.8 s of stepping per world here.
ISLANDS = ["evolve", "classic", "--steps", "48000", "--worlds", "3", "--workers", "2",
           "--migrate-every", "8000", "--migrants", "2", "--checkpoint-every", "4000",
           "--metrics-every", "4000", "--quiet"]


@pytest.mark.slow
def test_kill_9_of_an_island_run_and_resume_give_the_same_bytes(tmp_path):
    whole = tmp_path / "whole"
    assert subprocess.run([sys.executable, "-m", "evosim", *ISLANDS, "--out", str(whole)],
                          capture_output=True, timeout=300).returncode == 0
    out = tmp_path / "broken"
    main = start_cli(*ISLANDS, "--out", str(out))
    try:  # killed mid-epoch, after the first migration: world 0 past step 8000
        wait_for(lambda: any(s > 8000 for s, _ in list_checkpoints(out, 0)))
        main.kill()
        main.wait()
    finally:
        main.kill()
        main.communicate()
    assert not (world_dir(out, 2) / FINAL_FILE).exists()
    resumed = subprocess.run([sys.executable, "-m", "evosim", "evolve", "--resume", str(out),
                              "--quiet"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / METRICS_FILE).read_bytes() == (whole / METRICS_FILE).read_bytes()
    for i in range(3):
        a = World.load(world_dir(whole, i) / FINAL_FILE).state
        b = World.load(world_dir(out, i) / FINAL_FILE).state
        assert_states_equal(a, b)
        assert [s for s, _ in list_checkpoints(out, i)] == list(range(4000, 48000, 4000))
