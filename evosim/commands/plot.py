"""``evosim plot``: a run's metrics as PNG figures."""

from __future__ import annotations

import argparse

from evosim.evolve.plot import plot_run


def plot_command(args: argparse.Namespace) -> int:
    for path in plot_run(args.run_dir, args.out):
        print(path)
    return 0
