"""``evosim brain``: one robot's network and its response map as a PNG (matplotlib).

Left: the network, inputs (rays x channels) on the left labelled by ray and channel,
hidden units, then turn and throttle; an edge's colour is its weight's sign (red
negative, blue positive) and its width and opacity its size. Right: the robot's
turn and throttle with a single mine or fruit at each place in its field of view
(the robot at the bottom, heading up), computed with the brain's own math on
synthetic observations (:mod:`evosim.world.brainview`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from evosim._atomic import atomic_write_with
from evosim.errors import EvosimError
from evosim.kernels.layout import MASK_ON
from evosim.scenario import GenomeLayout, Scenario
from evosim.world.brainfile import best_slot
from evosim.world.brainview import input_labels, response_map


def pick_slot(state: Any, slot: int | None) -> tuple[int, str]:
    """(slot, how it was chosen): ``slot`` checked against the population, or the best."""
    n = len(state.robot_id)
    if slot is None:
        return best_slot(state), "best"
    if not 0 <= slot < n:
        raise EvosimError(f"slot: expected 0 to {n - 1}, got {slot}")
    return slot, "chosen"


def network_layout(scenario: Scenario) -> dict[str, np.ndarray]:
    """Node positions in a unit box: inputs x=0, hidden x=0.5, outputs x=1."""
    n_in = scenario.n_inputs
    H = scenario.brain.hidden

    def column(n: int) -> np.ndarray:
        return np.linspace(0.97, 0.03, n) if n > 1 else np.array([0.5])

    return {"inputs": column(n_in), "hidden": column(H), "outputs": np.array([0.65, 0.35])}


def connections_on(layout: GenomeLayout, genome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bool [H, I], bool [2, H]): which connections of W1 and W2 are active; all of them
    unless the layout holds a connection mask (W1's H*I genes, then W2's 2H)."""
    H, n_in = layout.hidden, layout.inputs
    if not layout.masked:
        return np.ones((H, n_in), bool), np.ones((2, H), bool)
    block = np.asarray(genome)[layout.mask:layout.mask + layout.mask_length] > MASK_ON
    return block[:H * n_in].reshape(H, n_in), block[H * n_in:].reshape(2, H)


