"""Compressed brains: every brain of a checkpoint through JPEG, 8-bit and pruning, then judged.

What is compressed: the two weight matrices of each brain, W1 [H, R*C] and W2 [2, H].
The biases b1 [H], b2 [2] and the max-speed gene stay float32 in every method (4 bytes
each), and their bytes are counted in every method's ``bytes_per_brain``.

- ``jpeg`` (Pillow, baseline greyscale JPEG at quality Q): each matrix becomes an 8-bit
  image ``round(255 (w - lo) / (hi - lo))`` with its scale (lo, hi) kept as two float32.
  W1 is laid out as a [C*H, R] image, one row per (channel, hidden unit) and one column
  per ray, so that neighbouring pixels are neighbouring rays (the smooth axis); W2 is a
  [2, H] image. Bytes: each file's length, except that the quantisation and Huffman
  tables (DQT and DHT segments), which are the same for every image at one quality, are
  counted once per population and shared out over its N brains.
- ``quant8``: the same 8-bit mapping without JPEG: one byte per weight plus the scales.
- ``prune``: magnitude pruning to the byte count of the JPEG brain at each quality, brain
  by brain: the k largest ``|w|`` of W1 and W2 together are kept as (uint16 or uint32 index,
  float32 value) pairs plus a uint16 count; the rest become 0.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evosim._atomic import atomic_open
from evosim.errors import EvosimError
from evosim.evolve.evaluate import evaluation_scenario, measure, summarise
from evosim.evolve.plan import world_seeds
from evosim.scenario import Scenario
from evosim.scenario.genome import GenomeLayout
from evosim.world import World
from evosim.world.checkpoint import load_checkpoint

DEFAULT_QUALITIES = (90, 50, 20, 5)
SCALE_BYTES = 8  # lo and hi of one matrix, float32
RESULT_KEYS = ("fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k")
_TABLE_MARKERS = (0xDB, 0xC4)  # DQT, DHT: shared by every image at one quality

PILLOW_HINT = "evosim compress needs Pillow: pip install pillow"


def check_quality(q: int) -> int:
    """``q`` if it is a JPEG quality from 1 to 100, else an :class:`EvosimError`."""
    if isinstance(q, bool) or not isinstance(q, int | np.integer) or not 1 <= q <= 100:
        raise EvosimError(f"quality: expected an integer from 1 to 100, got {q!r}")
    return int(q)


def _image():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        raise EvosimError(PILLOW_HINT) from None
    return Image


def to_bytes8(w: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(uint8 image, lo, hi): ``w`` mapped linearly from [lo, hi] onto 0..255."""
    lo, hi = float(np.float32(w.min())), float(np.float32(w.max()))
    span = hi - lo
    if span == 0.0:
        return np.zeros(w.shape, np.uint8), lo, hi
    return np.rint((w.astype(np.float64) - lo) * (255.0 / span)).astype(np.uint8), lo, hi


def from_bytes8(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """float32 weights back from an 8-bit image and its scale."""
    return (lo + img.astype(np.float64) * ((hi - lo) / 255.0)).astype(np.float32)


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
    img, lo, hi = to_bytes8(w)
    buf = io.BytesIO()
    Image.fromarray(img, mode="L").save(buf, format="JPEG", quality=check_quality(quality))
    data = buf.getvalue()
    back = np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.uint8)
    return from_bytes8(back, lo, hi), len(data), table_bytes(data)


def w1_image(w1: np.ndarray, rays: int, channels: int) -> np.ndarray:
    """W1 [H, R*C] (input k*C + c) as the [C*H, R] image: row c*H + h, column = ray."""
    H = w1.shape[0]
    return w1.reshape(H, rays, channels).transpose(2, 0, 1).reshape(channels * H, rays)


def w1_from_image(img: np.ndarray, hidden: int, rays: int, channels: int) -> np.ndarray:
    """Inverse of :func:`w1_image`."""
    return img.reshape(channels, hidden, rays).transpose(1, 2, 0).reshape(hidden,
                                                                           rays * channels)


