"""``evosim resume``: continue a stopped or killed run, or extend a finished one, with
a progress bar and a summary. The work is :func:`evosim.evolve.resume`."""

from __future__ import annotations

import argparse
import sys

from evosim.commands import _options as opts
from evosim.errors import EvosimError

DESCRIPTION = ("Continue the run in RUN_DIR from its last checkpoints (after a crash, "
               "Ctrl-C or kill -9), or extend it with --steps: the same files, byte for "
               "byte, as an unbroken run. A finished run is left alone.")
EXAMPLES = ("evosim resume runs/c8                  # continue a stopped or killed run",
            "evosim resume runs/c8 --steps 400000   # extend a run to 400000 steps",
            "evosim resume runs/c8 --workers 2 --quiet")
VALUES = ("steps", "workers", "threads")


def parents() -> list[argparse.ArgumentParser]:
    return [opts.compute_flags(), opts.quiet_flag(), opts.json_flag(opts.RUN_JSON_HELP)]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", type=opts.path,
                   help="a run folder written by evosim evolve")
    p.add_argument("--steps", type=opts.int_at_least(1), default=None,
                   help="the run's new length, to extend it (default: its own)")


def run(options: argparse.Namespace) -> int:
    from evosim.commands._progress import finish, live_progress, resume_clipper
    from evosim.commands._signals import sigterm_as_interrupt
    from evosim.evolve import runs

    opts.check_compute(options)
    quiet = options.quiet or options.json
    try:
        with sigterm_as_interrupt():
            result = runs.resume(options.run_dir, options.steps, workers=options.workers,
                                 threads=options.threads, backend=options.backend,
                                 ray_address=options.ray_address,
                                 clipper=resume_clipper(options.run_dir),
                                 progress=live_progress(quiet),
                                 notice=None if quiet else sys.stderr,
                                 command=opts.recorded_command(sys.argv[1:]))
    except EvosimError as exc:
        raise opts.as_flags(exc, VALUES) from None
    return finish(result, options.json)
