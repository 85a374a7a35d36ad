"""``evosim bench --quick --json`` reports every figure the issue names."""

from __future__ import annotations

import json

from evosim.cli import main
from evosim.evolve.batch import default_workers


def test_bench_quick_json(capsys):
    assert main(["bench", "--quick", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["robot_steps_per_s"] == r["classic"]["median"] > 0
    for key in ("classic", "scaled", "numpy_baseline"):
        d = r[key]
        assert d["min"] <= d["median"] <= d["max"] and d["repeats"] >= 3
        assert d["ns_per_robot_step"] > 0
    assert r["scaled"]["robots"] == 100 * r["classic"]["robots"]
    assert r["scaled_cost_ratio"] > 0 and r["speedup_vs_numpy"] > 1
    th = r["threaded"]
    assert th["threads"] >= 2 and th["robots"] == r["scaled"]["robots"] and th["speedup"] > 0
    p = r["parallel"]
    assert p["workers"] == default_workers() and p["worlds"] == 2 * p["workers"]
    assert p["speedup"] > 0 and 0 < p["efficiency"]
    assert r["draw_fps"] > 0 and r["record_fps"] > 0
    assert r["compile"]["cached_s"] > 0
    assert r["machine"]["cores"] == default_workers()
    # The rl extra is part of the test install: every env figure is measured.
    assert r["robot_env_steps_per_s"] == r["robot_env"]["median"] > 0
    assert r["parallel_env_agent_steps_per_s"] == r["parallel_env"]["median"] > 0
    assert r["vector_env_steps_per_s"] == r["vector_env"]["median"] > 0
    assert r["sync_vector_env_steps_per_s"] == r["sync_vector_env"]["median"] > 0
    for key in ("robot_env", "parallel_env", "vector_env", "sync_vector_env"):
        assert r[key]["min"] <= r[key]["median"] <= r[key]["max"]
