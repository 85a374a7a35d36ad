"""Compressed brains: every brain of a checkpoint through six techniques, then judged.

The six ways to compress a model of the second seed, each at several sizes
(``method``, ``level``):

- ``downsize`` (``hidden`` k): a dense brain with k hidden units, fitted to the
  brain's own (turn, throttle) on observations recorded in a world of the
  checkpoint's robots (:mod:`evosim.analysis.downsize`), stored whole as float32;
- ``svd`` (``rank`` r): W1 as its rank-r SVD (operator factorisation), W2 float32;
- ``quant`` (``bits`` b): W1 and W2 quantised to b bits with one scale each;
- ``jpeg`` (``quality`` Q): W1 and W2 as 8-bit greyscale JPEG images (value
  compression); W1 laid out one row per (channel, hidden unit), one column per ray;
- ``share`` (``values`` k): W1 and W2 each as k shared values (1-D k-means) and an
  index per weight (parameter sharing);
- ``prune`` (at each JPEG ``quality``): magnitude pruning of W1 and W2 together to
  the byte count of that brain's JPEG version, the kept weights as index + value.

The codecs are in :mod:`evosim.analysis.codecs`; a brain's bytes are the length of
what its encoders wrote, plus, for every method but ``downsize``, b1, b2 and the
speed gene as float32. For JPEG the quantisation and Huffman tables (the same for
every image at one quality) are counted once per population and shared out over its
N brains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evosim._atomic import atomic_open
from evosim.analysis import codecs
from evosim.analysis.codecs import (
    SCALE_BYTES,
    Compressed,
    check_quality,
    jpeg_matrix,
    w1_from_image,
    w1_image,
)
from evosim.analysis.downsize import downsize_population, record_observations
from evosim.analysis.techniques import ARGUMENTS, DEFAULT_LEVELS, METHODS, UNITS, setting
from evosim.errors import EvosimError
from evosim.evolve.evaluate import evaluation_scenario, measure, summarise
from evosim.evolve.plan import world_seeds
from evosim.scenario import Scenario
from evosim.scenario.genome import GenomeLayout
from evosim.world import World
from evosim.world.checkpoint import load_checkpoint

__all__ = ["DEFAULT_LEVELS", "METHODS", "SCALE_BYTES", "Compressed", "check_levels",
           "check_quality", "compress_all", "compress_checkpoint", "jpeg_matrix",
           "plot_kept", "w1_from_image", "w1_image"]

DEFAULT_QUALITIES = DEFAULT_LEVELS["jpeg"]
RESULT_KEYS = ("fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k")
def _kept_bytes(layout: GenomeLayout) -> int:
    """Bytes of the genes every method but downsize keeps as float32: b1, b2, speed."""
    return 4 * (layout.hidden + 2 + 1)


def float32_bytes(layout: GenomeLayout) -> int:
    """Bytes of one genome as float32."""
    return 4 * layout.length


def _per_matrix(method: str, level: int, genomes: np.ndarray, layout: GenomeLayout,
                encode: Callable[[np.ndarray], bytes],
                decode: Callable[[bytes, tuple[int, ...]], np.ndarray],
                w2_too: bool = True) -> Compressed:
    out = genomes.copy()
    sizes = np.zeros(out.shape[0], np.float64)
    for i in range(out.shape[0]):
        w1, _, w2, _, _ = layout.split(out[i])
        size = _kept_bytes(layout)
        for w in (w1, w2) if w2_too else (w1,):
            data = encode(w)
            w[:] = decode(data, w.shape)
            size += len(data)
        if not w2_too:
            size += 4 * w2.size
        sizes[i] = size
    return Compressed(method, level, out, float(sizes.mean()))


def quant_population(genomes: np.ndarray, layout: GenomeLayout, bits: int) -> Compressed:
    """Each weight matrix to ``bits`` bits with its own scale and back."""
    return _per_matrix("quant", bits, genomes, layout, lambda w: codecs.quantize(w, bits),
                       lambda d, shape: codecs.dequantize(d, shape, bits))


def share_population(genomes: np.ndarray, layout: GenomeLayout, values: int) -> Compressed:
    """Each weight matrix as ``values`` shared values and an index per weight."""
    return _per_matrix("share", values, genomes, layout, lambda w: codecs.share(w, values),
                       codecs.unshare)


def svd_population(genomes: np.ndarray, layout: GenomeLayout, rank: int) -> Compressed:
    """W1 as its rank-``rank`` SVD; W2 kept as float32."""
    return _per_matrix("svd", rank, genomes, layout, lambda w: codecs.low_rank(w, rank),
                       lambda d, shape: codecs.from_low_rank(d, (shape[0], shape[1]), rank),
                       w2_too=False)


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


def prune_entry_bytes(layout: GenomeLayout) -> int:
    """Bytes of one kept weight: its index (uint16 when it fits, else uint32), float32 value."""
    return codecs.index_bytes(layout.hidden * layout.inputs + 2 * layout.hidden) + 4


def prune_population(genomes: np.ndarray, layout: GenomeLayout, budgets: np.ndarray,
                     quality: int) -> Compressed:
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
        data = codecs.prune(flat, (int(budgets[i]) - fixed) // entry)
        flat = codecs.unprune(data, flat.size)
        w1[:] = flat[:n_w1].reshape(w1.shape)
        w2[:] = flat[n_w1:].reshape(w2.shape)
        sizes[i] = _kept_bytes(layout) + len(data)
    return Compressed("prune", quality, out, float(sizes.mean()))


# ------------------------------------------------------------------ all of them


def check_levels(levels: Mapping[str, Sequence[int]], scenario: Scenario
                 ) -> dict[str, tuple[int, ...]]:
    """``levels`` checked against ``scenario``'s brain: an
    :class:`~evosim.errors.EvosimError` names the first bad method or level
    (``<argument>: expected ...``)."""
    layout = scenario.genome_layout
    bounds = {"downsize": (1, layout.hidden - 1), "svd": (1, min(layout.hidden, layout.inputs)),
              "quant": (1, 8), "jpeg": (1, 100), "share": (1, 256), "prune": (1, 100)}
    out: dict[str, tuple[int, ...]] = {}
    for method, values in levels.items():
        if method not in METHODS:
            raise EvosimError(f"methods: expected some of {', '.join(METHODS)}, got {method!r}")
        lo, hi = bounds[method]
        unit = ARGUMENTS[method]
        if hi < lo:
            raise EvosimError(f"{unit}: this brain has {layout.hidden} hidden unit(s), "
                              f"too few to down-size")
        for value in values:
            if (isinstance(value, bool) or not isinstance(value, int | np.integer)
                    or not lo <= value <= hi):
                raise EvosimError(f"{unit}: expected integers from {lo} to {hi} for {method} "
                                  f"on this brain, got {value!r}")
        out[method] = tuple(int(v) for v in values)
    return out


def compress_all(genomes: np.ndarray, scenario: Scenario,
                 levels: Mapping[str, Sequence[int]] | None = None,
                 observations: np.ndarray | None = None) -> list[Compressed]:
    """Every method at every level, in :data:`~evosim.analysis.techniques.METHODS`
    order (``prune`` at the JPEG qualities of ``levels["prune"]``); ``observations``
    (for ``downsize``) from :func:`~evosim.analysis.downsize.record_observations`."""
    chosen = check_levels(dict(levels) if levels is not None else
                          DEFAULT_LEVELS, scenario)
    layout = scenario.genome_layout
    rays, channels = scenario.vision.rays, len(scenario.vision.channels)
    out: list[Compressed] = []
    for method in METHODS:
        for level in chosen.get(method, ()):
            if method == "downsize":
                if observations is None:
                    raise EvosimError("downsize: needs observations (record_observations)")
                out.append(downsize_population(genomes, scenario, level, observations))
            elif method == "svd":
                out.append(svd_population(genomes, layout, level))
            elif method == "quant":
                out.append(quant_population(genomes, layout, level))
            elif method == "jpeg":
                out.append(jpeg_population(genomes, layout, rays, channels, level)[0])
            elif method == "share":
                out.append(share_population(genomes, layout, level))
            else:
                own = jpeg_population(genomes, layout, rays, channels, level)[1]
                out.append(prune_population(genomes, layout, own, level))
    return out


def _open(path: str | Path, levels: Mapping[str, Sequence[int]] | None
          ) -> tuple[Scenario, np.ndarray, dict[str, tuple[int, ...]]]:
    """(evaluation scenario, genomes, checked levels) of a checkpoint compress can take."""
    meta, checked, arrays = load_checkpoint(path)
    if checked.brain.encoding != "direct":
        raise EvosimError(f"{path}: compress takes direct-encoded brains, this checkpoint's "
                          f"scenario has [brain] encoding = {checked.brain.encoding!r}")
    if checked.brain.connections != "dense":
        raise EvosimError(f"{path}: compress takes dense brains, this checkpoint's scenario "
                          f"has [brain] connections = {checked.brain.connections!r}")
    scenario = evaluation_scenario(checked, int(meta["step"]))
    chosen = check_levels(dict(levels) if levels is not None else DEFAULT_LEVELS, scenario)
    return scenario, np.asarray(arrays.genome), chosen


def checkpoint_levels(path: str | Path, levels: Mapping[str, Sequence[int]] | None = None
                      ) -> dict[str, tuple[int, ...]]:
    """``levels`` checked against a checkpoint's brains (an
    :class:`~evosim.errors.EvosimError` if the checkpoint or a level does not do),
    before anything runs."""
    return _open(path, levels)[2]


def compress_checkpoint(path: str | Path, levels: Mapping[str, Sequence[int]] | None = None,
                        steps: int = 4000, seeds: int = 3, seed: int = 0,
                        on_world: Callable[[], None] | None = None) -> dict[str, Any]:
    """``{"original", "random", "results": [...], "float32_bytes"}`` for a checkpoint.

    ``levels``: method -> levels (default :data:`~evosim.analysis.techniques.DEFAULT_LEVELS`;
    prune at the JPEG qualities); a method left out is not run. Every population runs in the same
    ``seeds`` fresh worlds as ``evosim evaluate`` (same scenario, same world seeds);
    ``original`` and ``random`` carry every key of
    :func:`evosim.evolve.evaluate.summarise`, each result its fruit and mine figures.
    ``downsize`` fits to observations from one more world seed, not an evaluation one.
    """
    scenario, genomes, chosen = _open(path, levels)
    all_seeds = world_seeds(seed, seeds + 1)
    observations = (record_observations(scenario, genomes, all_seeds[-1])
                    if chosen.get("downsize") else None)
    populations = compress_all(genomes, scenario, chosen, observations)
    arms: list[list[dict[str, float]]] = [[] for _ in range(len(populations) + 2)]
    for world_seed in all_seeds[:seeds]:
        runs = [(scenario, genomes), (scenario, None),
                *((c.scenario or scenario, c.genomes) for c in populations)]
        for a, (sc, g) in enumerate(runs):
            world = World(sc, seed=world_seed)
            if g is not None:
                world.set_genomes(g)
            arms[a].append(measure(world, steps))
            if on_world:
                on_world()
    summaries = [summarise(samples) for samples in arms]
    results = []
    for c, s in zip(populations, summaries[2:], strict=True):
        results.append({"method": c.method, "level": c.level, "unit": UNITS[c.method],
                        "bytes_per_brain": round(c.bytes_per_brain, 2),
                        **{k: s[k] for k in RESULT_KEYS}})
    return {"original": summaries[0], "random": summaries[1], "results": results,
            "float32_bytes": float32_bytes(scenario.genome_layout)}


def worlds_needed(levels: Mapping[str, Sequence[int]], seeds: int) -> int:
    """Evaluation worlds :func:`compress_checkpoint` runs: original, random, and one per
    method and level, each ``seeds`` times."""
    return (2 + sum(len(v) for v in levels.values())) * seeds


def plot_kept(result: dict[str, Any], out: str | Path, title: str = "") -> None:
    """Fruit kept (ratio to the original) vs bytes per brain, one line per technique;
    PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = result["original"]["fruit_per_robot_per_1k"]["mean"] or 1.0
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    markers = dict(zip(METHODS, "DvoP^s", strict=True))
    for method in METHODS:
        rows = sorted((r for r in result["results"] if r["method"] == method),
                      key=lambda r: r["bytes_per_brain"])
        if not rows:
            continue
        xs = [r["bytes_per_brain"] for r in rows]
        ys = [r["fruit_per_robot_per_1k"]["mean"] / base for r in rows]
        ax.plot(xs, ys, marker=markers[method], label=method)
        for r, x, y in zip(rows, xs, ys, strict=True):
            ax.annotate(setting(method, r["level"]), (x, y), textcoords="offset points",
                        xytext=(4, 4), fontsize=6)
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
