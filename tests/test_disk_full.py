"""A full disk, for every kind of file evosim writes (checkpoints, metrics, events,
plots, videos, brain files): one line naming the file and the room it needed (or
that the disk is full), what to do, exit 2, nothing under the file's final name,
no temp file left; and a run stopped by it resumes to the same bytes.

Two ways to fill a disk: :class:`tests.helpers.FullDisk` injects ``ENOSPC`` into the
atomic writes of this process, and a real tmpfs of a few hundred kilobytes (mounted
when the tests run as root, skipped otherwise) fills up under the worker processes,
ffmpeg and the resume.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from evosim import World, load_scenario
from evosim.errors import DiskFullError
from evosim.evolve import events, metrics, resume, runs
from evosim.evolve.checkpoints import FINAL_FILE, list_checkpoints, world_dir
from evosim.evolve.events import list_event_files, read_events_file
from evosim.evolve.plan import RunPlan
from evosim.evolve.worker import run_world
from evosim.record import writer as writer_module
from tests.evolve.test_batch import run_in_process, tiny_plan
from tests.helpers import (
    FullDisk,
    ModuleProxy,
    assert_one_line_error,
    files_of,
    run_cli,
    run_cli_child,
    tiny_scenario,
)

NO_SPACE = "no space left on device"
AGAIN = "free some space and run the command again"


def assert_no_temp_files(folder: Path) -> None:
    assert not [p for p in folder.rglob(".*") if p.is_file() and p.name != ".lock"]


# ---------------------------------------------------------------- each kind of file


def test_a_checkpoint_on_a_full_disk_names_the_file_and_the_room(tmp_path, monkeypatch):
    world = World(tiny_scenario(), seed=1)
    path = tmp_path / "w.npz"
    world.save(path)
    before = path.read_bytes()
    FullDisk(monkeypatch, room=1000)
    world.step(5)
    with pytest.raises(DiskFullError) as info:
        world.save(path)
    message = str(info.value)
    assert "\n" not in message
    needs = len(path.read_bytes())  # the same arrays, a step later: the same size
    assert message == (f"{path}: {NO_SPACE} (writing it needs {needs / 1000:.1f} kB, "
                       f"1.0 kB free); {AGAIN}")
    assert path.read_bytes() == before  # the old file, whole
    assert_no_temp_files(tmp_path)


@pytest.mark.parametrize("kind", ["metrics", "events"])
def test_metrics_and_events_on_a_full_disk(tmp_path, monkeypatch, kind):
    plan = tiny_plan(steps=400, worlds=1)
    run_in_process(tmp_path / "run", plan)
    world = World.load(world_dir(tmp_path / "run", 0) / FINAL_FILE)
    FullDisk(monkeypatch, room=10)
    row = metrics.metrics_row(world, 0, metrics.counters_vector(world))
    with pytest.raises(DiskFullError, match=rf"^{tmp_path}/out/\S+: {NO_SPACE} \(writing "
                                            rf"it needs \d+ bytes, 10 bytes free\)"):
        if kind == "metrics":
            path = tmp_path / "out" / "metrics.csv"
            metrics.write_rows(path, [row])
        else:
            path = tmp_path / "out" / "step-000000400.csv.gz"
            events.write_events(path, world.initial_events())
    assert not path.exists()
    assert_no_temp_files(tmp_path / "out")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("finished")
    run_in_process(root / "run", tiny_plan(steps=600, worlds=2))
    return root / "run"


def test_plots_on_a_full_disk_are_one_line_and_exit_2(finished_run, tmp_path, monkeypatch):
    FullDisk(monkeypatch, room=0, match="*.png")
    code, _, err = run_cli(["plot", str(finished_run), "--out", "plots"], tmp_path)
    assert code == 2
    assert f"plots/overview.png: {NO_SPACE} (writing it needs" in err
    assert err.strip().endswith(AGAIN)
    assert not list((tmp_path / "plots").glob("*.png"))
    assert_no_temp_files(tmp_path)


def test_a_brain_figure_on_a_full_disk(finished_run, tmp_path, monkeypatch):
    FullDisk(monkeypatch, room=100, match="*.png")
    final = world_dir(finished_run, 0) / FINAL_FILE
    code, _, err = run_cli(["brain", str(final), "--slot", "0", "--out", "b.png"], tmp_path)
    assert code == 2 and f"b.png: {NO_SPACE} (writing it needs" in err
    assert "100 bytes free" in err
    assert not (tmp_path / "b.png").exists()
    assert_no_temp_files(tmp_path)


def test_a_brain_export_on_a_full_disk(finished_run, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    FullDisk(monkeypatch, room=100, match="*.pt")
    final = world_dir(finished_run, 0) / FINAL_FILE
    code, _, err = run_cli(["export", str(final), "--best", "--out", "brain.pt"], tmp_path)
    assert code == 2 and f"brain.pt: {NO_SPACE} (writing it needs" in err
    assert not (tmp_path / "brain.pt").exists()
    assert_no_temp_files(tmp_path)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("name", ["v.mp4", "v.gif"])
def test_a_video_on_a_full_disk(tmp_path, monkeypatch, name):
    """ffmpeg itself meets the full disk: its temporary file is a link to /dev/full,
    where every write fails with ENOSPC."""

    def mkstemp(*args, **kwargs):
        fd, tmp = tempfile.mkstemp(*args, **kwargs)
        os.unlink(tmp)
        os.symlink("/dev/full", tmp)
        return fd, tmp

    monkeypatch.setattr(writer_module, "tempfile", ModuleProxy(tempfile, mkstemp=mkstemp))
    code, _, err = run_cli(["record", "classic", "--steps", "4", "--size", "64x64", "--out",
                            name, "--quiet"], tmp_path)
    assert code == 2, err
    assert err.strip().startswith(f"evosim record: error: {name}: {NO_SPACE} (")
    assert err.strip().endswith(f" free); {AGAIN}")  # a video's size is not known ahead
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither video nor link


def test_the_error_crosses_processes_whole():
    error = DiskFullError("R/world-001/final.npz", 243_900, 86_000)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DiskFullError and str(copy) == str(error)
    assert str(error) == ("R/world-001/final.npz: no space left on device (writing it needs "
                          "243.9 kB, 86.0 kB free); " + AGAIN)
    assert "disk quota exceeded" in str(DiskFullError("x", quota=True))


# ---------------------------------------------------------------- a run stopped by it


def _in_process_batch(run_dir, plan, *_args, **_kwargs):
    """run_batch without worker processes, so FullDisk reaches every write."""
    for until in plan.epoch_ends():
        for i in range(plan.worlds):
            run_world(run_dir, plan, i, until)
    metrics.write_metrics(run_dir, plan)


@pytest.mark.parametrize("room", [3_000, 40_000, 130_000])  # an early, middle, late stop
def test_a_run_stopped_by_a_full_disk_resumes_to_the_same_bytes(tmp_path, monkeypatch, room):
    scenario = tiny_scenario()
    options = {"steps": 1200, "worlds": 2, "seed": 3, "checkpoint_every": 300,
               "metrics_every": 100, "migrate_every": 600, "migrants": 1}
    whole = runs.run(scenario, out=tmp_path / "whole", workers=1, **options).run_dir
    out = tmp_path / "full"
    monkeypatch.setattr(runs, "run_batch", _in_process_batch)
    disk = FullDisk(monkeypatch, room=room)
    with pytest.raises(DiskFullError) as info:
        runs.run(scenario, out=out, workers=1, **options)
    message = str(info.value)
    assert "\n" not in message and NO_SPACE in message and str(out) in message
    assert message.endswith(f"free some space, then continue with: evosim evolve --resume "
                            f"{out} (or: evosim resume {out})")
    assert_no_temp_files(out)
    for i in range(2):  # what is there is whole
        for _, path in list_checkpoints(out, i):
            World.load(path)
        for _, path in list_event_files(out, i):
            read_events_file(path)
    disk.room = None  # space freed
    monkeypatch.undo()  # the real backend again, with worker processes
    assert resume(out, workers=2).steps == 1200
    assert files_of(out) == files_of(whole)


# ---------------------------------------------------------------- a real small disk


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs mounted at ``tmp_path / "disk"`` (``resize(bytes)`` changes its size);
    skipped where mounting is not allowed (not root, or a container without it)."""
    mount = tmp_path / "disk"
    mount.mkdir()

    def resize(size: int, first: bool = False) -> None:
        options = f"size={size}" if first else f"remount,size={size}"
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            if first:
                pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
            raise AssertionError(done.stderr)

    if shutil.which("mount") is None or not sys.platform.startswith("linux"):
        pytest.skip("needs Linux's mount")
    resize(600_000, first=True)
    try:
        yield mount, resize
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


