"""Where the world to show comes from: a checkpoint (``.npz``) or a scenario.

One rule for ``evosim watch`` and ``evosim record``: a ``.npz`` is a checkpoint
(which continues its own world, so ``--seed`` is refused), anything else a
scenario name or TOML path (seed default 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evosim.errors import CheckpointError, ScenarioError
from evosim.scenario import Scenario, load_scenario, scenario_from_dict
from evosim.world import World

VIDEO_SUFFIXES = (".mp4", ".gif")


def is_checkpoint(source: str | Path) -> bool:
    """True if ``source`` names a checkpoint (by its ``.npz`` extension)."""
    return str(source).lower().endswith(".npz")


def without_seed_brain(scenario: Scenario) -> Scenario:
    """``scenario`` with ``[evolution] seed_brain`` unset: its robots start with random brains."""
    if scenario.evolution.seed_brain is None:
        return scenario
    data = scenario.model_dump(mode="json")
    data["evolution"] = {**data["evolution"], "seed_brain": None}
    return scenario_from_dict(data, source=f"{scenario.name} (without seed_brain)")


@dataclass(frozen=True)
class Source:
    """A resolved ``SCENARIO|CHECKPOINT`` argument, checked but (for a scenario) not built."""

    name: str
    scenario: Scenario
    seed: int
    loaded_world: World | None = None  # the world a checkpoint held, else None

    @property
    def is_checkpoint(self) -> bool:
        return self.loaded_world is not None

    def world(self) -> World:
        """The checkpoint's world (continuing from its step), else a fresh world of the
        scenario. Call once: a checkpoint's world is the one loaded."""
        if self.loaded_world is not None:
            return self.loaded_world
        return World(self.scenario, seed=self.seed)


def resolve_source(source: str, seed: int | None, *, seed_hint: str = "give no seed") -> Source:
    """Check ``source`` (load a checkpoint, validate a scenario) without building a world.

    Raises :class:`CheckpointError` for ``--seed`` with a checkpoint (``seed_hint``
    ends that message), and the loaders' one-line errors for a bad file or name.
    """
    if is_checkpoint(source):
        if seed is not None:
            raise CheckpointError(f"{source}: seed: a checkpoint continues its own world "
                                  f"(seed fixed); {seed_hint}")
        world = World.load(source)
        return Source(source, world.scenario, world.seed, world)
    if Path(source).suffix.lower() in VIDEO_SUFFIXES:
        raise ScenarioError(f"{source}: expected a scenario or a checkpoint (.npz), got a video")
    return Source(source, load_scenario(source), 0 if seed is None else seed)