class Compressed:
    """One compressed population: genomes float32 [N, G] and bytes per brain (float)."""

    def __init__(self, method: str, quality: int | None, genomes: np.ndarray,
                 bytes_per_brain: float) -> None:
        self.method = method
        self.quality = quality
        self.genomes = genomes
        self.bytes_per_brain = bytes_per_brain


def _kept_bytes(layout: GenomeLayout) -> int:
    """Bytes of the genes every method keeps as float32: b1, b2 and the speed gene."""
    return 4 * (layout.hidden + 2 + 1)


def float32_bytes(layout: GenomeLayout) -> int:
    """Bytes of one genome as float32."""
    return 4 * layout.length


def jpeg_population(genomes: np.ndarray, layout: GenomeLayout, rays: int, channels: int,
                    quality: int) -> tuple[Compressed, np.ndarray]:
    """The population through JPEG at ``quality``; also each brain's bytes (float64 [N],
    its share of the tables included), for pruning to match brain by brain."""
    out = genomes.copy()
    N = genomes.shape[0]
    own = np.zeros(N, np.int64)
    tables = 0
    H = layout.hidden
    for i in range(N):
        w1, _, w2, _, _ = layout.split(out[i])
        d1, n1, t1 = jpeg_matrix(w1_image(w1, rays, channels), quality)
        d2, n2, t2 = jpeg_matrix(w2, quality)
        w1[:] = w1_from_image(d1, H, rays, channels)
        w2[:] = d2
        tables = max(tables, t1)
        own[i] = n1 - t1 + n2 - t2 + 2 * SCALE_BYTES + _kept_bytes(layout)
    per_brain = float(own.mean()) + tables / N
    return Compressed("jpeg", quality, out, per_brain), own + tables / N


def quant8_population(genomes: np.ndarray, layout: GenomeLayout) -> Compressed:
    """Each weight matrix to 8 bits with its own scale and back."""
    out = genomes.copy()
    for i in range(out.shape[0]):
        w1, _, w2, _, _ = layout.split(out[i])
        for w in (w1, w2):
            w[:] = from_bytes8(*to_bytes8(w))
    n_weights = layout.hidden * layout.inputs + 2 * layout.hidden
    return Compressed("quant8", None, out, float(n_weights + 2 * SCALE_BYTES
                                                 + _kept_bytes(layout)))


def prune_entry_bytes(layout: GenomeLayout) -> int:
    """Bytes of one kept weight: its index (uint16 when it fits, else uint32), float32 value."""
    n_weights = layout.hidden * layout.inputs + 2 * layout.hidden
    return (2 if n_weights <= 2**16 else 4) + 4


