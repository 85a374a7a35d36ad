"""The side-by-side comparison with ``../shared/bench`` loads the references by path."""

from __future__ import annotations

import pytest

from evosim.bench.shared import compare_shared, default_shared_dir

SHARED = default_shared_dir()


@pytest.mark.skipif(SHARED is None, reason="no ../shared/bench beside this checkout")
def test_compare_shared_keys():
    assert SHARED is not None
    r = compare_shared(SHARED, rounds=1, seconds=0.05)
    for label in ("evosim", "numba_limit", "numpy_baseline"):
        d = r[label]
        assert 0 < d["min"] <= d["median"] <= d["max"] and d["repeats"] == 1
    assert r["evosim_vs_numba_limit"] == r["evosim"]["median"] / r["numba_limit"]["median"]
    assert r["evosim_vs_numpy_baseline"] == r["evosim"]["median"] / r["numpy_baseline"]["median"]


def test_compare_shared_names_a_missing_reference(tmp_path, capsys):
    from evosim.cli import main

    assert main(["bench", "--quick", "--compare-shared", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--compare-shared" in err and "numba_limit.py" in err
