"""Atomic writes: all or nothing, ordinary permissions."""

from __future__ import annotations

import os

import pytest

from evosim._atomic import atomic_open, atomic_write_text
from evosim.errors import EvosimError


def test_atomic_write_replaces_whole_file_with_normal_mode(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "precious")
    with pytest.raises(RuntimeError), atomic_open(path, "w") as handle:
        handle.write("half")
        raise RuntimeError("crash")
    assert path.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def _record_syscalls(monkeypatch) -> list[tuple[str, str]]:
    """(call, path) of each fsync, rename and directory open that _atomic makes."""
    import stat

    from evosim import _atomic
    from tests.helpers import ModuleProxy

    calls: list[tuple[str, str]] = []
    opened: dict[int, str] = {}

    def open_(path, flags, *args):
        fd = os.open(path, flags, *args)
        opened[fd] = str(path)
        return fd

    def fsync(fd):
        st = os.fstat(fd)
        what = opened.get(fd, "dir?") if stat.S_ISDIR(st.st_mode) else "file"
        calls.append(("fsync", what))
        return os.fsync(fd)

    def replace(src, dst):
        calls.append(("replace", str(dst)))
        return os.replace(src, dst)

    monkeypatch.setattr(_atomic, "os", ModuleProxy(os, open=open_, fsync=fsync, replace=replace))
    return calls


def test_the_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    calls = _record_syscalls(monkeypatch)
    path = tmp_path / "out.txt"
    atomic_write_text(path, "durable")
    assert calls == [("fsync", "file"), ("replace", str(path)), ("fsync", str(tmp_path))]


def test_new_folders_are_fsynced_in_their_parents(tmp_path, monkeypatch):
    calls = _record_syscalls(monkeypatch)
    atomic_write_text(tmp_path / "a" / "b" / "out.txt", "x")
    assert [c for c in calls if c[0] == "fsync"] == [
        ("fsync", str(tmp_path)), ("fsync", str(tmp_path / "a")), ("fsync", "file"),
        ("fsync", str(tmp_path / "a" / "b"))]


def test_a_full_disk_is_a_disk_full_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    from evosim.errors import DiskFullError
    from tests.helpers import FullDisk

    path = tmp_path / "out.txt"
    atomic_write_text(path, "precious")
    disk = FullDisk(monkeypatch, room=1500)
    with pytest.raises(DiskFullError) as info:
        atomic_write_text(path, "x" * 2000)
    assert str(info.value) == (f"{path}: no space left on device (writing it needs 2.0 kB, "
                               f"1.5 kB free); free some space and run the command again")
    assert path.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    disk.room = None  # freed
    atomic_write_text(path, "x" * 2000)
    assert path.read_text() == "x" * 2000


def test_other_write_errors_stay_what_they_are(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError) as info:
        atomic_write_text(tmp_path / "file" / "out.txt", "x")
    assert not isinstance(info.value, EvosimError)
