"""Atomic writes: all or nothing, ordinary permissions."""

from __future__ import annotations

import os

import pytest

from evosim._atomic import atomic_open, atomic_write_text


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
