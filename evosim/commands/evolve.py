"""``evosim evolve``: start a batch run (or continue a checkpoint's world in a new one),
with a progress bar and a summary. The run itself is :func:`evosim.evolve.run`;
``evolve --resume DIR`` is ``evosim resume DIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evosim import limits
from evosim.commands import _options as opts
from evosim.errors import EvosimError
from evosim.evolve.runfile import (
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_METRICS_EVERY,
    DEFAULT_RECORD_STEPS,
)

DESCRIPTION = ("Evolve K independent worlds headless in worker processes; write metrics, "
               "checkpoints and final states to a run folder (resumable after a crash).")
EXAMPLES = (
    "evosim evolve classic --steps 20000",
    "evosim evolve classic --steps 200000 --worlds 8 --workers 4 --seed 3 --out runs/c8",
    "evosim evolve genesis --steps 200000 --worlds 4 --metrics-every 2000 --out runs/gen",
    "evosim evolve classic --steps 200000 --worlds 8 --migrate-every 10000 --migrants 2",
    "evosim evolve classic --steps 200000 --worlds 8 --backend ray --ray-address auto",
    "evosim evolve --resume runs/c8            # as evosim resume runs/c8",
    "evosim evolve runs/c8/world-000/final.npz --steps 50000 --out runs/more",
)
# The library's argument for each flag whose value it names in its errors.
VALUES = ("steps", "worlds", "workers", "threads", "metrics_every", "checkpoint_every",
          "record_every", "record_steps", "migrate_every", "migrants")
# Flags that a run folder decides (with --resume they must not be given).
_RUN_SETTINGS = (("SCENARIO", "scenario"), ("--out", "out"),
                 ("--checkpoint-every", "checkpoint_every"),
                 ("--metrics-every", "metrics_every"), ("--migrate-every", "migrate_every"),
                 ("--migrants", "migrants"), ("--record-every", "record_every"),
                 ("--record-steps", "record_steps"))


def parents() -> list[argparse.ArgumentParser]:
    return [opts.seed_flag(0, "run seed (default 0)"), opts.compute_flags(),
            opts.quiet_flag(), opts.json_flag(opts.RUN_JSON_HELP)]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", metavar="SCENARIO|CHECKPOINT", type=opts.text,
                   help="built-in scenario name (see scenarios/), a .toml path, or a "
                   "checkpoint .npz whose world continues in a new run folder")
    p.add_argument("--steps", type=opts.int_at_least(1),
                   help="ticks to run each world (from a checkpoint: ticks beyond its step; "
                   "with --resume: the run's new length, to extend it)")
    p.add_argument("--worlds", type=opts.int_at_least(1, limits.MAX_WORLDS), default=1,
                   help="independent worlds, seeds from SeedSequence(seed).spawn(worlds) "
                        "(default 1)")
    p.add_argument("--out", type=opts.path, default=None,
                   help="output folder (default runs/SCENARIO-seedS); must be new or empty")
    p.add_argument("--checkpoint-every", type=opts.int_at_least(1), default=None,
                   help=f"ticks between checkpoints (default {DEFAULT_CHECKPOINT_EVERY})")
    p.add_argument("--metrics-every", type=opts.int_at_least(1), default=None,
                   help=f"ticks per metrics row (default {DEFAULT_METRICS_EVERY})")
    p.add_argument("--migrate-every", type=opts.int_at_least(0, limits.MAX_STEP), default=None,
                   metavar="T", help="islands: ticks between migrations, 0 for none "
                   "(overrides the scenario's migration.every)")
    p.add_argument("--migrants", type=opts.int_at_least(0, limits.MAX_ROBOTS), default=None,
                   metavar="K", help="islands: best robots each world sends to the next "
                   "world of the ring per migration (overrides migration.count)")
    p.add_argument("--record-every", type=opts.int_at_least(1), default=None, metavar="T",
                   help="write a short clip of each world every T ticks "
                   "(RUN/world-NNN/clips/step-N.mp4); the run's results do not change")
    p.add_argument("--record-steps", type=opts.int_at_least(1, 100_000), default=None,
                   metavar="S", help=f"ticks per clip (default {DEFAULT_RECORD_STEPS})")
    p.add_argument("--resume", type=opts.path, default=None, metavar="DIR",
                   help="continue the run in DIR from its last checkpoints, as evosim resume "
                   "DIR (takes only --steps, --workers, --threads, --backend, --ray-address, "
                   "--quiet and --json besides)")


def _check(options: argparse.Namespace) -> None:
    """``--resume DIR`` takes its settings from the folder; otherwise SCENARIO and --steps."""
    if options.resume is not None:
        given = [flag for flag, name in _RUN_SETTINGS if vars(options)[name] is not None]
        if options.worlds != 1 or options.seed != 0:
            given.append("--worlds/--seed")
        if given:
            raise EvosimError(f"--resume takes its settings from the run folder; "
                              f"drop {', '.join(given)}")
    opts.check_compute(options)
    if options.resume is None and (options.scenario is None or options.steps is None):
        raise EvosimError("expected SCENARIO and --steps N (SCENARIO may be a checkpoint "
                          ".npz), or --resume DIR")
    if options.resume is None and options.record_steps is not None and \
            options.record_every is None:
        raise EvosimError("--record-steps: needs --record-every T (how often to record)")
    if options.scenario is not None and Path(options.scenario).suffix == ".npz":
        if options.worlds != 1:
            raise EvosimError("a checkpoint is one world: drop --worlds")
        if options.migrate_every is not None or options.migrants is not None:
            raise EvosimError("a checkpoint is one world, with no neighbour to migrate to: "
                              "drop --migrate-every/--migrants")


def run(options: argparse.Namespace) -> int:
    from evosim.commands._progress import finish, live_progress, resume_clipper
    from evosim.commands._signals import sigterm_as_interrupt
    from evosim.evolve import runs

    _check(options)
    quiet = options.quiet or options.json
    compute = {"workers": options.workers, "threads": options.threads,
               "backend": options.backend, "ray_address": options.ray_address,
               "progress": live_progress(quiet), "notice": None if quiet else sys.stderr,
               "command": opts.recorded_command(sys.argv[1:])}
    try:
        with sigterm_as_interrupt():
            if options.resume is not None:
                result = runs.resume(options.resume, options.steps,
                                     clipper=resume_clipper(options.resume), **compute)
            else:
                record_every = options.record_every or 0
                result = runs.run(
                    options.scenario, options.steps, worlds=options.worlds, seed=options.seed,
                    out=options.out,
                    checkpoint_every=options.checkpoint_every or DEFAULT_CHECKPOINT_EVERY,
                    metrics_every=options.metrics_every or DEFAULT_METRICS_EVERY,
                    migrate_every=options.migrate_every, migrants=options.migrants,
                    record_every=record_every,
                    record_steps=options.record_steps or DEFAULT_RECORD_STEPS,
                    clipper=resume_clipper(None) if record_every else None, **compute)
    except EvosimError as exc:
        raise opts.as_flags(exc, VALUES) from None
    return finish(result, options.json)
