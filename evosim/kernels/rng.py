"""Counter-based random numbers: a pure hash of (key, step, stream, slot, draw).

No generator state advances, so results do not depend on call order, on how many
steps one ``step(n)`` call covers, or on save and load: the key and the step
counter in the world state are the whole RNG state.
"""

from __future__ import annotations

import math

import numpy as np

from evosim.kernels._jit import kernel

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S40 = np.uint64(40)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@kernel
def mix64(z):
    """SplitMix64 finaliser: a bijective 64-bit mix."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@kernel
def rand_u64(key, step, stream, slot, draw):
    """64 random bits for one (key, step, stream, slot, draw) tuple."""
    h = mix64(key ^ (np.uint64(step) * _GOLDEN))
    h = mix64(h ^ ((np.uint64(stream) << _S40) ^ np.uint64(slot)))
    return mix64(h + np.uint64(draw) * _GOLDEN)


@kernel
def uniform(key, step, stream, slot, draw):
    """A float64 in [0, 1)."""
    return np.float64(rand_u64(key, step, stream, slot, draw) >> _S11) * _INV53


@kernel
def stream_base(key, step, stream, slot):
    """A per-(step, stream, slot) base for a run of cheap draws (SplitMix64)."""
    return rand_u64(key, step, stream, slot, 0)


@kernel
def base_uniform(base, d):
    """Draw d of a base: a float64 in [0, 1), one mix per draw."""
    return np.float64(mix64(base + np.uint64(d + 1) * _GOLDEN) >> _S11) * _INV53


@kernel
def base_normal_pair(base, d):
    """Two independent standard normals from a base, starting at draw d
    (Marsaglia's polar method: no trigonometry). Returns (z0, z1, next draw)."""
    while True:
        u = 2.0 * base_uniform(base, d) - 1.0
        v = 2.0 * base_uniform(base, d + 1) - 1.0
        d += 2
        s = u * u + v * v
        if 0.0 < s < 1.0:
            f = math.sqrt(-2.0 * math.log(s) / s)
            return u * f, v * f, d