def prune_population(genomes: np.ndarray, layout: GenomeLayout, budgets: np.ndarray,
                     quality: int | None) -> Compressed:
    """Magnitude pruning of W1 and W2 together, each brain to at most ``budgets[i]`` bytes.

    A brain keeps k = (budget - kept float32 genes - 2-byte count) // entry bytes weights,
    the largest ``|w|`` (ties to the lower index), at least 0 and at most all of them.
    """
    out = genomes.copy()
    entry = prune_entry_bytes(layout)
    fixed = _kept_bytes(layout) + 2
    n_w1 = layout.hidden * layout.inputs
    sizes = np.zeros(out.shape[0], np.float64)
    for i in range(out.shape[0]):
        w1, _, w2, _, _ = layout.split(out[i])
        flat = np.concatenate([w1.ravel(), w2.ravel()])
        k = int(min(max((int(budgets[i]) - fixed) // entry, 0), flat.size))
        keep = np.zeros(flat.size, bool)
        keep[np.argsort(-np.abs(flat), kind="stable")[:k]] = True
        flat[~keep] = 0.0
        w1[:] = flat[:n_w1].reshape(w1.shape)
        w2[:] = flat[n_w1:].reshape(w2.shape)
        sizes[i] = fixed + k * entry
    return Compressed("prune", quality, out, float(sizes.mean()))


def compress_all(genomes: np.ndarray, scenario: Scenario,
                 qualities: Sequence[int]) -> list[Compressed]:
    """quant8, then per quality: jpeg and prune to the same bytes, in ``qualities`` order."""
    layout = scenario.genome_layout
    rays, channels = scenario.vision.rays, len(scenario.vision.channels)
    out = [quant8_population(genomes, layout)]
    for q in qualities:
        jpeg, own = jpeg_population(genomes, layout, rays, channels, check_quality(q))
        out += [jpeg, prune_population(genomes, layout, own, q)]
    return out


def compress_checkpoint(path: str | Path, qualities: Sequence[int], steps: int, seeds: int,
                        seed: int = 0, on_world: Callable[[], None] | None = None
                        ) -> dict[str, Any]:
    """``{"original", "random", "results": [...], "float32_bytes"}`` for a checkpoint.

    Every arm runs in the same ``seeds`` fresh worlds as ``evosim evaluate`` (same
    scenario, same world seeds); ``original`` and ``random`` carry every key of
    :func:`evosim.evolve.evaluate.summarise`, each result its fruit and mine figures.
    """
    for q in qualities:
        check_quality(q)
    meta, checked, arrays = load_checkpoint(path)
    if checked.brain.encoding != "direct":
        raise EvosimError(f"{path}: compress takes direct-encoded brains, this checkpoint's "
                          f"scenario has [brain] encoding = {checked.brain.encoding!r}")
    if checked.brain.connections != "dense":
        raise EvosimError(f"{path}: compress takes dense brains, this checkpoint's scenario "
                          f"has [brain] connections = {checked.brain.connections!r}")
    scenario = evaluation_scenario(checked, int(meta["step"]))
    genomes = np.asarray(arrays.genome)
    populations = compress_all(genomes, scenario, qualities)
    arms: list[list[dict[str, float]]] = [[] for _ in range(len(populations) + 2)]
    for world_seed in world_seeds(seed, seeds):
        for a, g in enumerate([genomes, None, *(c.genomes for c in populations)]):
            world = World(scenario, seed=world_seed)
            if g is not None:
                world.set_genomes(g)
            arms[a].append(measure(world, steps))
            if on_world:
                on_world()
    summaries = [summarise(samples) for samples in arms]
    results = []
    for c, s in zip(populations, summaries[2:], strict=True):
        results.append({"method": c.method, "quality": c.quality,
                         "bytes_per_brain": round(c.bytes_per_brain, 2),
                         **{k: s[k] for k in RESULT_KEYS}})
    return {"original": summaries[0], "random": summaries[1], "results": results,
            "float32_bytes": float32_bytes(scenario.genome_layout)}


def worlds_needed(qualities: Sequence[int], seeds: int) -> int:
    """Worlds :func:`compress_checkpoint` runs: (original, random, quant8, 2 per quality)."""
    return (3 + 2 * len(qualities)) * seeds


def plot_kept(result: dict[str, Any], out: str | Path, title: str = "") -> None:
    """Fruit kept (ratio to the original) vs bytes per brain, one line per method; PNG,
    written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = result["original"]["fruit_per_robot_per_1k"]["mean"] or 1.0
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    for method, marker in (("jpeg", "o"), ("prune", "s"), ("quant8", "^")):
        rows = sorted((r for r in result["results"] if r["method"] == method),
                      key=lambda r: r["bytes_per_brain"])
        if not rows:
            continue
        xs = [r["bytes_per_brain"] for r in rows]
        ys = [r["fruit_per_robot_per_1k"]["mean"] / base for r in rows]
        ax.plot(xs, ys, marker=marker, label=method)
        for r, x, y in zip(rows, xs, ys, strict=True):
            if r["quality"] is not None:
                ax.annotate(f"Q{r['quality']}", (x, y), textcoords="offset points",
                            xytext=(4, 4), fontsize=7)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--", label="original (float32)")
    ax.axhline(result["random"]["fruit_per_robot_per_1k"]["mean"] / base, color="red",
               lw=0.8, ls=":", label="random brains")
    ax.set_xscale("log")
    ax.set_xlabel("bytes per brain")
    ax.set_ylabel("fruit rate kept (ratio to original)")
    ax.set_title(title or "behaviour kept vs bytes", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_open(Path(out)) as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)
