"""``evosim export``: one robot's brain from a checkpoint to a brain file (needs torch)."""

from __future__ import annotations

import argparse
from pathlib import Path

from evosim.errors import BrainFileError, EvosimError


def export_command(args: argparse.Namespace) -> int:
    """Parsed arguments -> brain file, one summary line."""
    from evosim.torch import export_brain  # needs torch: imported only for this command

    if Path(args.out).exists() and not args.force:
        raise BrainFileError(f"{args.out}: already exists (use --force to replace it)")
    try:
        src = export_brain(args.checkpoint, args.out, None if args.best else args.slot,
                           overwrite=args.force)
    except EvosimError as exc:  # a slot out of range: name it by its flag
        if str(exc).startswith("slot:"):
            raise EvosimError(f"--{exc}") from None
        raise
    print(f"wrote {args.out}: slot {src['slot']} ({src['chosen_by']}) of {args.checkpoint} "
          f"at step {src['step']}: robot {src['robot_id']}, generation {src['generation']}, "
          f"fruit {src['fruit']}, lineage {src['lineage']} fruit {src['lineage_fruit']}")
    return 0
