"""Argument types and the flag groups several commands share (as argparse parents).

Imports nothing heavy: every command module reads it while ``evosim --help`` builds
the parser. Each parent is built fresh per call (argparse shares a parent's actions
with its children, and ``set_defaults`` on a child would change them in place).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from evosim import limits
from evosim.errors import EvosimError


def int_at_least(lo: int, most: int = limits.MAX_STEP) -> Callable[[str], int]:
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


def text(value: str) -> str:
    """A name or path: no NUL (the OS cannot take it), at most MAX_TEXT characters."""
    if "\0" in value or len(value) > limits.MAX_TEXT:
        raise argparse.ArgumentTypeError(f"expected a file name or path without NUL characters, "
                                         f"at most {limits.MAX_TEXT} long, got {value[:40]!r}")
    return value


def path(value: str) -> Path:
    """A :func:`text` argument as a :class:`~pathlib.Path`."""
    return Path(text(value))


def seed(value: str) -> int:
    """A seed: an integer from 0 to 2**64 - 1."""
    number = int_at_least(0, 2**64)(value)
    if number >= 2**64:
        raise argparse.ArgumentTypeError(f"expected an integer below 2**64, got {number}")
    return number


def video_size(value: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` in pixels, 64x64 to 7680x4320 (evosim.limits)."""
    parts = value.lower().split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x720, "
                                         f"got {value!r}") from None
    lo = limits.MIN_VIDEO_SIDE
    if not (lo <= w <= limits.MAX_VIDEO_WIDTH and lo <= h <= limits.MAX_VIDEO_HEIGHT):
        raise argparse.ArgumentTypeError(f"expected a width from {lo} to "
                                         f"{limits.MAX_VIDEO_WIDTH} and a height from {lo} "
                                         f"to {limits.MAX_VIDEO_HEIGHT}, got {value!r}")
    return w, h


def examples(lines: Sequence[str]) -> str:
    """The ``examples:`` block of a command's ``--help``."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def as_flags(exc: EvosimError, names: Sequence[str]) -> EvosimError:
    """``exc`` with a leading value name (``steps: ...``, ``steps/metrics_every: ...``)
    said as its flag (``--steps: ...``), when every name before the colon is in ``names``:
    the library speaks of values, the command line of flags."""
    message = str(exc)
    head, sep, rest = message.partition(": ")
    parts = head.split("/")
    if not sep or not all(p in names for p in parts):
        return exc
    flags = "/".join("--" + p.replace("_", "-") for p in parts)
    return type(exc)(f"{flags}: {rest}")


# ---------------------------------------------------------------- shared flag groups


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def seed_flag(default: int | None, help: str) -> argparse.ArgumentParser:
    """``--seed S``."""
    p = _parent()
    p.add_argument("--seed", type=seed, default=default, help=help)
    return p


def fps_flag(default: int, help: str) -> argparse.ArgumentParser:
    """``--fps F``: frames per second."""
    p = _parent()
    p.add_argument("--fps", type=int_at_least(1, limits.MAX_FPS), default=default, help=help)
    return p


def size_flag(default: tuple[int, int] | None, help: str) -> argparse.ArgumentParser:
    """``--size WxH``: pixels."""
    p = _parent()
    p.add_argument("--size", type=video_size, default=default, metavar="WxH", help=help)
    return p


def quiet_flag(help: str = "no progress bar") -> argparse.ArgumentParser:
    """``--quiet``."""
    p = _parent()
    p.add_argument("--quiet", action="store_true", help=help)
    return p


def json_flag(help: str) -> argparse.ArgumentParser:
    """``--json``: the result as JSON on stdout."""
    p = _parent()
    p.add_argument("--json", action="store_true", help=help)
    return p


def compute_flags() -> argparse.ArgumentParser:
    """Where and on how many cores a run computes (never what): ``evolve``, ``resume``."""
    p = _parent()
    p.add_argument("--workers", type=int_at_least(1), default=None,
                   help="worker processes, one thread each (default: all cores)")
    p.add_argument("--threads", type=int_at_least(1, limits.MAX_THREADS), default=1,
                   help="threads per world, for fewer worlds than cores: vision, brains and "
                   "moves of each world split over them, the same results (default 1)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="where worlds run: local worker processes (default) or Ray tasks "
                        "(pip install 'evosim[ray]'); same results either way")
    p.add_argument("--ray-address", type=text, default=None, metavar="ADDR",
                   help="with --backend ray: the cluster to join (as for ray.init; "
                        "default: a new local Ray)")
    return p


def check_compute(options: argparse.Namespace) -> None:
    """``--ray-address`` goes with ``--backend ray`` only."""
    if options.ray_address is not None and options.backend != "ray":
        raise EvosimError("--ray-address: only with --backend ray")


RUN_JSON_HELP = "print the run's summary as a JSON object (implies --quiet)"
"""``--json`` of ``evolve`` and ``resume``."""


_PLACE_FLAGS = ("--backend", "--ray-address")
"""Flags that choose where a run computes, never what: left out of run.json's command,
so that a run's folder is the same, byte for byte, on every backend."""


def recorded_command(argv: Sequence[str]) -> list[str]:
    """``evosim`` and ``argv`` without the backend flags (and their values)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _PLACE_FLAGS:
            skip = True
        elif not arg.startswith(tuple(f + "=" for f in _PLACE_FLAGS)):
            out.append(arg)
    return ["evosim", *out]
