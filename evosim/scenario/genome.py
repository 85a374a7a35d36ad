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

Evolved connections (``[brain] connections = "evolved"``, with either encoding): a
connection mask of one gene per connection follows b2, before the speed gene (which
stays last): mask gene j < H*I switches W1[j // I, j % I] (row-major, as W1 is laid
out), mask gene H*I + j switches W2[j // H, j % H]; the biases are never masked. A
mask gene is 1.0 (active) or 0.0 (pruned); the brain runs the (decoded) weights with
every pruned connection set to 0.0, while the pruned weight's own gene stays in the
genome and keeps mutating, unread, so that a regrown connection comes back with it.

This is the one place that says so; the scenario, the kernels (through their params),
the torch bridge, the NumPy baseline and the test references read it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from evosim.kernels.layout import MASK_ON


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
    (0: direct encoding); ``rays`` and ``channels`` are needed only then. ``masked``:
    the genome holds a connection mask (``[brain] connections = "evolved"``).
    """

    inputs: int
    hidden: int
    dct: int = 0
    rays: int = 0
    channels: int = 0
    masked: bool = False

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
    def mask(self) -> int:
        """The connection mask block (``connections`` genes; empty when not masked)."""
        return self.b2 + 2

    @property
    def connections(self) -> int:
        """Maskable connections of the decoded brain: W1's H*I and W2's 2H weights."""
        return self.hidden * self.inputs + 2 * self.hidden

    @property
    def mask_length(self) -> int:
        """Genes of the mask block: :attr:`connections` when masked, else 0."""
        return self.connections if self.masked else 0

    @property
    def speed(self) -> int:
        """The max-speed gene, the last one."""
        return self.mask + self.mask_length

    @property
    def decodes(self) -> bool:
        """Whether the brain a robot runs differs in layout or values from its genome's
        first genes (dct coefficients, or a mask to apply): then the engine decodes it."""
        return bool(self.dct) or self.masked

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
        direct dense genome; of a dct or masked one, parts of a float32 copy of its
        decoding (pruned connections 0.0)."""
        if self.decodes:
            return self.decoded.split(self.decode(genome))
        H, n_in = self.hidden, self.inputs
        return (genome[self.w1:self.b1].reshape(H, n_in), genome[self.b1:self.w2],
                genome[self.w2:self.b2].reshape(2, H), genome[self.b2:self.speed],
                genome[self.speed])

    def decode(self, genome: np.ndarray) -> np.ndarray:
        """float32 [decoded.length]: the direct dense genome the robot runs (a copy).

        With ``dct`` or a mask this is the engine's own decode kernel, so the result
        equals the weights a world steps with, bit for bit.
        """
        g = np.ascontiguousarray(genome, np.float32)
        if not self.decodes:
            return g.copy()
        from evosim.kernels.decode import decode_genome

        # Only R*C matters without dct: the inputs as one ray of I channels.
        R, C = (self.rays, self.channels) if self.dct else (1, self.inputs)
        out = np.empty(self.decoded.length, np.float32)
        decode_genome(g, out, dct_basis(R, self.dct), self.hidden, R, C, self.mask,
                      self.mask_length, input_major=False)
        out[-1] = g[-1]
        return out

    def active(self, genomes: np.ndarray) -> np.ndarray:
        """float64 [...]: the fraction of active connections of each genome (float32
        [..., G]); 1.0 for every genome of an unmasked layout."""
        g = np.asarray(genomes)
        if not self.masked:
            return np.ones(g.shape[:-1])
        block = g[..., self.mask:self.mask + self.mask_length]
        return np.count_nonzero(block > MASK_ON, axis=-1) / self.mask_length

    def project_mask(self, genome: np.ndarray) -> np.ndarray:
        """A masked layout's genome (float32 [G]) of a direct dense genome's genes
        (float32 [decoded.length], dct excluded): the same weights, every zero weight
        pruned, every other connection active. Decoding it gives the same brain."""
        d = self.decoded
        g = np.asarray(genome, np.float32)
        if self.dct or not self.masked or g.shape != (d.length,):
            raise ValueError("project_mask: a masked direct layout and a dense genome")
        out = np.empty(self.length, np.float32)
        out[:d.speed] = g[:d.speed]
        conn = np.concatenate([g[d.w1:d.b1], g[d.w2:d.b2]])
        out[self.mask:self.speed] = (conn != 0.0).astype(np.float32)
        out[self.speed] = g[d.speed]
        return out
