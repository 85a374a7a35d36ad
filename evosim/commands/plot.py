"""``evosim plot``: a run's metrics as PNG figures."""

from __future__ import annotations

import argparse

from evosim.commands import _options as opts

DESCRIPTION = ("Plot a run's metrics.csv: fruit rate, mine-death rate, mean speed gene and "
               "mean generation over steps, one line per world and their mean; phases marked.")
EXAMPLES = ("evosim plot runs/classic-seed0", "evosim plot runs/gen --out figures/genesis")


def parents() -> list[argparse.ArgumentParser]:
    return []


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=opts.path, help="a run folder written by evosim evolve")
    p.add_argument("--out", type=opts.path, default=None,
                   help="folder for the PNGs (default RUN_DIR/plots)")


def run(options: argparse.Namespace) -> int:
    from evosim.analysis.plot import plot_run

    for path in plot_run(options.run_dir, options.out):
        print(path)
    return 0
