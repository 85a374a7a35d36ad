"""Fuzzing run folders: mutated run.json fields and metrics.csv bytes.

``evolve --resume`` and ``plot``'s reader must answer every folder with exit 0
or one line and exit 2 (the run is finished, so a resume only checks and
rebuilds; no world is stepped in these tests).
"""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evosim.errors import EvosimError
from evosim.evolve.metrics import rebuild_metrics
from evosim.evolve.plan import RunPlan
from evosim.evolve.resuming import final_step
from tests.helpers import TINY_TOML, examples, run_cli

FIELDS = ["steps", "checkpoint_every", "metrics_every", "seed", "seeds", "scenario",
          "evosim_version", "command", "format", "schema", "worlds"]
VALUES = st.one_of(
    st.sampled_from([None, True, 0, 1, -1, 20, 10, 5, 1.5, 20.0, "20", "", [], {}, [1], [-1],
                     [0.5], ["a"], {"a": 1}, 2**62, 2**64, 10**18, 2**70, "evosim-run",
                     [0, 1, 2], "<deep>"]),
    st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    (root / "tiny.toml").write_text(TINY_TOML)
    code, _, err = run_cli(["evolve", "tiny.toml", "--steps", "20", "--metrics-every", "5",
                            "--checkpoint-every", "10", "--workers", "1", "--quiet",
                            "--out", "run"], root)
    assert code == 0, err
    return root / "run"


def _copy(run, tmp_path_factory):
    dest = tmp_path_factory.mktemp("copy") / "run"
    shutil.copytree(run, dest)
    return dest


@settings(max_examples=examples(200), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_run_files_load_or_fail_in_one_line(finished_run, tmp_path_factory, data):
    run = _copy(finished_run, tmp_path_factory)
    plan = json.loads((run / "run.json").read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(FIELDS))
        plan[key] = data.draw(VALUES)
    text = json.dumps(plan).replace('"<deep>"', "[" * 5000 + "]" * 5000)
    (run / "run.json").write_text(text)
    try:
        loaded = RunPlan.load(run)
        for i in range(loaded.worlds):
            final_step(run, loaded, i)
    except EvosimError as exc:
        assert "\n" not in str(exc)
        event("refused")
        return
    event("accepted")
    assert isinstance(loaded.steps, int) and loaded.steps >= 1
    assert all(isinstance(s, int) for s in loaded.seeds)


@settings(max_examples=examples(60), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_metrics_files_resume_or_fail_in_one_line(finished_run, tmp_path_factory,
                                                            data):
    run = _copy(finished_run, tmp_path_factory)
    target = run / data.draw(st.sampled_from(["metrics.csv", "world-000/metrics.csv"]))
    raw = bytearray(target.read_bytes())
    op = data.draw(st.sampled_from(["flip", "truncate", "insert", "binary", "nan"]))
    at = data.draw(st.integers(0, len(raw) - 1))
    if op == "flip":
        raw[at] = data.draw(st.integers(0, 255))
    elif op == "truncate":
        del raw[at:]
    elif op == "insert":
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=32))
    elif op == "binary":
        raw = bytearray(data.draw(st.binary(min_size=1, max_size=200)))
    else:
        raw = raw.replace(b",0,", f",{data.draw(st.sampled_from(['nan', 'inf', '1e999']))},"
                          .encode(), 1)
    target.write_bytes(bytes(raw))
    code, _, _ = run_cli(["evolve", "--resume", str(run), "--workers", "1", "--quiet"], run)
    event(f"exit {code}")
    if code == 0:  # the top-level file was garbage: it is rebuilt from the worlds' files
        assert (run / "metrics.csv").read_bytes() == rebuild_metrics(run,
                                                                     RunPlan.load(run)).encode()