def draw_brain(scenario: Scenario, genome: np.ndarray, title: str, path: Path) -> Path:
    """Write the network and response-map figure of ``genome`` (float32 [G]) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = input_labels(scenario)
    chans = [c for c in ("mine", "fruit") if c in scenario.vision.channels]
    fig = plt.figure(figsize=(16, max(7.5, 0.2 * len(labels) + 1.5)))
    grid = fig.add_gridspec(2, 1 + len(chans), width_ratios=[1.5] + [1] * len(chans))
    _draw_network(fig.add_subplot(grid[:, 0]), scenario, genome, labels)
    for col, channel in enumerate(chans, start=1):
        _draw_responses(fig, grid, col, scenario, genome, channel)
    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write_with(path, lambda handle: handle.write(buffer.getvalue()))
    return path


_CHANNEL_COLOUR = {"mine": "#d62728", "fruit": "#2ca02c", "robot": "#1f77b4", "edge": "#7f7f7f"}


def _draw_network(ax: Any, scenario: Scenario, genome: np.ndarray, labels: list[str]) -> None:
    """The network on ``ax``: weighted edges (pruned ones left out), then the nodes."""
    import matplotlib

    layout = scenario.genome_layout
    w1, b1, w2, b2, speed = layout.split(np.asarray(genome, np.float64))
    on1, on2 = connections_on(layout, genome)
    pos = network_layout(scenario)
    cmap = matplotlib.colormaps["coolwarm_r"]
    _draw_edges(ax, pos, (w1, w2), (on1, on2), cmap)
    _draw_nodes(ax, scenario, pos, labels, (b1, b2), cmap)
    ax.text(0.5, 1.0, f"{scenario.brain.hidden} hidden (tanh)", ha="center", va="bottom",
            fontsize=8)
    ax.text(1.0, 0.2, f"max-speed gene {float(speed):.2f}", ha="center", fontsize=8)
    ax.set_xlim(-0.32, 1.22)
    ax.set_ylim(-0.02, 1.04)
    ax.axis("off")
    handles = [matplotlib.lines.Line2D([], [], color=cmap(1.0), lw=3, label="positive weight"),
               matplotlib.lines.Line2D([], [], color=cmap(0.0), lw=3, label="negative weight")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0), ncol=2,
              fontsize=8, frameon=False)
    kept = (f"\n{int(on1.sum() + on2.sum())} of {on1.size + on2.size} connections active; "
            "pruned ones are not drawn" if layout.masked else "")
    ax.set_title(f"network (node colour: bias; edge width: |weight|){kept}", fontsize=10)


def _draw_edges(ax: Any, pos: dict[str, np.ndarray], weights: tuple[np.ndarray, np.ndarray],
                active: tuple[np.ndarray, np.ndarray], cmap: Any) -> None:
    """W1 (inputs to hidden) and W2 (hidden to outputs): colour the sign, width and
    opacity the size; a pruned connection is not drawn at all."""
    (w1, w2), (on1, on2) = weights, active
    # In float64: float32 arithmetic can put the biggest edge's alpha a hair above 1.
    biggest = max(float(np.abs(w1).max()), float(np.abs(w2).max()), 1e-9)

    def edge(x0: float, y0: float, x1: float, y1: float, w: float) -> None:
        size = min(abs(float(w)) / biggest, 1.0)
        ax.plot([x0, x1], [y0, y1], color=cmap(0.5 + 0.5 * float(w) / biggest),
                lw=0.2 + 2.8 * size, alpha=0.15 + 0.85 * size, zorder=1)

    for h, yh in enumerate(pos["hidden"]):
        for j, yi in enumerate(pos["inputs"]):
            if on1[h, j]:
                edge(0.0, yi, 0.5, yh, w1[h, j])
        for o, yo in enumerate(pos["outputs"]):
            if on2[o, h]:
                edge(0.5, yh, 1.0, yo, w2[o, h])


def _draw_nodes(ax: Any, scenario: Scenario, pos: dict[str, np.ndarray], labels: list[str],
                biases: tuple[np.ndarray, np.ndarray], cmap: Any) -> None:
    """Inputs coloured by channel and labelled; hidden units and outputs by their bias."""
    b1, b2 = biases
    C = len(scenario.vision.channels)
    for j, (yi, label) in enumerate(zip(pos["inputs"], labels, strict=True)):
        c = scenario.vision.channels[j % C]
        ax.scatter([0.0], [yi], s=28, color=_CHANNEL_COLOUR.get(c, "black"), zorder=3,
                   edgecolor="black", linewidth=0.4)
        ax.text(-0.02, yi, label, ha="right", va="center", fontsize=7)
    bmax = max(np.abs(np.concatenate([b1, b2])).max(), 1e-9)
    for h, yh in enumerate(pos["hidden"]):
        ax.scatter([0.5], [yh], s=60, color=cmap(0.5 + 0.5 * b1[h] / bmax), zorder=3,
                   edgecolor="black", linewidth=0.6)
    for o, (yo, name) in enumerate(zip(pos["outputs"], ("turn", "throttle"), strict=True)):
        ax.scatter([1.0], [yo], s=120, color=cmap(0.5 + 0.5 * b2[o] / bmax), zorder=3,
                   edgecolor="black", linewidth=0.8)
        ax.text(1.03, yo, name, ha="left", va="center", fontsize=10)


def _draw_responses(fig: Any, grid: Any, col: int, scenario: Scenario, genome: np.ndarray,
                    channel: str) -> None:
    """Column ``col``: turn (top) and throttle (bottom) with one ``channel`` object at
    each place in the field of view, the robot at the bottom heading up."""
    rng = scenario.vision.range
    resp = response_map(scenario, genome, channel)
    a, d = np.meshgrid(resp["angle"], resp["distance"])
    x, y = d * np.sin(a), d * np.cos(a)  # robot at (0, 0), heading up, right = right
    for row, (key, cm, lim, unit) in enumerate((
            ("turn", "coolwarm", (-1, 1), "turn (+ = right)"),
            ("throttle", "viridis", (0, 1), "throttle"))):
        axr = fig.add_subplot(grid[row, col])
        im = axr.pcolormesh(x, y, resp[key], cmap=cm, vmin=lim[0], vmax=lim[1],
                            shading="gouraud")
        axr.scatter([0], [0], marker="^", s=90, color="black", zorder=3)
        axr.set_aspect("equal")
        axr.set_xlim(-rng, rng)
        axr.set_ylim(-0.08 * rng, rng * 1.05)
        nothing = resp["nothing"][0 if key == "turn" else 1]
        axr.set_title(f"{unit} with one {channel} there\n(nothing in view: "
                      f"{nothing:+.2f})", fontsize=9)
        axr.axis("off")
        fig.colorbar(im, ax=axr, fraction=0.04, pad=0.02)
