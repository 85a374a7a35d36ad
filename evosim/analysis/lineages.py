"""What the event log and checkpoints say about ancestry, death and diversity:
lineage shares over time, the family tree of the robots alive at the end, where
robots died, and how different their genomes are. Plain numpy; the figures are
drawn by :mod:`evosim.analysis.plot`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evosim.kernels.life import EV_AGE, EV_BIRTH, EV_INITIAL, EV_MINE, EV_SPAWN


def lineage_counts(events: np.ndarray, slots: int, samples: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Robots per lineage at each of ``samples`` (sorted steps), replaying the log.

    Returns (lineage ids int64 [L], counts int64 [len(samples), L]); each row sums
    to ``slots`` once every slot is known (from the initial robots on).
    """
    lineage = np.full(slots, -1, np.int64)
    rows = []
    kinds = events["kind"]
    steps = events["step"]
    n = len(events)
    k = 0
    for t in samples:
        while k < n and steps[k] <= t:
            if kinds[k] in (EV_INITIAL, EV_BIRTH, EV_SPAWN):
                lineage[events["slot"][k]] = events["lineage"][k]
            k += 1
        rows.append(lineage.copy())
    table = np.array(rows).reshape(len(samples), slots)
    ids = np.unique(table[table >= 0])
    counts = np.stack([(table == i).sum(axis=1) for i in ids], axis=1) if len(ids) else \
        np.zeros((len(samples), 0), np.int64)
    return ids, counts


def muller_shares(events: np.ndarray, slots: int, end: int, points: int = 200,
                  top: int = 12) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Steps [P], labels [K+1] and shares [K+1, P] for a Muller plot: the ``top``
    lineages that ever held the largest share, in order of founding, then "others"."""
    samples = np.unique(np.linspace(0, end, points).astype(np.int64))
    ids, counts = lineage_counts(events, slots, samples)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    keep = np.sort(np.argsort(-shares.max(axis=0), kind="stable")[:top]) if len(ids) else \
        np.zeros(0, np.int64)
    rest = np.ones(len(ids), bool)
    rest[keep] = False
    out = np.vstack([shares[:, keep].T, shares[:, rest].sum(axis=1)[None, :]])
    labels = [f"lineage {int(ids[i])}" for i in keep] + ["others"]
    return samples, labels, out


@dataclass
class Tree:
    """A family tree collapsed to its branch points: node ``i`` was born at ``step[i]``
    in ``lineage[i]``, its parent is ``parent[i]`` (-1 for a root), ``leaf[i]`` is a
    robot alive at the end (``size`` robots under each node)."""

    ids: np.ndarray
    parent: np.ndarray
    step: np.ndarray
    lineage: np.ndarray
    leaf: np.ndarray
    size: np.ndarray


def family_tree(events: np.ndarray, alive: np.ndarray) -> Tree:
    """Ancestry of the robots ``alive`` (ids) from the log: the founders (roots) and
    the branch points; every other ancestor (one child) is collapsed into the branch
    below it, so the tree has at most 2 x len(alive) nodes however long the run.
    Robots whose birth the log lacks (a run continued from a checkpoint) are roots."""
    born = (events["kind"] == EV_BIRTH) | (events["kind"] == EV_SPAWN) | \
        (events["kind"] == EV_INITIAL)
    e = events[born]
    info = {int(r): (int(p), int(s), int(li))
            for r, p, s, li in zip(e["id"], e["parent"], e["step"], e["lineage"], strict=True)}
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    leaves = {int(a) for a in alive}
    for rid in sorted(leaves):
        node = rid
        while True:
            par = info.get(node, (-1, 0, -1))[0]
            if par < 0 or par not in info:
                if node not in roots:
                    roots.append(node)
                break
            kids = children.setdefault(par, [])
            if node in kids:
                break
            kids.append(node)
            node = par

    ids: list[int] = []
    parent: list[int] = []

    def walk(node: int, up: int) -> None:
        # Below a root (kept: it is the founder), skip chains: a node with one child
        # that is not itself a leaf.
        while up >= 0 and node not in leaves and len(children.get(node, [])) == 1:
            node = children[node][0]
        me = len(ids)
        ids.append(node)
        parent.append(up)
        for kid in sorted(children.get(node, [])):
            walk(kid, me)

    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * len(leaves) + 100))
    for root in sorted(roots):
        walk(root, -1)
    ids_a = np.array(ids, np.int64)
    par_a = np.array(parent, np.int64)
    size = np.array([1 if i in leaves else 0 for i in ids], np.int64)
    for k in range(len(ids) - 1, -1, -1):  # children come after their parent
        if par_a[k] >= 0:
            size[par_a[k]] += size[k]
    return Tree(ids=ids_a, parent=par_a,
                step=np.array([info.get(i, (0, 0, 0))[1] for i in ids], np.int64),
                lineage=np.array([info.get(i, (0, 0, -1))[2] for i in ids], np.int64),
                leaf=np.array([i in leaves for i in ids], bool), size=size)


def death_grid(events: np.ndarray, width: float, height: float, cell: float = 10.0
               ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Deaths by mines and by age counted over the arena in cells of ``cell`` units:
    (mine [ny, nx], age [ny, nx], (x edges, y edges))."""
    xe = np.linspace(0.0, width, max(1, round(width / cell)) + 1)
    ye = np.linspace(0.0, height, max(1, round(height / cell)) + 1)
    out = []
    for kind in (EV_MINE, EV_AGE):
        d = events[events["kind"] == kind]
        h, _, _ = np.histogram2d(d["y"], d["x"], bins=(ye, xe))
        out.append(h)
    return out[0], out[1], (xe, ye)


def genome_diversity(genome: np.ndarray) -> float:
    """Root-mean-square distance between the genomes of two different robots
    (float32 [N, G] -> units of genes): sqrt(2N/(N-1) x sum of per-gene variances),
    exact and O(N G)."""
    g = np.asarray(genome, np.float64)
    n = g.shape[0]
    if n < 2:
        return 0.0
    return float(np.sqrt(2.0 * n / (n - 1) * g.var(axis=0).sum()))