EVOLVE = ["evolve", "classic", "--steps", "60000", "--worlds", "2", "--workers", "2",
          "--checkpoint-every", "5000", "--metrics-every", "5000", "--out", "R", "--quiet"]


# Ray (a local cluster, ~18 s) with the slow tests; the local backend in every run.
@pytest.mark.parametrize("backend", ["local", pytest.param("ray", marks=pytest.mark.slow)])
def test_evolve_into_a_small_tmpfs_stops_in_one_line_and_resumes_the_same(tmp_path,
                                                                           small_disk,
                                                                           backend):
    if backend == "ray":
        pytest.importorskip("ray", reason="Ray is not installed (pip install 'evosim[ray]')")
    mount, resize = small_disk
    whole = tmp_path / "whole"
    whole.mkdir()
    assert run_cli_child(*EVOLVE, cwd=whole).returncode == 0
    stopped = run_cli_child(*EVOLVE, "--backend", backend, cwd=mount)
    assert_one_line_error(stopped, "evosim evolve: error: ")
    line = stopped.stderr.strip()
    assert "R/world-00" in line and f"{NO_SPACE} (writing it needs " in line
    assert line.endswith(" free); free some space, then continue with: evosim evolve "
                         "--resume R (or: evosim resume R)")
    assert_no_temp_files(mount / "R")
    resize(20_000_000)
    resumed = run_cli_child("resume", "R", "--quiet", "--backend", backend, cwd=mount)
    assert resumed.returncode == 0, resumed.stderr
    assert files_of(mount / "R") == files_of(whole / "R")  # run.json included


