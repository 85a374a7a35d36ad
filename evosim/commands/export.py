"""``evosim export``: one robot's brain from a checkpoint to a brain file (needs torch)."""

from __future__ import annotations

import argparse
from pathlib import Path

from evosim.commands import _options as opts
from evosim.errors import BrainFileError, EvosimError

DESCRIPTION = ("Write one robot's brain from a checkpoint as a PyTorch brain file (needs "
               "torch).\nBest = the robot whose lineage ate the most fruit (over its living "
               "robots); ties: most fruit itself, then lowest slot.")
EXAMPLES = ("evosim export runs/classic-seed0/world-000/final.npz --best --out brain.pt",
            "evosim export run.npz --slot 7 --out brains/slot7.pt --force")


def parents() -> list[argparse.ArgumentParser]:
    return []


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", type=opts.path, help="a checkpoint file (.npz)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--slot", type=opts.int_at_least(0), help="robot slot to export")
    which.add_argument("--best", action="store_true", help="export the best robot (see above)")
    p.add_argument("--out", type=opts.path, required=True, help="brain file to write (.pt)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def run(options: argparse.Namespace) -> int:
    """Parsed options -> brain file, one summary line."""
    from evosim.torch import export_brain  # needs torch: imported only for this command

    if Path(options.out).exists() and not options.force:
        raise BrainFileError(f"{options.out}: already exists (use --force to replace it)")
    try:
        src = export_brain(options.checkpoint, options.out,
                           None if options.best else options.slot, overwrite=options.force)
    except EvosimError as exc:  # a slot out of range: name it by its flag
        if str(exc).startswith("slot:"):
            raise EvosimError(f"--{exc}") from None
        raise
    print(f"wrote {options.out}: slot {src['slot']} ({src['chosen_by']}) of "
          f"{options.checkpoint} at step {src['step']}: robot {src['robot_id']}, generation "
          f"{src['generation']}, fruit {src['fruit']}, lineage {src['lineage']} fruit "
          f"{src['lineage_fruit']}")
    return 0
