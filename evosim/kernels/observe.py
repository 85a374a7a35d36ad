"""What the world looks like to its robots now, outside a tick: observations and,
on request, the actions their brains would take (``World.observations()`` and
``World.actions()``). One compiled entry for both keeps a cold start short."""

from __future__ import annotations

from evosim.kernels._jit import entry
from evosim.kernels.brain import decide_all
from evosim.kernels.vision import observe_all


@entry
def look(s, p, work, decide):
    """Observations into ``work.obs``; with ``decide``, actions into ``work.actions``."""
    observe_all(s, p, work)
    if decide:
        decide_all(s, p, work)
