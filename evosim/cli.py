"""The ``evosim`` command: the walk over :data:`evosim.commands.COMMANDS`, and errors.

Each command module declares its own flags (``add_arguments``) and does its work
(``run``); see :mod:`evosim.commands`. Command modules import nothing heavy until
they run, so ``evosim --help`` stays fast and ``evosim evolve`` never imports pygame.
Bad input of any kind, and a full disk, ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from evosim._atomic import disk_full
from evosim._version import __version__
from evosim.commands import COMMANDS
from evosim.commands._options import examples
from evosim.errors import EvosimError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage dumps."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _build() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser, and each subcommand's parser by name."""
    parser = _Parser(
        prog="evosim",
        description="Evolution simulator: robots with raycast vision and neural brains "
        "evolve to avoid mines and seek fruit.",
        epilog=examples(["evosim evolve classic --steps 20000", "evosim evolve --help"]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"evosim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                required=True)
    parsers: dict[str, argparse.ArgumentParser] = {}
    for command in COMMANDS:
        module = import_module(command.module)
        p = sub.add_parser(
            command.name,
            help=command.summary,
            description=module.DESCRIPTION,
            epilog=examples(module.EXAMPLES),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=module.parents(),
        )
        module.add_arguments(p)
        p.set_defaults(handler=module.run)
        parsers[command.name] = p
    return parser, parsers


def build_parser() -> argparse.ArgumentParser:
    """The whole ``evosim`` argument parser, every subcommand with its flags (for the
    docs; imports each command module, none of the libraries they call)."""
    return _build()[0]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """Arguments, with errors named by their subcommand (``evosim bench: error: ...``);
    None when there is no subcommand at all (then the help is printed)."""
    parser, parsers = _build()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        parser.print_help()
        return None
    options, extra = parser.parse_known_args(argv)
    if extra:
        parsers[options.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evosim`` command; returns the exit code."""
    options = _parse(argv)
    if options is None:
        return 0
    try:
        return int(options.handler(options) or 0)
    except EvosimError as exc:
        print(f"evosim {options.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a path that cannot be read or written: still one line
        full = disk_full(exc, exc.filename) if exc.filename else None
        if full is not None:
            print(f"evosim {options.command}: error: {full}", file=sys.stderr)
            return EXIT_BAD_INPUT
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"evosim {options.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"evosim {options.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
