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

from evosim.errors import EvosimError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage dumps."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(lo: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"expected an integer of at least {lo}, got {value}")
        return value

    parse.__name__ = f"integer >= {lo}"
    return parse


def _seed(text: str) -> int:
    value = _int_at_least(0)(text)
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
        sub, "evolve", "Evolve a world headless and save its final state.",
        "evosim evolve classic --steps 20000",
        "evosim evolve scenarios/genesis.toml --steps 200000 --seed 3 --out runs/genesis",
    )
    p.add_argument("scenario", help="built-in scenario name (see scenarios/) or a .toml path")
    p.add_argument("--steps", type=_int_at_least(1), required=True, help="ticks to run")
    p.add_argument("--seed", type=_seed, default=0, help="world seed (default 0)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default runs/SCENARIO-seedS); must be new or empty")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_evolve)


def _run_evolve(args: argparse.Namespace) -> int:
    from evosim.evolve.run import evolve_command

    return evolve_command(args)


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
    p.add_argument("checkpoint", type=Path, help="a checkpoint file (.npz)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--slot", type=_int_at_least(0), help="robot slot to export")
    which.add_argument("--best", action="store_true", help="export the best robot (see above)")
    p.add_argument("--out", type=Path, required=True, help="brain file to write (.pt)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from evosim.torch import export_command

    return export_command(args)


# ---------------------------------------------------------------- main

_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_add_evolve, _add_export)


def build_parser() -> argparse.ArgumentParser:
    from evosim import __version__

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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evosim`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EvosimError as exc:
        print(f"evosim {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"evosim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
