"""``evosim brain``: one robot's network and response map from a checkpoint, as a PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from evosim.errors import EvosimError


def brain_command(args: argparse.Namespace) -> int:
    """Parsed arguments -> brain.png, one summary line."""
    from evosim.evolve.brainplot import draw_brain, pick_slot
    from evosim.world import World

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise EvosimError(f"--out: expected a .png file, got {args.out}")
    if out.exists() and not args.force:
        raise EvosimError(f"{out}: already exists (use --force to replace it)")
    world = World.load(args.checkpoint)
    s = world.state
    try:
        slot, how = pick_slot(s, None if args.best else args.slot)
    except EvosimError as exc:
        raise EvosimError(f"--{exc}") from None
    title = (f"{world.scenario.name}, step {world.step_count:,}: slot {slot} ({how}), "
             f"robot {int(s.robot_id[slot])}, generation {int(s.robot_generation[slot])}, "
             f"lineage {int(s.robot_lineage[slot])}, fruit {int(s.robot_fruit[slot])}")
    draw_brain(world.scenario, s.genome[slot], title, out)
    print(f"wrote {out}: {title}")
    return 0
