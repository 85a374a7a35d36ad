"""A uniform grid over the arena: objects binned by centre, by counting sort.

``start`` has one entry per cell plus one; the objects of cell c are
``items[start[c]:start[c+1]]``, in increasing index order. Building writes into
preallocated arrays and allocates nothing.
"""

from __future__ import annotations

from evosim.kernels._jit import kernel
from evosim.kernels.layout import FRUIT_COUNT, MINE_COUNT


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
def cell_box(x0, x1, y0, y1, cell, ncx, ncy):
    """The cells (cx0, cx1, cy0, cy1), inclusive and clamped, that cover the box
    [x0, x1] x [y0, y1]: the one definition of which cells a search walks. The
    walk is one loop over rows and one over each row's items::

        for cy in range(cy0, cy1 + 1):
            q_lo, q_hi = row_items(start, cy, cx0, cx1, ncx)
            for q in range(q_lo, q_hi):
                j = items[q]
    """
    return (cell_coord(x0, cell, ncx), cell_coord(x1, cell, ncx),
            cell_coord(y0, cell, ncy), cell_coord(y1, cell, ncy))


@kernel
def row_items(start, cy, cx0, cx1, ncx):
    """(q_lo, q_hi): the objects of cells cx0..cx1 of row cy are ``items[q_lo:q_hi]``.

    A row's cells are consecutive cell indices, and binning stores cells in index
    order, so their objects form one run, in the order a cell-by-cell walk meets
    them (which keeps every search's result, ties included, the same)."""
    row = cy * ncx
    return start[row + cx0], start[row + cx1 + 1]


@kernel
def build_grid(xy, count, cell, ncx, ncy, start, items, cursor, binned_xy):
    """Bin the first ``count`` rows of ``xy [*, 2]`` into ``start``/``items``, and copy
    their positions in that order into ``binned_xy`` (``binned_xy[q] = xy[items[q]]``:
    a walk over a cell run reads positions contiguously, without the indirection)."""
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
        binned_xy[cursor[c], 0] = xy[i, 0]
        binned_xy[cursor[c], 1] = xy[i, 1]
        cursor[c] += 1


@kernel
def build_grids(s, p, work):
    """Bin the active mines, the active fruit and every robot into their grids."""
    build_grid(s.mine_xy, s.clock[MINE_COUNT], p.cell, p.ncx, p.ncy, work.mine_start,
               work.mine_items, work.cursor, work.mine_binned)
    build_grid(s.fruit_xy, s.clock[FRUIT_COUNT], p.cell, p.ncx, p.ncy, work.fruit_start,
               work.fruit_items, work.cursor, work.fruit_binned)
    build_grid(s.robot_xy, s.robot_xy.shape[0], p.cell, p.ncx, p.ncy, work.robot_start,
               work.robot_items, work.cursor, work.robot_binned)

