"""Clips recorded during evolution: a few hundred ticks of a copy of a world."""

from __future__ import annotations

from pathlib import Path

from evosim.record.record import record
from evosim.world import World

CLIP_SIZE = (640, 480)
CLIP_STEPS_PER_FRAME = 2


def record_clip(world: World, path: Path, steps: int) -> Path:
    """Record ``steps`` ticks of a copy of ``world`` to ``path`` (robots coloured by
    genome, with a key); ``world`` itself is not stepped or changed."""
    twin = world.copy()
    label = f"{world.scenario.name}  step {world.step_count:,}"
    return record(twin, path, steps=steps, steps_per_frame=CLIP_STEPS_PER_FRAME,
                  size=CLIP_SIZE, fps=30, labels=[label], progress=False, colour="genome")
