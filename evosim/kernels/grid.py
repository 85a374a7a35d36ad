"""A uniform grid over the arena: objects binned by centre, by counting sort.

``start`` has one entry per cell plus one; the objects of cell c are
``items[start[c]:start[c+1]]``, in increasing index order. Building writes into
preallocated arrays and allocates nothing.
"""

from __future__ import annotations

from evosim.kernels._jit import kernel


@kernel
def cell_coord(v, cell, n):
    """The cell index along one axis of coordinate ``v``, clamped to [0, n)."""
    c = int(v / cell)
    if c < 0:
        return 0
    if c >= n:
        return n - 1
    return c


@kernel
def build_grid(xy, count, cell, ncx, ncy, start, items, cursor):
    """Bin the first ``count`` rows of ``xy [*, 2]`` into ``start``/``items``."""
    ncell = ncx * ncy
    for c in range(ncell + 1):
        start[c] = 0
    for i in range(count):
        c = cell_coord(xy[i, 1], cell, ncy) * ncx + cell_coord(xy[i, 0], cell, ncx)
        start[c + 1] += 1
    for c in range(ncell):
        start[c + 1] += start[c]
        cursor[c] = start[c]
    for i in range(count):
        c = cell_coord(xy[i, 1], cell, ncy) * ncx + cell_coord(xy[i, 0], cell, ncx)
        items[cursor[c]] = i
        cursor[c] += 1