def test_record_into_a_small_tmpfs_is_one_line(small_disk):
    mount, resize = small_disk
    resize(40_000)
    result = run_cli_child("record", "classic", "--steps", "400", "--size", "320x240",
                           "--out", "v.mp4", "--quiet", cwd=mount)
    assert_one_line_error(result, f"evosim record: error: v.mp4: {NO_SPACE}")
    assert AGAIN in result.stderr
    assert sorted(p.name for p in mount.iterdir()) == []


def test_a_checkpoint_copy_into_a_small_tmpfs(small_disk):
    """World.save on a real full file system (not injected): the old file stays whole."""
    mount, _ = small_disk
    big = load_scenario("classic")
    world = World(big, seed=0)
    saved = []
    with pytest.raises(DiskFullError) as info:
        for n in range(10):
            saved.append(world.save(mount / f"c{n}.npz"))
    assert str(info.value).startswith(f"{mount}/c{len(saved)}.npz: {NO_SPACE} (writing it")
    for path in saved:
        assert World.load(path).step_count == 0
    assert sorted(p.name for p in mount.iterdir()) == [p.name for p in saved]


def test_a_run_that_cannot_write_its_run_json_leaves_its_folder_empty(tmp_path,
                                                                      monkeypatch):
    FullDisk(monkeypatch, room=100)
    with pytest.raises(DiskFullError) as info:
        runs.run(tiny_scenario(), 100, out=tmp_path / "R", workers=1)
    assert str(info.value).startswith(f"{tmp_path / 'R' / 'run.json'}: {NO_SPACE}")
    assert str(info.value).endswith(AGAIN)  # nothing to resume: the same command again
    assert [p.name for p in (tmp_path / "R").iterdir()] == [".lock"]


def test_plan_of_a_run_is_kept_when_run_json_cannot_be_extended(tmp_path, monkeypatch):
    """``resume --steps`` on a full disk: run.json stays as it was."""
    plan = tiny_plan(steps=300, worlds=1)
    run_in_process(tmp_path / "run", plan)
    before = (tmp_path / "run" / "run.json").read_bytes()
    FullDisk(monkeypatch, room=0, match="run.json")
    with pytest.raises(DiskFullError, match="continue with: evosim evolve --resume"):
        resume(tmp_path / "run", 600, workers=1)
    assert (tmp_path / "run" / "run.json").read_bytes() == before
    assert RunPlan.load(tmp_path / "run").steps == 300
