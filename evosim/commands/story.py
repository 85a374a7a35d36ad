"""``evosim story``: where each stage of the story begins, per world, as a table or JSON."""

from __future__ import annotations

import argparse
import json

from evosim.commands import _options as opts

DESCRIPTION = ("Find where each stage of the story begins in every world of a run: caution, "
               "fruit-seeking, speed (paid for in mine deaths), balance. The criteria are in "
               "docs/tutorials/story.md.")
EXAMPLES = ("evosim story runs/genesis", "evosim story runs/genesis --json")


def parents() -> list[argparse.ArgumentParser]:
    return [opts.json_flag('print {"worlds": [{"world", "stages", "in_order"}, ...]}')]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=opts.path, help="a run folder written by evosim evolve")


def run(options: argparse.Namespace) -> int:
    """Stage start steps per world; ``--json`` for the raw result."""
    from evosim.analysis.story import STAGES, run_story

    result = run_story(options.run_dir)
    if options.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'world':>5}  " + "  ".join(f"{name:>9}" for name in STAGES) + "  in order")
    for entry in [*result["worlds"], result["mean"]]:
        cells = ["-" if entry["stages"][name] is None else f"{entry['stages'][name]:,}"
                 for name in STAGES]
        print(f"{entry['world']:>5}  " + "  ".join(f"{c:>9}" for c in cells)
              + f"  {'yes' if entry['in_order'] else 'no'}")
    told = sum(entry["in_order"] for entry in result["worlds"])
    mean = "shows" if result["mean"]["in_order"] else "does not show"
    print(f"{told} of {len(result['worlds'])} world(s) show all four stages in order; "
          f"the across-world mean {mean} them")
    return 0
