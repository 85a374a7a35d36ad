"""``evosim story``: where each stage of the story begins, per world, as a table or JSON;
over several runs, how often the four come in order."""

from __future__ import annotations

import argparse
import json

from evosim.commands import _options as opts

DESCRIPTION = ("Find where each stage of the story begins in every world of a run: caution, "
               "fruit-seeking, speed (paid for in mine deaths), balance. Given several runs "
               "(seeds), print a line per run and how many worlds, and how many across-world "
               "means, show all four in order. The criteria are in docs/tutorials/story.md.")
EXAMPLES = ("evosim story runs/genesis",
            "evosim story runs/genesis --json",
            "evosim story runs/genesis-seed* --at 400000")


def parents() -> list[argparse.ArgumentParser]:
    return [opts.json_flag('print {"worlds": [{"world", "stages", "in_order"}, ...], "mean": '
                           '{...}}; for several runs {"runs": [{"run", "worlds", "mean"}, '
                           '...], "total": {"runs", "worlds", "worlds_in_order", '
                           '"means_in_order"}}')]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=opts.path, nargs="+",
                   help="one or more run folders written by evosim evolve")
    p.add_argument("--at", type=opts.int_at_least(1), default=None, metavar="STEP",
                   help="tell the story of each run's first STEP steps only, as if it had "
                        "stopped there (STEP: a step with a metrics row in every world)")


def run(options: argparse.Namespace) -> int:
    """Stage start steps per world; several runs: a line each and the totals; ``--json``
    for the raw result."""
    from evosim.analysis.story import run_story, tally

    results = [run_story(d, options.at) for d in options.run_dir]
    if len(results) == 1:
        if options.json:
            print(json.dumps(results[0], indent=2))
        else:
            _print_one(results[0])
        return 0
    total = tally(results)
    if options.json:
        runs = [{"run": str(d), **r} for d, r in zip(options.run_dir, results, strict=True)]
        print(json.dumps({"runs": runs, "total": total}, indent=2))
        return 0
    for d, r in zip(options.run_dir, results, strict=True):
        told = sum(w["in_order"] for w in r["worlds"])
        print(f"{d}: {told} of {len(r['worlds'])} world(s) in order; the mean "
              f"{'in order' if r['mean']['in_order'] else 'not in order'}")
    share = total["worlds_in_order"] / max(total["worlds"], 1)
    print(f"{total['runs']} runs: {total['worlds_in_order']} of {total['worlds']} worlds "
          f"({share:.0%}) show all four stages in order; the across-world mean does in "
          f"{total['means_in_order']} of {total['runs']}")
    return 0


def _print_one(result: dict) -> None:
    from evosim.analysis.story import STAGES

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
