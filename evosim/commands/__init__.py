"""The command layer: one module per ``evosim`` subcommand.

Each ``*_command(args)`` turns parsed arguments into library calls and prints
the result; only this layer (and ``evosim.cli``) speaks of flags such as
``--out``. The library below raises errors about values.
"""
