"""Rewrite tests/golden/classic_seed0.json: run only when a change to the world's
rules or RNG is intended, and say so in the commit message.

    python -m tests.update_golden
"""

from __future__ import annotations

import json
from pathlib import Path

from evosim import World, load_scenario
from tests.world.test_determinism import GOLDEN, state_digest

STEPS = (0, 1, 10, 100, 1000, 5000)


def main() -> None:
    world = World(load_scenario("classic"), seed=0)
    entries = []
    for step in STEPS:
        world.step(step - world.step_count)
        entries.append({"step": step, "counters": world.counters, "digest": state_digest(world)})
    Path(GOLDEN).write_text(json.dumps({"scenario": "classic", "seed": 0,
                                        "checkpoints": entries}, indent=1) + "\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
