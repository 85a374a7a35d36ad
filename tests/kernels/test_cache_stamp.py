"""The kernels' Numba cache is dropped when any kernel source changes (Numba itself
only checks the file a kernel is defined in, not the helpers it inlines)."""

from __future__ import annotations

from pathlib import Path

import evosim.kernels
from evosim.kernels import SOURCES_STAMP, drop_stale_cache, sources_digest


def _cached(folder: Path) -> set[str]:
    return {p.name for p in (folder / "__pycache__").glob("*.nb[ic]")}


def test_an_edit_to_any_kernel_file_drops_the_cache(tmp_path):
    (tmp_path / "step.py").write_text("def step(): pass\n")
    (tmp_path / "vision.py").write_text("def see(): pass\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    for name in ("step.step-1.py311.nbi", "step.step-1.py311.1.nbc"):
        (cache / name).write_bytes(b"cached")
    assert drop_stale_cache(tmp_path)  # built from unknown sources: dropped
    assert _cached(tmp_path) == set()
    assert (cache / SOURCES_STAMP).read_text() == sources_digest(tmp_path)
    (cache / "step.step-1.py311.nbi").write_bytes(b"cached again")
    assert not drop_stale_cache(tmp_path)  # same sources: kept
    assert _cached(tmp_path) == {"step.step-1.py311.nbi"}
    (tmp_path / "vision.py").write_text("def see(): return 1\n")  # only the helper changes
    assert drop_stale_cache(tmp_path)
    assert _cached(tmp_path) == set()


def test_the_installed_kernels_carry_a_matching_stamp():
    folder = Path(evosim.kernels.__file__).parent
    stamp = folder / "__pycache__" / SOURCES_STAMP
    assert stamp.read_text() == sources_digest(folder)
