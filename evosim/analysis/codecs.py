"""Lossy codecs for one weight matrix: each encodes to real bytes and decodes back.

Every codec here is a pair ``encode(w, level) -> bytes`` and ``decode(data, shape,
level) -> float32``; the byte count of a compressed brain is the length of what its
encoders returned, so nothing is estimated. Values are little-endian; indices and
codes are packed with :func:`pack_codes` at the fewest bits that hold them.

- quantisation (``bits`` 1-8): ``lo, hi`` as float32, then one code per weight,
  ``round((2**bits - 1) (w - lo) / (hi - lo))``, packed at ``bits`` bits;
- parameter sharing (``values`` k): a 1-D k-means of the weights (centroids seeded at
  the quantiles, Lloyd's iterations), the k centroids as float32, then each weight's
  centroid index packed at ``ceil(log2 k)`` bits;
- low rank (``rank`` r): the truncated SVD ``(U S)[:, :r]`` and ``Vt[:r]`` as float32,
  the best rank-r approximation in the Frobenius norm;
- pruning (``keep`` k): a uint16 count, then the k largest ``|w|`` as (index, float32
  value) pairs, the index uint16 when it fits, else uint32 (ties to the lower index);
- JPEG (``quality``): the 8-bit quantisation's codes as a greyscale image (Pillow,
  baseline), its ``lo, hi`` as float32 beside the file.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np

from evosim.errors import EvosimError

if TYPE_CHECKING:
    from evosim.scenario import Scenario

SCALE_BYTES = 8  # lo and hi of one matrix, float32
_TABLE_MARKERS = (0xDB, 0xC4)  # DQT, DHT: shared by every image at one quality
KMEANS_ITERATIONS = 50
PILLOW_HINT = "evosim compress needs Pillow: pip install pillow"


def check_quality(q: int) -> int:
    """``q`` if it is a JPEG quality from 1 to 100, else an :class:`~evosim.errors.EvosimError`."""
    if isinstance(q, bool) or not isinstance(q, int | np.integer) or not 1 <= q <= 100:
        raise EvosimError(f"quality: expected an integer from 1 to 100, got {q!r}")
    return int(q)


# ------------------------------------------------------------------ packing


def code_bits(levels: int) -> int:
    """Bits that hold an index below ``levels`` (0 for a single level)."""
    return max(levels - 1, 0).bit_length()


def pack_codes(codes: np.ndarray, bits: int) -> bytes:
    """Integers below ``2**bits`` (0 to 8 bits), ``bits`` each, most significant first."""
    if bits == 0:
        return b""
    planes = np.unpackbits(np.asarray(codes, np.uint8).reshape(-1, 1), axis=1)[:, 8 - bits:]
    return np.packbits(planes.ravel()).tobytes()


def unpack_codes(data: bytes, n: int, bits: int) -> np.ndarray:
    """The ``n`` codes of :func:`pack_codes`, uint8."""
    if bits == 0:
        return np.zeros(n, np.uint8)
    planes = np.unpackbits(np.frombuffer(data, np.uint8))[: n * bits].reshape(n, bits)
    return np.packbits(np.pad(planes, ((0, 0), (8 - bits, 0))), axis=1).ravel()


# ------------------------------------------------------------------ quantisation


def quant_codes(w: np.ndarray, bits: int) -> tuple[np.ndarray, float, float]:
    """(uint8 codes, lo, hi): ``w`` mapped linearly from [lo, hi] onto 0..2**bits - 1."""
    lo, hi = float(np.float32(w.min())), float(np.float32(w.max()))
    span = hi - lo
    if span == 0.0:
        return np.zeros(w.shape, np.uint8), lo, hi
    top = (1 << bits) - 1
    return np.rint((w.astype(np.float64) - lo) * (top / span)).astype(np.uint8), lo, hi


def from_codes(codes: np.ndarray, lo: float, hi: float, bits: int) -> np.ndarray:
    """float32 weights back from their codes and scale."""
    top = (1 << bits) - 1
    return (lo + codes.astype(np.float64) * ((hi - lo) / top)).astype(np.float32)


def quantize(w: np.ndarray, bits: int) -> bytes:
    codes, lo, hi = quant_codes(w, bits)
    return np.array([lo, hi], "<f4").tobytes() + pack_codes(codes.ravel(), bits)


def dequantize(data: bytes, shape: tuple[int, ...], bits: int) -> np.ndarray:
    lo, hi = (float(v) for v in np.frombuffer(data[:SCALE_BYTES], "<f4"))
    codes = unpack_codes(data[SCALE_BYTES:], math.prod(shape), bits)
    return from_codes(codes, lo, hi, bits).reshape(shape)


# ------------------------------------------------------------------ parameter sharing


def kmeans_1d(values: np.ndarray, k: int) -> np.ndarray:
    """k sorted float32 centroids of ``values`` (fewer when it has fewer distinct values):
    seeded at the quantiles ``(i + 0.5) / k``, then Lloyd's iterations in float64 (a
    cluster that empties keeps its centroid)."""
    v = np.sort(np.asarray(values, np.float64).ravel())
    centres = np.unique(np.quantile(v, (np.arange(k) + 0.5) / k))
    for _ in range(KMEANS_ITERATIONS):
        cuts = np.searchsorted(v, 0.5 * (centres[1:] + centres[:-1]))
        groups = np.split(v, cuts)
        moved = np.array([g.mean() if g.size else c for g, c in zip(groups, centres,
                                                                      strict=True)])
        if np.array_equal(moved, centres):
            break
        centres = moved
    return np.unique(centres.astype(np.float32))


def nearest(w: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre (sorted float32) for each weight; ties to the lower."""
    x = np.asarray(w, np.float64).ravel()
    if len(centres) == 1:
        return np.zeros(x.size, np.uint8)
    c = centres.astype(np.float64)
    idx = np.clip(np.searchsorted(c, x), 1, len(c) - 1)
    below = np.abs(x - c[idx - 1]) <= np.abs(c[idx] - x)
    return np.where(below, idx - 1, idx).astype(np.uint8)


