"""The registry of object kinds and vision channels: declared once, read everywhere.

The scenario model (its tables and ``vision.channels``), the kernels' channel
indices (``kernels/layout.py`` ``CH_*``, checked against this list by a test),
drawing colours, metrics and the test references read these tuples. Adding an
object kind starts here (see docs/development/object-kinds.md).
"""

from __future__ import annotations

from typing import NamedTuple


class ObjectKind(NamedTuple):
    """A kind of thing in the arena: its name, its scenario table, its vision channel.

    Its state arrays are named for it: ``<name>_xy`` (centres) and, for a kind whose
    number varies, a ``<name>_count`` of the active ones; its radius is
    ``scenario.<table>.radius``. The references (``tests/naive.py``, the NumPy
    baseline) find each kind's objects by these names.
    """

    name: str  # singular, as in "mine"
    table: str  # the scenario table holding its count and radius
    channel: str  # the vision channel that sees it


OBJECT_KINDS: tuple[ObjectKind, ...] = (
    ObjectKind("mine", "mines", "mine"),
    ObjectKind("fruit", "fruit", "fruit"),
    ObjectKind("robot", "robots", "robot"),
)
"""Every kind of object, in the order vision tries them (an exact tie goes to the earlier)."""

EDGE = "edge"
"""The channel that sees the arena's boundary (no object kind)."""

SELF_SEEING = "robot"
"""The kind a robot belongs to: its own body is not seen by its rays."""

CHANNELS: tuple[str, ...] = (*(k.channel for k in OBJECT_KINDS), EDGE)
"""Every vision channel, in the fixed order observations use; ``edge`` is the arena's
boundary. Index i is the kernels' ``CH_*`` value i."""
