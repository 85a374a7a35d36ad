"""``evosim evaluate``: a checkpoint's genomes against random ones, as a table or JSON."""

from __future__ import annotations

import argparse
import json

from evosim.commands._files import require_npz
from evosim.evolve.evaluate import KEYS, evaluate_checkpoint


def evaluate_command(args: argparse.Namespace) -> int:
    """``evosim evaluate``: a table (or ``--json``) of both arms, mean and std across seeds."""
    from evosim._compile import say_if_compiling

    require_npz(args.checkpoint)
    say_if_compiling(args.json or getattr(args, "quiet", False))
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]evaluating"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True,
                  disable=args.json or getattr(args, "quiet", False)) as progress:
        task = progress.add_task("", total=2 * args.seeds)
        result = evaluate_checkpoint(args.checkpoint, args.steps, args.seeds, args.seed,
                                     on_world=lambda: progress.advance(task))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    table = Table(title=f"{args.checkpoint}: {args.seeds} seed(s) x {args.steps} steps, "
                        f"reproduction off")
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
