"""DCT-encoded brains: coefficients in the genome, weights decoded once per birth.

Layout (see evosim/scenario/genome.py): coefficient k of (hidden h, channel c) at
gene (h*C + c)*K + k; then b1 [H], W2 [2, H], b2 [2] as in the direct layout. The
decoded weights live in ``work.weights`` and are what ``think_all`` reads; when they
are written, see ``decode.py``.
"""

from __future__ import annotations

import numpy as np

from evosim.kernels._jit import kernel


@kernel
def dct_decode(g, out, basis, H, R, C, hs, js):
    """``out`` = direct brain genes of the DCT genome ``g``.

    W1[h, r*C + c] = sum_k basis[k, r] * g[(h*C + c)*K + k] (float64 sum in k
    order, stored as float32), with ``basis`` float64 [K, R], goes to
    ``out[h*hs + (r*C + c)*js]`` (``hs, js = R*C, 1``: the direct layout; ``1, H``:
    input-major); b1, W2, b2 copied. ``out`` needs at least H*R*C + 3H + 2 entries.
    """
    K = basis.shape[0]
    n_in = R * C
    for h in range(H):
        for c in range(C):
            base = (h * C + c) * K
            for r in range(R):
                acc = 0.0
                for k in range(K):
                    acc += basis[k, r] * np.float64(g[base + k])
                out[h * hs + (r * C + c) * js] = np.float32(acc)
    src = H * C * K
    dst = H * n_in
    for q in range(3 * H + 2):
        out[dst + q] = g[src + q]
