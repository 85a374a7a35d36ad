"""Reading finished runs: plots, lineages, the story detector, brain diagrams, compression.

Everything here reads what :mod:`evosim.evolve` wrote (run directories, metrics,
event logs, checkpoints) and never runs evolution itself; it is the one package
above the engine that draws with matplotlib or encodes images with Pillow.

- :mod:`evosim.analysis.plot`: a run's metrics and event logs as PNG figures
- :mod:`evosim.analysis.lineages`: family trees and lineage shares from event logs
- :mod:`evosim.analysis.story`: where each stage of the story begins
- :mod:`evosim.analysis.brainplot`: one robot's network and response maps
- :mod:`evosim.analysis.compress`: genomes under lossy codecs, and what survives
"""
