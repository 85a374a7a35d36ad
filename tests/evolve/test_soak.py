"""Soak (slow): an island run of 8 worlds under random kill -9 of its driver and of
its workers, resumed after each driver kill, ends with every file equal to an
undisturbed run's, and its memory stays flat from resume to resume. The long
version is ``python -m tests.evolve.soak`` (see tests/evolve/soak.py)."""

from __future__ import annotations

import sys

import pytest

from tests.evolve.soak import soak

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


def test_a_run_killed_at_random_moments_ends_with_the_same_bytes(tmp_path):
    report = soak(tmp_path, worlds=8, steps=150_000, kills=10, seed=1, max_gap=3.0)
    assert report.driver_kills >= 1 and report.worker_kills >= 1
    assert report.resumes >= report.driver_kills
    assert report.files > 1000  # 8 worlds' checkpoints, events and metrics, and the run's
    assert report.differing == []
    assert len(report.samples) >= 3
    # Flat: no sample above the first by more than 10 % + 16 MB (measured here: +0.2 MB
    # for the driver, +1.8 MB for the workers).
    assert report.rss_flat(ratio=0.10, slack_mb=16.0), report.samples
