"""``evosim compress``: a checkpoint's brains through six compression techniques, judged."""

from __future__ import annotations

import argparse
import json
import sys

from evosim import limits
from evosim.analysis.techniques import ARGUMENTS, DEFAULT_LEVELS, METHODS, setting
from evosim.commands import _options as opts

DESCRIPTION = ("Compress every brain of a checkpoint six ways, each at several sizes: "
               "down-sizing (a smaller hidden layer fitted to the brain's own outputs), "
               "low-rank SVD of W1, quantisation, JPEG (weight matrices as greyscale images), "
               "parameter sharing (k-means values) and magnitude pruning to the JPEG byte "
               "counts; evaluate each population, the original and random brains in the "
               "same fresh worlds as evosim evaluate. Bytes are real encoded sizes.")
EXAMPLES = ("evosim compress runs/classic-seed1/world-000/final.npz",
            "evosim compress run.npz --methods jpeg prune --quality 90 50 20 --out kept.png",
            "evosim compress run.npz --bits 8 4 2 1 --ranks 8 4 --hidden 12 6 3",
            "evosim compress run.npz --quality 50 --steps 2000 --seeds 2 --json")


def parents() -> list[argparse.ArgumentParser]:
    return [opts.seed_flag(0, "seed of the evaluation worlds (default 0, as evosim evaluate)"),
            opts.json_flag('print {"original": ..., "random": ..., "results": [...]} as JSON'),
            opts.quiet_flag()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", type=opts.path, help="a checkpoint file (.npz)")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=None, metavar="M",
                   help=f"techniques to run, of {', '.join(METHODS)} (default all)")
    p.add_argument("--quality", type=opts.int_at_least(1, 100), nargs="+", metavar="Q",
                   default=None, help="JPEG qualities, 1 to 100, also prune's byte targets "
                   "(default 90 50 20 5)")
    p.add_argument("--bits", type=opts.int_at_least(1, 8), nargs="+", metavar="B",
                   default=None, help="quantisation bits, 1 to 8 (default 8 4 2)")
    p.add_argument("--ranks", type=opts.int_at_least(1), nargs="+", metavar="R",
                   default=None, help="SVD ranks of W1, at most its smaller side "
                   "(default 4 2 1)")
    p.add_argument("--hidden", type=opts.int_at_least(1), nargs="+", metavar="K",
                   default=None, help="hidden units of the down-sized brains, fewer than the "
                   "brain's (default 8 4 2)")
    p.add_argument("--values", type=opts.int_at_least(1, 256), nargs="+", metavar="K",
                   default=None, help="shared values per matrix, 1 to 256 (default 16 4 2)")
    p.add_argument("--steps", type=opts.int_at_least(1, limits.MAX_EVAL_STEPS), default=4000,
                   help="ticks per evaluation world (default 4000)")
    p.add_argument("--seeds", type=opts.int_at_least(1, limits.MAX_EVAL_SEEDS), default=3,
                   help="evaluation worlds per population (default 3)")
    p.add_argument("--out", type=opts.path, default=None, metavar="PLOT.png",
                   help="write a plot of fruit kept vs bytes per brain (PNG)")


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "-"


def run(options: argparse.Namespace) -> int:
    """``evosim compress``: a table (or ``--json``) per method and quality, and a plot."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from evosim._compile import say_if_compiling
    from evosim.analysis.compress import (
        RESULT_KEYS,
        checkpoint_levels,
        compress_checkpoint,
        plot_kept,
        worlds_needed,
    )
    from evosim.commands._files import require_npz

    levels = {}
    for method in options.methods or METHODS:
        given = getattr(options, ARGUMENTS[method])
        levels[method] = tuple(given or DEFAULT_LEVELS[method])
    require_npz(options.checkpoint)
    levels = checkpoint_levels(options.checkpoint, levels)  # bad input: before any output
    say_if_compiling(options.json or options.quiet)
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]compressing and evaluating"), BarColumn(),
                  MofNCompleteColumn(), console=console, transient=True,
                  disable=options.json or options.quiet) as progress:
        task = progress.add_task("", total=worlds_needed(levels, options.seeds))
        result = compress_checkpoint(options.checkpoint, levels, options.steps,
                                     options.seeds, options.seed,
                                     on_world=lambda: progress.advance(task))
    title = f"{options.checkpoint}: {options.seeds} seed(s) x {options.steps} steps"
    if options.out is not None:
        plot_kept(result, options.out, title)
    float32 = result.pop("float32_bytes")
    if options.json:
        print(json.dumps(result, indent=2))
        return 0
    fruit0 = result["original"]["fruit_per_robot_per_1k"]["mean"]
    mine0 = result["original"]["mine_deaths_per_robot_per_1k"]["mean"]
    table = Table(title=f"{title}, reproduction off; float32 brain = {float32} bytes")
    for column in ("method", "setting", "bytes", "float32/", "fruit/1k", "kept", "mines/1k",
                   "vs orig"):
        table.add_column(column, justify="left" if column == "method" else "right",
                         no_wrap=True)
    rows = [("original", "float32", float32, result["original"]),
            *((r["method"], setting(r["method"], r["level"]), r["bytes_per_brain"], r)
              for r in result["results"]),
            ("random", None, None, result["random"])]
    for name, level, size, r in rows:
        f, m = (r[k] for k in RESULT_KEYS)
        table.add_row(name, level or "-",
                      "-" if size is None else f"{size:.0f}",
                      "-" if size is None else f"{float32 / size:.1f}:1",
                      f"{f['mean']:.3f} ± {f['std']:.3f}", _ratio(f["mean"], fruit0),
                      f"{m['mean']:.3f} ± {m['std']:.3f}", _ratio(m["mean"], mine0))
    Console(width=None if sys.stdout.isatty() else 120).print(table)
    if options.out is not None:
        console.print(f"plot: {options.out}")
    return 0
