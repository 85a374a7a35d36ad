"""Evaluation: a checkpoint's genomes against random genomes in the very same worlds.

Both arms run K fresh worlds (seeds from ``SeedSequence(seed).spawn(K)``) of the
checkpoint's scenario with reproduction off: a robot that dies comes back
elsewhere with the same genome, so the population stays what is evaluated.
Phases are flattened to the settings active at the checkpoint's step (an
evolved genesis population is judged in the conditions it evolved in).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from evosim.evolve.plan import world_seeds
from evosim.scenario import Scenario
from evosim.world import World
from evosim.world.checkpoint import load_checkpoint

KEYS = ("fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k", "mean_speed")
SAMPLE_EVERY = 10  # ticks between samples of the realised speed


def evaluation_scenario(scenario: Scenario, step: int) -> Scenario:
    """``scenario`` without reproduction, same-genome respawn, phases frozen at ``step``.

    ``seed_brain`` is dropped: the random arm must start from random genomes
    (the evolved arm takes its genomes from the checkpoint), and evaluating
    must not need torch or the brain file the run was seeded from.
    """
    frozen = scenario.frozen_at(step)
    data = frozen.model_dump(mode="json")
    data["evolution"].update(reproduction=False, respawn="same_genome", seed_brain=None)
    return type(scenario).model_validate(data)


def measure(world: World, steps: int) -> dict[str, float]:
    """Run ``world`` for ``steps`` ticks; rates per robot per 1000 ticks, realised speed.

    ``mean_speed`` is the mean distance a living robot moves in one tick (world
    units), sampled every ``SAMPLE_EVERY`` ticks; respawn jumps are left out.
    """
    n = world.state.robot_xy.shape[0]
    before = world.counters
    limit = world.scenario.robots.speed_limit * 1.001
    moved_sum, moved_n = 0.0, 0  # running sums: memory stays flat however long it runs
    done = 0
    while done < steps:
        k = min(SAMPLE_EVERY, steps - done)
        world.step(k - 1)
        xy = world.state.robot_xy.copy()
        ids = world.state.robot_id.copy()
        world.step(1)
        done += k
        d = np.hypot(*(world.state.robot_xy - xy).T)
        same = (world.state.robot_id == ids) & (d <= limit)
        moved_sum += float(d[same].sum())
        moved_n += int(same.sum())
    after = world.counters
    per_k = 1000.0 / (n * steps)
    return {
        "fruit_per_robot_per_1k": (after["fruit_eaten"] - before["fruit_eaten"]) * per_k,
        "mine_deaths_per_robot_per_1k": (after["mine_deaths"] - before["mine_deaths"]) * per_k,
        "mean_speed": moved_sum / moved_n if moved_n else 0.0,
    }


def summarise(samples: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per key: mean and (population) standard deviation across seeds."""
    out = {}
    for key in KEYS:
        values = np.array([s[key] for s in samples], np.float64)
        out[key] = {"mean": round(float(values.mean()), 6), "std": round(float(values.std()), 6)}
    return out


def evaluate_checkpoint(path: str | Path, steps: int, seeds: int, seed: int = 0,
                        on_world: Callable[[], None] | None = None
                        ) -> dict[str, dict[str, dict[str, float]]]:
    """``{"evolved": {key: {"mean", "std"}}, "random": {...}}`` for a checkpoint file."""
    meta, checked, arrays = load_checkpoint(path)  # shapes, values and the scenario
    scenario = evaluation_scenario(checked, int(meta["step"]))
    arms: dict[str, list[dict[str, float]]] = {"evolved": [], "random": []}
    for world_seed in world_seeds(seed, seeds):
        evolved = World(scenario, seed=world_seed)
        evolved.set_genomes(arrays.genome)
        arms["evolved"].append(measure(evolved, steps))
        if on_world:
            on_world()
        arms["random"].append(measure(World(scenario, seed=world_seed), steps))
        if on_world:
            on_world()
    return {arm: summarise(samples) for arm, samples in arms.items()}
