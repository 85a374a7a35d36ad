"""``evosim bench``: measure this machine and print a table or JSON."""

from __future__ import annotations

import argparse
import json

from evosim.bench.run import print_table, run_bench


def bench_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True, quiet=getattr(args, "quiet", False))
    with console.status("benchmarking") as status:
        result = run_bench(quick=args.quick,
                           progress=lambda msg: status.update(f"benchmarking: {msg}"))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0
