"""``evosim bench``: measure this machine and print a table or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evosim.bench.run import print_table, run_bench
from evosim.errors import EvosimError


def bench_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from evosim.bench.shared import NUMBA_REF, NUMPY_REF, default_shared_dir

    console = Console(stderr=True, quiet=getattr(args, "quiet", False))
    chosen = getattr(args, "compare_shared", None)
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
        result = run_bench(quick=args.quick, shared_dir=shared,
                           progress=lambda msg: status.update(f"benchmarking: {msg}"))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0
