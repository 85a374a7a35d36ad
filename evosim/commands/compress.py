"""``evosim compress``: a checkpoint's brains through JPEG, 8-bit and pruning, judged."""

from __future__ import annotations

import argparse
import json
import sys

from evosim.commands._files import require_npz
from evosim.evolve.compress import (
    DEFAULT_QUALITIES,
    RESULT_KEYS,
    check_quality,
    compress_checkpoint,
    plot_kept,
    worlds_needed,
)


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "-"


def compress_command(args: argparse.Namespace) -> int:
    """``evosim compress``: a table (or ``--json``) per method and quality, and a plot."""
    from evosim._compile import say_if_compiling

    qualities = [check_quality(q) for q in (args.quality or DEFAULT_QUALITIES)]
    require_npz(args.checkpoint)
    say_if_compiling(args.json or args.quiet)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]compressing and evaluating"), BarColumn(),
                  MofNCompleteColumn(), console=console, transient=True,
                  disable=args.json or args.quiet) as progress:
        task = progress.add_task("", total=worlds_needed(qualities, args.seeds))
        result = compress_checkpoint(args.checkpoint, qualities, args.steps, args.seeds,
                                     args.seed, on_world=lambda: progress.advance(task))
    if args.out is not None:
        plot_kept(result, args.out, f"{args.checkpoint}: {args.seeds} seed(s) x "
                                    f"{args.steps} steps")
    float32 = result.pop("float32_bytes")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    fruit0 = result["original"]["fruit_per_robot_per_1k"]["mean"]
    mine0 = result["original"]["mine_deaths_per_robot_per_1k"]["mean"]
    table = Table(title=f"{args.checkpoint}: {args.seeds} seed(s) x {args.steps} steps, "
                        f"reproduction off; float32 brain = {float32} bytes")
    for column in ("method", "Q", "bytes", "float32/", "fruit/1k", "kept", "mines/1k",
                   "vs orig"):
        table.add_column(column, justify="left" if column == "method" else "right",
                         no_wrap=True)
    rows = [("original", None, float32, result["original"]),
            *((r["method"], r["quality"], r["bytes_per_brain"], r)
              for r in result["results"]),
            ("random", None, None, result["random"])]
    for name, q, size, r in rows:
        f, m = (r[k] for k in RESULT_KEYS)
        table.add_row(name, "-" if q is None else str(q),
                      "-" if size is None else f"{size:.0f}",
                      "-" if size is None else f"{float32 / size:.1f}:1",
                      f"{f['mean']:.3f} ± {f['std']:.3f}", _ratio(f["mean"], fruit0),
                      f"{m['mean']:.3f} ± {m['std']:.3f}", _ratio(m["mean"], mine0))
    Console(width=None if sys.stdout.isatty() else 120).print(table)
    if args.out is not None:
        console.print(f"plot: {args.out}")
    return 0
