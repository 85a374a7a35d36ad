"""The genome layout: where each part of a robot's brain and its speed gene lie.

Direct encoding (the default): a genome is float32 [G]: W1 [H, I] row-major,
b1 [H], W2 [2, H] row-major, b2 [2], then the max-speed gene (I = rays x channels
inputs, H hidden).

DCT encoding (``[brain] encoding = "dct"``, ``dct_coefficients = K``): the W1 block
is replaced by K low-frequency DCT coefficients per (hidden unit, channel) along the
ray axis, coefficient k of (h, c) at gene ``(h*C + c)*K + k`` (H*C*K genes); b1, W2,
b2 and the speed gene follow as in the direct layout. The weights are
``W1[h, r*C + c] = sum_k B[k, r] coef[h, c, k]`` with B the orthonormal DCT-III basis
of :func:`dct_basis`, so that K = R keeps every weight (an invertible map) and the
brain a robot runs is the *decoded* direct layout, :attr:`GenomeLayout.decoded`.

This is the one place that says so; the scenario, the kernels (through their params),
the torch bridge, the NumPy baseline and the test references read it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


def dct_basis(rays: int, k: int) -> np.ndarray:
    """float64 [k, rays]: row j = s_j cos(pi (r + 1/2) j / rays), s_0 = sqrt(1/R), else
    sqrt(2/R): the first k rows of the orthonormal DCT-II matrix (its transpose is
    the DCT-III, the inverse)."""
    r = np.arange(rays) + 0.5
    rows = [np.cos(math.pi * r * j / rays) * math.sqrt((1.0 if j == 0 else 2.0) / rays)
            for j in range(k)]
    return np.array(rows, np.float64).reshape(k, rays)


class GenomeLayout(NamedTuple):
    """Offsets (in genes) of the parts of a genome of ``inputs`` inputs, ``hidden`` units.

    ``dct`` is K, the DCT coefficients per (hidden unit, channel) along the ray axis
    (0: direct encoding); ``rays`` and ``channels`` are needed only then.
    """

    inputs: int
    hidden: int
    dct: int = 0
    rays: int = 0
    channels: int = 0

    @property
    def w1(self) -> int:
        """The W1 block (weights, or with ``dct`` its coefficients)."""
        return 0

    @property
    def b1(self) -> int:
        if self.dct:
            return self.hidden * self.channels * self.dct
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

    @property
    def decoded(self) -> GenomeLayout:
        """The direct layout of the weights this genome decodes to (itself when direct)."""
        return GenomeLayout(self.inputs, self.hidden)

    def torch_shapes(self) -> dict[str, tuple[int, ...]]:
        """Weight shapes (of the decoded brain) in PyTorch's ``[out, in]`` convention."""
        H, n_in = self.hidden, self.inputs
        return {"0.weight": (H, n_in), "0.bias": (H,), "2.weight": (2, H), "2.bias": (2,)}

    def split(self, genome):
        """(W1 [H, I], b1 [H], W2 [2, H], b2 [2], speed gene) of one genome: views of a
        direct genome; of a dct genome, parts of a float32 copy of its decoding."""
        if self.dct:
            return self.decoded.split(self.decode(genome))
        H, n_in = self.hidden, self.inputs
        return (genome[self.w1:self.b1].reshape(H, n_in), genome[self.b1:self.w2],
                genome[self.w2:self.b2].reshape(2, H), genome[self.b2:self.speed],
                genome[self.speed])

    def decode(self, genome: np.ndarray) -> np.ndarray:
        """float32 [decoded.length]: the direct genome the robot runs (a copy).

        With ``dct`` this is the engine's own decode kernel, so the result equals
        the weights a world steps with, bit for bit.
        """
        g = np.ascontiguousarray(genome, np.float32)
        if not self.dct:
            return g.copy()
        from evosim.kernels.dct import dct_decode

        out = np.empty(self.decoded.length, np.float32)
        dct_decode(g, out, dct_basis(self.rays, self.dct), self.hidden, self.rays,
                   self.channels)
        out[-1] = g[-1]
        return out
