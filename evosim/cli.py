"""The ``evosim`` command: argument parsing and calls, nothing else.

Each subcommand has an ``_add_<name>`` function that declares its arguments and
points ``func`` at the code that does the work (imported lazily, so that
``evosim evolve`` never imports pygame and ``evosim --help`` stays fast).
Bad input of any kind ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from evosim import limits
from evosim._version import __version__
from evosim.errors import EvosimError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage dumps."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(lo: int, most: int = limits.MAX_STEP) -> Callable[[str], int]:
    """An integer argument from ``lo`` to ``most`` (every count has a ceiling: no hangs)."""

    def parse(text: str) -> int:
        try:
            if len(text) > 40:  # int() of huge digit strings is slow, and never valid here
                raise ValueError
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"expected an integer of at least {lo}, got {value}")
        if value > most:
            raise argparse.ArgumentTypeError(f"expected an integer from {lo} to {most:,}, "
                                             f"got {value:,}")
        return value

    parse.__name__ = f"integer >= {lo}"
    return parse


def _text(text: str) -> str:
    """A name or path: no NUL (the OS cannot take it), at most MAX_TEXT characters."""
    if "\0" in text or len(text) > limits.MAX_TEXT:
        raise argparse.ArgumentTypeError(f"expected a file name or path without NUL characters, "
                                         f"at most {limits.MAX_TEXT} long, got {text[:40]!r}")
    return text


def _path(text: str) -> Path:
    return Path(_text(text))


def _seed(text: str) -> int:
    value = _int_at_least(0, 2**64)(text)
    if value >= 2**64:
        raise argparse.ArgumentTypeError(f"expected an integer below 2**64, got {value}")
    return value


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _sub(sub: argparse._SubParsersAction, name: str, help_: str, *examples: str
         ) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help_,
        description=help_,
        epilog=_examples(*examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


# ---------------------------------------------------------------- evolve


def _add_evolve(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "evolve",
        "Evolve K independent worlds headless in worker processes; write metrics, "
        "checkpoints and final states to a run folder (resumable after a crash).",
        "evosim evolve classic --steps 20000",
        "evosim evolve classic --steps 200000 --worlds 8 --workers 4 --seed 3 --out runs/c8",
        "evosim evolve genesis --steps 200000 --worlds 4 --metrics-every 2000 --out runs/gen",
        "evosim evolve classic --steps 200000 --worlds 8 --migrate-every 10000 --migrants 2",
        "evosim evolve classic --steps 200000 --worlds 8 --backend ray --ray-address auto",
        "evosim evolve --resume runs/c8            # continue a stopped or killed run",
        "evosim evolve --resume runs/c8 --steps 400000   # extend a run to 400000 steps",
        "evosim evolve runs/c8/world-000/final.npz --steps 50000 --out runs/more",
    )
    p.add_argument("scenario", nargs="?", metavar="SCENARIO|CHECKPOINT", type=_text,
                   help="built-in scenario name (see scenarios/), a .toml path, or a "
                   "checkpoint .npz whose world continues in a new run folder")
    p.add_argument("--steps", type=_int_at_least(1),
                   help="ticks to run each world (from a checkpoint: ticks beyond its step; "
                   "with --resume: the run's new length, to extend it)")
    p.add_argument("--worlds", type=_int_at_least(1, limits.MAX_WORLDS), default=1,
                   help="independent worlds, seeds from SeedSequence(seed).spawn(worlds) "
                        "(default 1)")
    p.add_argument("--workers", type=_int_at_least(1), default=None,
                   help="worker processes, one thread each (default: all cores)")
    p.add_argument("--threads", type=_int_at_least(1, limits.MAX_THREADS), default=1,
                   help="threads per world, for fewer worlds than cores: vision, brains and moves "
                   "of each world split over them, the same results (default 1)")
    p.add_argument("--seed", type=_seed, default=0, help="run seed (default 0)")
    p.add_argument("--out", type=_path, default=None,
                   help="output folder (default runs/SCENARIO-seedS); must be new or empty")
    p.add_argument("--checkpoint-every", type=_int_at_least(1), default=None,
                   help="ticks between checkpoints (default 10000)")
    p.add_argument("--metrics-every", type=_int_at_least(1), default=None,
                   help="ticks per metrics row (default 1000)")
    p.add_argument("--migrate-every", type=_int_at_least(0, limits.MAX_STEP), default=None,
                   metavar="T", help="islands: ticks between migrations, 0 for none "
                   "(overrides the scenario's migration.every)")
    p.add_argument("--migrants", type=_int_at_least(0, limits.MAX_ROBOTS), default=None,
                   metavar="K", help="islands: best robots each world sends to the next "
                   "world of the ring per migration (overrides migration.count)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="where worlds run: local worker processes (default) or Ray tasks "
                        "(pip install 'evosim[ray]'); same results either way")
    p.add_argument("--ray-address", type=_text, default=None, metavar="ADDR",
                   help="with --backend ray: the cluster to join (as for ray.init; "
                        "default: a new local Ray)")
    p.add_argument("--record-every", type=_int_at_least(1), default=None, metavar="T",
                   help="write a short clip of each world every T ticks "
                   "(RUN/world-NNN/clips/step-N.mp4); the run's results do not change")
    p.add_argument("--record-steps", type=_int_at_least(1, 100_000), default=None,
                   metavar="S", help="ticks per clip (default 600)")
    p.add_argument("--resume", type=_path, default=None, metavar="DIR",
                   help="continue the run in DIR from its last checkpoints (takes only "
                        "--steps, --workers, --threads, --backend, --ray-address, --quiet "
                        "and --json besides)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true",
                   help="print the run's summary as a JSON object (implies --quiet)")
    p.set_defaults(func=_run_evolve)


def _run_evolve(args: argparse.Namespace) -> int:
    from evosim.commands.evolve import evolve_command

    return evolve_command(args)


# ---------------------------------------------------------------- evaluate


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "evaluate",
        "Put a checkpoint's genomes into K fresh worlds with reproduction off (dead robots "
        "come back with the same genome) and compare them with random genomes in the very "
        "same worlds: fruit and mine deaths per robot per 1000 ticks, realised speed "
        "(units/tick); mean and std across seeds.",
        "evosim evaluate runs/classic-seed1/world-000/final.npz",
        "evosim evaluate run.npz --steps 10000 --seeds 8 --json",
    )
    p.add_argument("checkpoint", type=_path, help="a checkpoint file (.npz)")
    p.add_argument("--steps", type=_int_at_least(1, limits.MAX_EVAL_STEPS), default=5000,
                   help="ticks per evaluation world (default 5000)")
    p.add_argument("--seeds", type=_int_at_least(1, limits.MAX_EVAL_SEEDS), default=5,
                   help="evaluation worlds per arm (default 5)")
    p.add_argument("--seed", type=_seed, default=0,
                   help="seed of the evaluation worlds (default 0)")
    p.add_argument("--json", action="store_true",
                   help='print {"evolved": {...}, "random": {...}} as JSON')
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    from evosim.commands.evaluate import evaluate_command

    return evaluate_command(args)


# ---------------------------------------------------------------- compress


def _add_compress(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "compress",
        "Compress every brain of a checkpoint with real JPEG (weight matrices as 8-bit "
        "greyscale images), with 8-bit quantisation and with magnitude pruning to the JPEG "
        "byte counts; evaluate each population, the original and random brains in the same "
        "fresh worlds as evosim evaluate.",
        "evosim compress runs/classic-seed1/world-000/final.npz",
        "evosim compress run.npz --quality 90 50 20 --out kept.png",
        "evosim compress run.npz --quality 50 --steps 2000 --seeds 2 --json",
    )
    p.add_argument("checkpoint", type=_path, help="a checkpoint file (.npz)")
    p.add_argument("--quality", type=_int_at_least(1, 100), nargs="+", metavar="Q", default=None,
                   help="JPEG qualities, 1 to 100 (default 90 50 20 5)")
    p.add_argument("--steps", type=_int_at_least(1, limits.MAX_EVAL_STEPS), default=4000,
                   help="ticks per evaluation world (default 4000)")
    p.add_argument("--seeds", type=_int_at_least(1, limits.MAX_EVAL_SEEDS), default=3,
                   help="evaluation worlds per population (default 3)")
    p.add_argument("--seed", type=_seed, default=0,
                   help="seed of the evaluation worlds (default 0, as evosim evaluate)")
    p.add_argument("--out", type=_path, default=None, metavar="PLOT.png",
                   help="write a plot of fruit kept vs bytes per brain (PNG)")
    p.add_argument("--json", action="store_true",
                   help='print {"original": ..., "random": ..., "results": [...]} as JSON')
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_compress)


def _run_compress(args: argparse.Namespace) -> int:
    from evosim.commands.compress import compress_command

    return compress_command(args)


# ---------------------------------------------------------------- plot


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "plot",
        "Plot a run's metrics.csv: fruit rate, mine-death rate, mean speed gene and mean "
        "generation over steps, one line per world and their mean; phases marked.",
        "evosim plot runs/classic-seed0",
        "evosim plot runs/gen --out figures/genesis",
    )
    p.add_argument("run_dir", type=_path, help="a run folder written by evosim evolve")
    p.add_argument("--out", type=_path, default=None,
                   help="folder for the PNGs (default RUN_DIR/plots)")
    p.set_defaults(func=_run_plot)


def _run_plot(args: argparse.Namespace) -> int:
    from evosim.commands.plot import plot_command

    return plot_command(args)


# ---------------------------------------------------------------- brain


def _add_brain(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "brain",
        "Draw one robot's brain from a checkpoint: the network (inputs by ray and channel, "
        "edges coloured and sized by weight) and its turn and throttle with a single mine "
        "or fruit anywhere in its field of view. Best = as for export.",
        "evosim brain runs/classic-seed0/world-000/final.npz --best --out brain.png",
        "evosim brain run.npz --slot 7 --out slot7.png --force",
    )
    p.add_argument("checkpoint", type=_path, help="a checkpoint file (.npz)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--slot", type=_int_at_least(0), help="robot slot to draw")
    which.add_argument("--best", action="store_true",
                       help="the robot whose lineage ate the most fruit")
    p.add_argument("--out", type=_path, required=True, help="PNG file to write")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_run_brain)


def _run_brain(args: argparse.Namespace) -> int:
    from evosim.commands.brain import brain_command

    return brain_command(args)


# ---------------------------------------------------------------- story


def _add_story(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "story",
        "Find where each stage of the story begins in every world of a run: caution, "
        "fruit-seeking, speed (paid for in mine deaths), balance. The criteria are in "
        "the README (\"The story\").",
        "evosim story runs/genesis",
        "evosim story runs/genesis --json",
    )
    p.add_argument("run_dir", type=_path, help="a run folder written by evosim evolve")
    p.add_argument("--json", action="store_true",
                   help='print {"worlds": [{"world", "stages", "in_order"}, ...]}')
    p.set_defaults(func=_run_story)


def _run_story(args: argparse.Namespace) -> int:
    from evosim.commands.story import story_command

    return story_command(args)


# ---------------------------------------------------------------- export


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "export",
        "Write one robot's brain from a checkpoint as a PyTorch brain file (needs torch).\n"
        "Best = the robot whose lineage ate the most fruit (over its living robots); "
        "ties: most fruit itself, then lowest slot.",
        "evosim export runs/classic-seed0/world-000/final.npz --best --out brain.pt",
        "evosim export run.npz --slot 7 --out brains/slot7.pt --force",
    )
    p.add_argument("checkpoint", type=_path, help="a checkpoint file (.npz)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--slot", type=_int_at_least(0), help="robot slot to export")
    which.add_argument("--best", action="store_true", help="export the best robot (see above)")
    p.add_argument("--out", type=_path, required=True, help="brain file to write (.pt)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from evosim.commands.export import export_command

    return export_command(args)


# ---------------------------------------------------------------- watch


def _add_watch(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "watch", "Watch a world evolve live in a window (press ? in it for the controls).",
        "evosim watch                                        # classic, seed 0",
        "evosim watch genesis --seed 3 --steps-per-frame 5",
        "evosim watch runs/classic-seed0/world-000/final.npz --rays",
        "without a display, record a video instead: evosim record --help",
    )
    p.add_argument("source", nargs="?", default="classic", type=_text,
                   metavar="SCENARIO|CHECKPOINT",
                   help="built-in scenario name, a .toml path, or a checkpoint .npz "
                   "(default classic)")
    p.add_argument("--seed", type=_seed, default=None,
                   help="world seed for a scenario (default 0); a checkpoint keeps its own")
    p.add_argument("--steps-per-frame", type=_int_at_least(0, limits.MAX_STEPS_PER_FRAME),
                   default=1, metavar="K",
                   help="ticks per frame, 0 = as fast as it goes (default 1; + and - change it)")
    p.add_argument("--fps", type=_int_at_least(1, limits.MAX_FPS), default=60,
                   help="frame cap (default 60)")
    p.add_argument("--size", type=_video_size, default=(1280, 720), metavar="WxH",
                   help="initial window size (default 1280x720; the window is resizable)")
    p.add_argument("--rays", action="store_true", help="start with every robot's rays shown")
    p.set_defaults(func=_run_watch)


def _run_watch(args: argparse.Namespace) -> int:
    from evosim.commands.watch import watch_command

    return watch_command(args)


# ---------------------------------------------------------------- record


def _video_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x720, "
                                         f"got {text!r}") from None
    if not (64 <= w <= 7680 and 64 <= h <= 4320):
        raise argparse.ArgumentTypeError(f"expected a width from 64 to 7680 and a height "
                                         f"from 64 to 4320, got {text!r}")
    return w, h


def _add_record(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "record", "Record a world to a video (mp4 or gif, by the --out extension), "
        "off-screen.",
        "evosim record classic --steps 3000 --out recordings/classic.mp4",
        "evosim record runs/classic-seed0/world-000/final.npz --steps 2000 --fov",
        "evosim record runs/classic-seed0/world-000/final.npz --vs random --steps 3000 "
        "--out recordings/vs.mp4",
        "evosim record classic --steps 600 --size 480x360 --fps 15 --out recordings/c.gif",
        "evosim record runs/genesis --story --steps 300 --out recordings/story.gif",
        "evosim record runs/genesis --story --world 2 --stage speed --steps 300",
    )
    p.add_argument("source", metavar="SCENARIO|CHECKPOINT|RUN_DIR", type=_text,
                   help="built-in scenario name, a .toml path, or a checkpoint .npz "
                   "(which continues from its step); with --story, a run folder")
    p.add_argument("--steps", type=_int_at_least(1), required=True,
                   help="ticks to record (with --story: per stage)")
    p.add_argument("--story", action="store_true",
                   help="one clip per stage of the story of a run folder's world (see "
                   "evosim story), each from the first checkpoint at or after the stage's "
                   "start, the stage named on screen")
    p.add_argument("--world", type=_int_at_least(0, limits.MAX_WORLDS - 1), default=None,
                   metavar="W", help="with --story: the world of the run (default: the "
                   "first world that shows all four stages in order)")
    p.add_argument("--stage", choices=["caution", "fruit", "speed", "balance"],
                   default=None, help="with --story: only this stage's clip")
    p.add_argument("--out", type=_path, default=None,
                   help="video file, .mp4 (H.264) or .gif (default recordings/NAME.mp4)")
    p.add_argument("--fov", action="store_true",
                   help="draw each robot's field of view: its rays and what they hit")
    p.add_argument("--colour", choices=["genome", "lineage", "speed"], default=None,
                   help="colour robots by genome (relatives look alike), lineage (the "
                   "default) or speed gene, with a key saying which")
    p.add_argument("--size", type=_video_size, default=None, metavar="WxH",
                   help="frame size in pixels (default 1280x720; with --vs, 1280 wide and "
                   "as tall as the arenas need)")
    p.add_argument("--fps", type=_int_at_least(1, limits.MAX_FPS), default=30,
                   help="video frame rate (default 30)")
    p.add_argument("--steps-per-frame", type=_int_at_least(1, limits.MAX_STEPS_PER_FRAME),
                   default=2, metavar="K",
                   help="ticks per video frame (default 2); frames = ceil(steps / K)")
    p.add_argument("--seed", type=_seed, default=None,
                   help="world seed for a scenario or for --vs (default 0)")
    p.add_argument("--vs", choices=["random"], default=None,
                   help="side by side: random robots vs the checkpoint's robots, in fresh "
                   "worlds of the same scenario and seed")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_record)


def _run_record(args: argparse.Namespace) -> int:
    from evosim.commands.record import record_command

    if not args.story and (args.world is not None or args.stage is not None):
        raise EvosimError("--world and --stage: expected with --story only")
    clips = 4 if args.story and args.stage is None else 1
    frames = -(-args.steps // args.steps_per_frame) * clips
    if frames > limits.MAX_FRAMES:
        raise EvosimError(f"--steps/--steps-per-frame: expected at most {limits.MAX_FRAMES:,} "
                          f"video frames, got {args.steps:,} / {args.steps_per_frame:,} = "
                          f"{frames:,} (raise --steps-per-frame)")

    return record_command(args)


# ---------------------------------------------------------------- bench


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = _sub(
        sub, "bench", "Measure this machine: engine throughput (1 thread, scaled world, "
        "all cores), the NumPy baseline, draw/record fps, compile time.",
        "evosim bench",
        "evosim bench --quick --json > bench.json",
    )
    p.add_argument("--json", action="store_true", help="print the figures as a JSON object")
    p.add_argument("--quick", action="store_true", help="fewer, shorter repeats (about 10 s)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--compare-shared", metavar="DIR", default=None,
                   help="time the engine beside DIR/numba_limit.py and DIR/numpy_baseline.py "
                   "in one interleaved run (default: ../shared/bench when it exists; "
                   "'none' to skip)")
    p.set_defaults(func=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from evosim.commands.bench import bench_command

    return bench_command(args)


# ---------------------------------------------------------------- main

_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_evolve,
    _add_evaluate,
    _add_compress,
    _add_plot,
    _add_story,
    _add_export,
    _add_brain,
    _add_watch,
    _add_record,
    _add_bench,
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="evosim",
        description="Evolution simulator: robots with raycast vision and neural brains "
        "evolve to avoid mines and seek fruit.",
        epilog=_examples(
            "evosim evolve classic --steps 20000",
            "evosim evolve --help",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"evosim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in _COMMANDS:
        add(sub)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None
           ) -> argparse.Namespace | None:
    """Arguments, with errors named by their subcommand (``evosim bench: error: ...``);
    None when there is no subcommand at all (then the help is printed)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        parser.print_help()
        return None
    args, extra = parser.parse_known_args(argv)
    if extra:
        subparsers = next(a for a in parser._actions
                          if isinstance(a, argparse._SubParsersAction))
        subparsers.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evosim`` command; returns the exit code."""
    args = _parse(build_parser(), argv)
    if args is None:
        return 0
    try:
        return int(args.func(args) or 0)
    except EvosimError as exc:
        print(f"evosim {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a path that cannot be read or written: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"evosim {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"evosim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
