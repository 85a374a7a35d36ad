"""``evosim brain``: one robot's network and response map from a checkpoint, as a PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from evosim.commands import _options as opts
from evosim.errors import EvosimError

DESCRIPTION = ("Draw one robot's brain from a checkpoint: the network (inputs by ray and "
               "channel, edges coloured and sized by weight) and its turn and throttle with a "
               "single mine or fruit anywhere in its field of view. Best = as for export.")
EXAMPLES = ("evosim brain runs/classic-seed0/world-000/final.npz --best --out brain.png",
            "evosim brain run.npz --slot 7 --out slot7.png --force")


def parents() -> list[argparse.ArgumentParser]:
    return []


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", type=opts.path, help="a checkpoint file (.npz)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--slot", type=opts.int_at_least(0), help="robot slot to draw")
    which.add_argument("--best", action="store_true",
                       help="the robot whose lineage ate the most fruit")
    p.add_argument("--out", type=opts.path, required=True, help="PNG file to write")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def run(options: argparse.Namespace) -> int:
    """Parsed options -> brain.png, one summary line."""
    from evosim.analysis.brainplot import draw_brain, pick_slot
    from evosim.world import World

    out = Path(options.out)
    if out.suffix.lower() != ".png":
        raise EvosimError(f"--out: expected a .png file, got {options.out}")
    if out.exists() and not options.force:
        raise EvosimError(f"{out}: already exists (use --force to replace it)")
    world = World.load(options.checkpoint)
    s = world.state
    try:
        slot, how = pick_slot(s, None if options.best else options.slot)
    except EvosimError as exc:
        raise EvosimError(f"--{exc}") from None
    title = (f"{world.scenario.name}, step {world.step_count:,}: slot {slot} ({how}), "
             f"robot {int(s.robot_id[slot])}, generation {int(s.robot_generation[slot])}, "
             f"lineage {int(s.robot_lineage[slot])}, fruit {int(s.robot_fruit[slot])}")
    draw_brain(world.scenario, s.genome[slot], title, out)
    print(f"wrote {out}: {title}")
    return 0
