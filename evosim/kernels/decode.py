"""Genomes decoded once per birth: the brains robots run, from DCT coefficients,
connection masks or plain weights.

Every world keeps each robot's brain in ``work.weights`` (float32 [N, H*I + 3H + 2]:
the direct layout without the speed gene, except that W1 is stored input-major,
W1[h, j] at ``j*H + h``), which ``think_all`` reads. Input-major lets the brain read
the H weights of one input as one contiguous run: most inputs are zero and skipped,
and each of the rest costs one cache line instead of H. The weights are rewritten
whenever a slot gets a new genome (births and spawns in the tick, :func:`decode_all`
after genomes are set from outside or loaded), never per tick. With a mask,
``work.active[i]`` counts robot i's active connections (what ``connection_cost``
charges for). Both are derived from the genome, so a checkpoint never stores them.
"""

from __future__ import annotations

import numpy as np

from evosim.kernels._jit import entry, kernel
from evosim.kernels.dct import dct_decode
from evosim.kernels.layout import MASK_ON


@entry
def decode_genome(g, out, basis, H, R, C, mask, n_mask, input_major):
    """``out`` = the direct brain genes (W1, b1, W2, b2) of genome ``g``; returns how
    many connections are active. With ``input_major``, W1[h, j] goes to
    ``out[j*H + h]`` (the layout ``think_all`` reads), else to ``out[h*I + j]``.

    DCT (``basis`` float64 [K, R] with K > 0): W1 from the coefficients (see
    :func:`dct_decode`); else the genes copied. With a mask (``n_mask`` = H*R*C + 2H
    genes from ``mask`` on), every connection whose mask gene is not above
    ``MASK_ON`` is set to 0.0: gene j < H*R*C masks W1's entry j, gene H*R*C + j
    W2's entry j. Without one every connection counts as active.
    """
    n_in = R * C
    hs, js = (1, H) if input_major else (n_in, 1)  # strides of h and j in out's W1
    if basis.shape[0] > 0:
        dct_decode(g, out, basis, H, R, C, hs, js)
    else:
        for h in range(H):
            for j in range(n_in):
                out[h * hs + j * js] = g[h * n_in + j]
        for q in range(H * n_in, H * n_in + 3 * H + 2):
            out[q] = g[q]
    if n_mask == 0:
        return H * n_in + 2 * H
    w1_n = H * n_in
    w2 = w1_n + H  # W2's offset in the decoded layout
    active = 0
    for j in range(w1_n):
        if g[mask + j] > MASK_ON:
            active += 1
        else:
            out[(j // n_in) * hs + (j % n_in) * js] = np.float32(0.0)
    for j in range(2 * H):
        if g[mask + w1_n + j] > MASK_ON:
            active += 1
        else:
            out[w2 + j] = np.float32(0.0)
    return active


@kernel
def decode_slots(slots, n, s, p, work):
    """Decode the genomes of the first ``n`` slots listed in ``slots`` into their brains."""
    for j in range(n):
        i = slots[j]
        work.active[i] = decode_genome(s.genome[i], work.weights[i], work.dct_basis, p.hidden,
                                       p.rays, p.n_channels, p.mask, p.n_mask,
                                       input_major=True)


@kernel
def decode_all(s, p, work):
    """Decode every robot's genome into its brain: after genomes are set or loaded."""
    for i in range(s.genome.shape[0]):
        work.active[i] = decode_genome(s.genome[i], work.weights[i], work.dct_basis, p.hidden,
                                       p.rays, p.n_channels, p.mask, p.n_mask,
                                       input_major=True)
