"""The command layer: one module per ``evosim`` subcommand, listed in :data:`COMMANDS`.

Each command module defines

- ``DESCRIPTION`` and ``EXAMPLES``: the text of its ``--help``;
- ``parents()``: the shared flag groups it takes (argparse parents from
  :mod:`evosim.commands._options`);
- ``add_arguments(parser)``: its own flags, each default written there once;
- ``run(options) -> int``: parsed options into library calls, the result printed;
  the exit code.

A module imports nothing heavy at its top (``evosim --help`` reads every one); its
``run`` imports the library it calls. Only this layer (and :mod:`evosim.cli`) speaks
of flags such as ``--out``; the library below raises errors about values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, the module that implements it, its one-line summary."""

    name: str
    module: str
    summary: str


COMMANDS: tuple[Command, ...] = (
    Command("evolve", "evosim.commands.evolve",
            "evolve worlds headless into a run folder (metrics, checkpoints, final states)"),
    Command("resume", "evosim.commands.resume",
            "continue a stopped run from its last checkpoints, or extend it"),
    Command("evaluate", "evosim.commands.evaluate",
            "a checkpoint's genomes against random ones in the same fresh worlds"),
    Command("compress", "evosim.commands.compress",
            "a checkpoint's brains through six compression techniques, evaluated"),
    Command("plot", "evosim.commands.plot", "a run's metrics as PNG figures"),
    Command("story", "evosim.commands.story",
            "where each stage of the story begins in every world of a run, or how often"),
    Command("export", "evosim.commands.export",
            "one robot's brain from a checkpoint as a PyTorch brain file"),
    Command("brain", "evosim.commands.brain",
            "draw one robot's brain and its responses from a checkpoint"),
    Command("watch", "evosim.commands.watch", "watch a world evolve live in a window"),
    Command("record", "evosim.commands.record", "record a world to a video (mp4 or gif)"),
    Command("bench", "evosim.commands.bench", "measure this machine's throughput"),
)
"""Every subcommand, in the order ``evosim --help`` lists them."""
