"""``evosim evaluate``: a checkpoint's genomes against random ones, as a table or JSON."""

from __future__ import annotations

import argparse
import json

from evosim import limits
from evosim.commands import _options as opts

DESCRIPTION = ("Put a checkpoint's genomes into K fresh worlds with reproduction off (dead "
               "robots come back with the same genome) and compare them with random genomes "
               "in the very same worlds: fruit and mine deaths per robot per 1000 ticks, "
               "realised speed (units/tick); mean and std across seeds.")
EXAMPLES = ("evosim evaluate runs/classic-seed1/world-000/final.npz",
            "evosim evaluate run.npz --steps 10000 --seeds 8 --json")


def parents() -> list[argparse.ArgumentParser]:
    return [opts.seed_flag(0, "seed of the evaluation worlds (default 0)"),
            opts.json_flag('print {"evolved": {...}, "random": {...}} as JSON'),
            opts.quiet_flag()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", type=opts.path, help="a checkpoint file (.npz)")
    p.add_argument("--steps", type=opts.int_at_least(1, limits.MAX_EVAL_STEPS), default=5000,
                   help="ticks per evaluation world (default 5000)")
    p.add_argument("--seeds", type=opts.int_at_least(1, limits.MAX_EVAL_SEEDS), default=5,
                   help="evaluation worlds per arm (default 5)")


def run(options: argparse.Namespace) -> int:
    """``evosim evaluate``: a table (or ``--json``) of both arms, mean and std across seeds."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from evosim._compile import say_if_compiling
    from evosim.commands._files import require_npz
    from evosim.evolve.evaluate import KEYS, evaluate_checkpoint

    require_npz(options.checkpoint)
    quiet = options.json or options.quiet
    say_if_compiling(quiet)
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]evaluating"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True, disable=quiet) as progress:
        task = progress.add_task("", total=2 * options.seeds)
        result = evaluate_checkpoint(options.checkpoint, options.steps, options.seeds,
                                     options.seed, on_world=lambda: progress.advance(task))
    if options.json:
        print(json.dumps(result, indent=2))
        return 0
    table = Table(title=f"{options.checkpoint}: {options.seeds} seed(s) x {options.steps} "
                        f"steps, reproduction off")
    for column in ("metric", "evolved", "random", "ratio"):
        table.add_column(column, justify="left" if column == "metric" else "right",
                         no_wrap=True)
    for key in KEYS:
        e, r = result["evolved"][key], result["random"][key]
        ratio = f"{e['mean'] / r['mean']:.2f}x" if r["mean"] else "-"
        table.add_row(key, f"{e['mean']:.3f} ± {e['std']:.3f}",
                      f"{r['mean']:.3f} ± {r['std']:.3f}", ratio)
    Console().print(table)
    return 0
