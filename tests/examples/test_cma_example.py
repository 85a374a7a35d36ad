"""examples/cma_es.py: CMA-ES improves a shared genome and evaluates it in fresh worlds."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("cma")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cma_es.py"


@pytest.mark.slow
def test_cma_es_beats_random_robots_in_fresh_worlds(tmp_path):
    spec = importlib.util.spec_from_file_location("cma_es", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "cma.json"
    assert module.main(["--generations", "12", "--popsize", "8", "--episode", "400",
                        "--eval-worlds", "2", "--eval-steps", "1000", "--seed", "1",
                        "--out", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["generations"] == 12
    cma, rand = saved["results"]["cma_es"], saved["results"]["random"]
    # 12 small generations already beat random robots on the fitness CMA-ES maximises
    # (fruit - 10 x mine deaths), in worlds it never trained in.
    def fitness(r):
        return r["fruit_per_robot_per_1k"] - 10 * r["mine_deaths_per_robot_per_1k"]

    assert fitness(cma) > fitness(rand) + 10, saved