def share(w: np.ndarray, values: int) -> bytes:
    centres = kmeans_1d(w, values)
    return (np.array([len(centres)], "<u2").tobytes() + centres.astype("<f4").tobytes()
            + pack_codes(nearest(w, centres), code_bits(len(centres))))


def unshare(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    k = int(np.frombuffer(data[:2], "<u2")[0])
    centres = np.frombuffer(data[2:2 + 4 * k], "<f4")
    idx = unpack_codes(data[2 + 4 * k:], math.prod(shape), code_bits(k))
    return centres[idx].astype(np.float32).reshape(shape)


# ------------------------------------------------------------------ low rank


def low_rank(w: np.ndarray, rank: int) -> bytes:
    u, s, vt = np.linalg.svd(np.asarray(w, np.float64), full_matrices=False)
    return ((u[:, :rank] * s[:rank]).astype("<f4").tobytes()
            + vt[:rank].astype("<f4").tobytes())


def from_low_rank(data: bytes, shape: tuple[int, int], rank: int) -> np.ndarray:
    rows, cols = shape
    us = np.frombuffer(data[:4 * rows * rank], "<f4").reshape(rows, rank)
    vt = np.frombuffer(data[4 * rows * rank:], "<f4").reshape(rank, cols)
    return (us.astype(np.float64) @ vt.astype(np.float64)).astype(np.float32)


# ------------------------------------------------------------------ pruning


def index_bytes(n: int) -> int:
    """Bytes of one index into ``n`` weights: 2 when uint16 holds it, else 4."""
    return 2 if n <= 2**16 else 4


def prune(flat: np.ndarray, keep: int) -> bytes:
    """The ``keep`` largest ``|w|`` of ``flat`` as a count and (index, value) pairs."""
    keep = int(min(max(keep, 0), flat.size))
    order = np.sort(np.argsort(-np.abs(flat), kind="stable")[:keep])
    pairs = np.zeros(keep, [("i", "<u2" if index_bytes(flat.size) == 2 else "<u4"),
                            ("v", "<f4")])
    pairs["i"], pairs["v"] = order, flat[order]
    return np.array([keep], "<u2").tobytes() + pairs.tobytes()


def unprune(data: bytes, n: int) -> np.ndarray:
    keep = int(np.frombuffer(data[:2], "<u2")[0])
    pairs = np.frombuffer(data[2:], [("i", "<u2" if index_bytes(n) == 2 else "<u4"),
                                     ("v", "<f4")], count=keep)
    out = np.zeros(n, np.float32)
    out[pairs["i"]] = pairs["v"]
    return out


# ------------------------------------------------------------------ JPEG


def _image():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        raise EvosimError(PILLOW_HINT) from None
    return Image


def table_bytes(jpeg: bytes) -> int:
    """Bytes of the DQT and DHT segments (marker included) of a baseline JPEG file."""
    total, pos = 0, 2  # after SOI
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        if marker == 0xDA:  # start of scan: entropy-coded data follows, no more tables
            break
        length = int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        if marker in _TABLE_MARKERS:
            total += 2 + length
        pos += 2 + length
    return total


def jpeg_matrix(w: np.ndarray, quality: int) -> tuple[np.ndarray, int, int]:
    """(decoded float32 like ``w``, file bytes, table bytes) of ``w`` [rows, cols] as a JPEG.

    The image is encoded by Pillow as baseline greyscale at ``quality`` (no
    subsampling applies to one channel) and decoded back; the scale is applied after.
    """
    Image = _image()
    img, lo, hi = quant_codes(w, 8)
    buf = io.BytesIO()
    Image.fromarray(img, mode="L").save(buf, format="JPEG", quality=check_quality(quality))
    data = buf.getvalue()
    back = np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.uint8)
    return from_codes(back, lo, hi, 8), len(data), table_bytes(data)


def w1_image(w1: np.ndarray, rays: int, channels: int) -> np.ndarray:
    """W1 [H, R*C] (input k*C + c) as the [C*H, R] image: row c*H + h, column = ray."""
    H = w1.shape[0]
    return w1.reshape(H, rays, channels).transpose(2, 0, 1).reshape(channels * H, rays)


def w1_from_image(img: np.ndarray, hidden: int, rays: int, channels: int) -> np.ndarray:
    """Inverse of :func:`w1_image`."""
    return img.reshape(channels, hidden, rays).transpose(1, 2, 0).reshape(hidden,
                                                                           rays * channels)


class Compressed:
    """One compressed population: genomes float32 [N, G], bytes per brain (float), and
    the scenario they run in (None: the checkpoint's; ``downsize`` changes the shape)."""

    def __init__(self, method: str, level: int, genomes: np.ndarray,
                 bytes_per_brain: float, scenario: Scenario | None = None) -> None:
        self.method = method
        self.level = level
        self.genomes = genomes
        self.bytes_per_brain = bytes_per_brain
        self.scenario = scenario
