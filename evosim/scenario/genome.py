"""The genome layout: where each part of a robot's brain and its speed gene lie.

A genome is float32 [G]: W1 [H, I] row-major, b1 [H], W2 [2, H] row-major,
b2 [2], then the max-speed gene (I = rays x channels inputs, H hidden). This is
the one place that says so; the scenario, the kernels (through their params),
the torch bridge, the NumPy baseline and the test references read it.
"""

from __future__ import annotations

from typing import NamedTuple


class GenomeLayout(NamedTuple):
    """Offsets (in genes) of the parts of a genome of ``inputs`` inputs, ``hidden`` units."""

    inputs: int
    hidden: int

    @property
    def w1(self) -> int:
        return 0

    @property
    def b1(self) -> int:
        return self.hidden * self.inputs

    @property
    def w2(self) -> int:
        return self.b1 + self.hidden

    @property
    def b2(self) -> int:
        return self.w2 + 2 * self.hidden

    @property
    def speed(self) -> int:
        """The max-speed gene, the last one."""
        return self.b2 + 2

    @property
    def length(self) -> int:
        return self.speed + 1

    def torch_shapes(self) -> dict[str, tuple[int, ...]]:
        """Weight shapes in PyTorch's ``[out, in]`` convention, in genome order."""
        H, n_in = self.hidden, self.inputs
        return {"0.weight": (H, n_in), "0.bias": (H,), "2.weight": (2, H), "2.bias": (2,)}

    def split(self, genome):
        """(W1 [H, I], b1 [H], W2 [2, H], b2 [2], speed gene) views of one genome."""
        H, n_in = self.hidden, self.inputs
        return (genome[self.w1:self.b1].reshape(H, n_in), genome[self.b1:self.w2],
                genome[self.w2:self.b2].reshape(2, H), genome[self.b2:self.speed],
                genome[self.speed])
