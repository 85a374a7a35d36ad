"""``evosim bench``: measure this machine and print a table or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evosim.commands import _options as opts
from evosim.errors import EvosimError

DESCRIPTION = ("Measure this machine: engine throughput (1 thread, scaled world, all cores), "
               "the NumPy baseline, draw/record fps, compile time.")
EXAMPLES = ("evosim bench", "evosim bench --quick --json > bench.json")


def parents() -> list[argparse.ArgumentParser]:
    return [opts.json_flag("print the figures as a JSON object"),
            opts.quiet_flag("no progress line")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="fewer, shorter repeats (about 10 s)")
    p.add_argument("--compare-shared", metavar="DIR", default=None,
                   help="time the engine beside DIR/numba_limit.py and DIR/numpy_baseline.py "
                   "in one interleaved run (default: ../shared/bench when it exists; "
                   "'none' to skip)")


def run(options: argparse.Namespace) -> int:
    from rich.console import Console

    from evosim.bench.run import print_table, run_bench
    from evosim.bench.shared import NUMBA_REF, NUMPY_REF, default_shared_dir

    console = Console(stderr=True, quiet=options.quiet)
    chosen = options.compare_shared
    if chosen is None:
        shared = default_shared_dir()
    elif chosen == "none":
        shared = None
    else:
        shared = Path(chosen)
        missing = [n for n in (NUMBA_REF, NUMPY_REF) if not (shared / n).is_file()]
        if missing:
            raise EvosimError(f"--compare-shared {chosen}: no {' or '.join(missing)} there")
    with console.status("benchmarking") as status:
        result = run_bench(quick=options.quick, shared_dir=shared,
                           progress=lambda msg: status.update(f"benchmarking: {msg}"))
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0
