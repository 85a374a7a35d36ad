"""``evosim plot``: a run's metrics, event logs and checkpoints as PNGs (matplotlib,
Agg backend).

Figures: ``overview.png`` and one PNG per metrics panel (a band of the worlds'
spread, their mean), plus ``active_connections.png`` for evolved connections (the
active-connection curve beside fruit eaten and mine deaths); ``diversity.png``
(genome diversity at every checkpoint); ``muller.png`` (lineage
shares over time, up to 4 worlds); ``phylogeny.png`` (the family tree of world 0's
robots at the end, single-child chains collapsed); ``deaths.png`` (where world 0's
robots died, by mines and by age, mines drawn); ``summary.png`` (one figure for a
README). The event-log figures need ``world-NNN/events/`` (runs made before it
existed get the others)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from evosim._atomic import atomic_write_with
from evosim.analysis import lineages
from evosim.analysis.story import STAGES, story_of
from evosim.errors import RunDirError
from evosim.evolve import events as event_log
from evosim.evolve import metrics
from evosim.evolve.checkpoints import FINAL_FILE, METRICS_FILE, list_checkpoints, world_dir
from evosim.evolve.plan import RunPlan

# (file name, title, y label, per-world series from the rows)
PANELS = (
    ("fruit_rate", "Fruit eaten", "per robot per 1k steps"),
    ("mine_death_rate", "Mine deaths", "per robot per 1k steps"),
    ("mean_speed_gene", "Mean max-speed gene", "units per step"),
    ("mean_generation", "Mean generation", "generations"),
)
STAGE_COLOURS = dict(zip(STAGES, ("tab:blue", "tab:green", "tab:orange", "tab:purple"),
                         strict=True))
MEAN_KEY = "mean"  # in the stages given to _draw: the across-world mean's starts, by stage
MAX_POINTS = 80  # rates are averaged over windows so that about this many points remain
MULLER_WORLDS = 4  # Muller plots for at most this many worlds
MULLER_TOP = 12  # lineages with a colour of their own; the rest are "others"


def series(rows: list[dict], robots: int) -> dict[str, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Per panel, per world: (steps, values). Rates are events / (robots x interval) x 1000."""
    out: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] = {p[0]: {} for p in PANELS}
    for w in sorted({int(r["world"]) for r in rows}):
        mine = [r for r in rows if r["world"] == w]
        steps = np.array([r["step"] for r in mine], np.float64)
        interval = np.diff(np.concatenate([[0.0], steps]))
        fruit = np.array([r["fruit_eaten"] for r in mine], np.float64)
        deaths = np.array([r["mine_deaths"] for r in mine], np.float64)
        window = max(1, len(mine) // MAX_POINTS)
        out["fruit_rate"][w] = _rate(steps, fruit, interval, robots, window)
        out["mine_death_rate"][w] = _rate(steps, deaths, interval, robots, window)
        for key in ("mean_speed_gene", "mean_generation"):
            out[key][w] = (steps, np.array([r[key] for r in mine], np.float64))
    return out


def _rate(steps: np.ndarray, events: np.ndarray, interval: np.ndarray, robots: int,
          window: int) -> tuple[np.ndarray, np.ndarray]:
    """Events per robot per 1000 steps over consecutive windows of ``window`` rows."""
    n = len(steps) // window * window
    if n == 0:
        return steps, events * 1000.0 / (robots * interval)
    ev = events[:n].reshape(-1, window).sum(1)
    iv = interval[:n].reshape(-1, window).sum(1)
    return steps[:n].reshape(-1, window)[:, -1], ev * 1000.0 / (robots * iv)


def plot_run(run_dir: Path, out_dir: Path | None = None) -> list[Path]:
    """Write one PNG per panel and an ``overview.png`` of all four; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan = RunPlan.load(run_dir)
    scenario = plan.build_scenario()
    rows = metrics.read_rows(run_dir / METRICS_FILE)
    if not rows:
        raise RunDirError(f"{run_dir / METRICS_FILE}: no rows yet; nothing to plot")
    metrics.check_rows(run_dir / METRICS_FILE, rows, plan.worlds)
    with np.errstate(all="ignore"):
        data = series(rows, scenario.robots.count)
    phases = [(p.step, p.name or f"phase at {p.step}") for p in scenario.phases
              if 0 < p.step <= max(int(r["step"]) for r in rows)]
    out_dir = out_dir if out_dir is not None else run_dir / "plots"
    if out_dir.exists() and not out_dir.is_dir():
        raise RunDirError(f"{out_dir}: exists and is not a folder")
    told = story_of(rows, scenario)
    stages = {name: [w["stages"][name] for w in told["worlds"] if w["stages"][name] is not None]
              for name in STAGES}
    if plan.worlds > 1:  # the across-world mean's stage starts, drawn as lines
        stages[MEAN_KEY] = [told["mean"]["stages"][name] for name in STAGES]
    title = f"{scenario.name}: {plan.worlds} world(s), seed {plan.seed}"
    written = []
    overview, axes = plt.subplots(2, 2, figsize=(13.5, 7.5), sharex=True)
    for ax, (key, name, unit) in zip(axes.flat, PANELS, strict=True):
        _draw(ax, data[key], name, unit, phases, stages, legend=False)
    for ax in axes[1]:
        ax.set_xlabel("step")
    overview.suptitle(title)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    overview.legend(handles, labels, fontsize=8, loc="center right")
    overview.tight_layout(rect=(0, 0, 0.86, 1))
    written.append(_save(overview, out_dir / "overview.png"))
    for key, name, unit in PANELS:
        fig, ax = plt.subplots(figsize=(9.5, 4.5))
        _draw(ax, data[key], name, unit, phases, stages)
        ax.set_xlabel("step")
        fig.suptitle(title)
        fig.tight_layout()
        written.append(_save(fig, out_dir / f"{key}.png"))
    if scenario.brain.connections == "evolved":
        written.append(_sparse_figure(plt, rows, data, phases, stages, title, out_dir))
    written.extend(_pictures(plt, run_dir, plan, scenario, data, phases, stages, title,
                             out_dir))
    plt.close("all")
    return written


def _sparse_figure(plt: Any, rows: list[dict], data: dict, phases: list, stages: dict,
                   title: str, out_dir: Path) -> Path:
    """Sparse brains: the active-connection curve beside fruit eaten and mine deaths,
    so thinning can be read against what the brains still do."""
    per_world = {}
    for w in sorted({int(r["world"]) for r in rows}):
        mine = [r for r in rows if r["world"] == w]
        per_world[w] = (np.array([r["step"] for r in mine], np.float64),
                        np.array([r["active_connections"] for r in mine], np.float64))
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.5), sharex=True)
    _draw(axes[0], per_world, "Active connections", "mean fraction of the brain's", phases,
          stages, legend=False)
    axes[0].set_ylim(0.0, 1.05)
    for ax, (key, name, unit) in zip(axes[1:], PANELS[:2], strict=True):
        _draw(ax, data[key], name, unit, phases, stages, legend=ax is axes[-1])
    for ax in axes:
        ax.set_xlabel("step")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, out_dir / "active_connections.png")


def diversity_series(run_dir: Path, plan: RunPlan) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per world: (steps, genome diversity) at each checkpoint and the final state."""
    from evosim.world.checkpoint import read_checkpoint

    out = {}
    for w in range(plan.worlds):
        paths = [p for _, p in list_checkpoints(run_dir, w)]
        final = world_dir(run_dir, w) / FINAL_FILE
        if final.exists():
            paths.append(final)
        points = []
        for path in paths:
            meta, arrays = read_checkpoint(path)
            points.append((int(meta["step"]), lineages.genome_diversity(arrays.genome)))
        if points:
            xs, ys = zip(*sorted(points), strict=True)
            out[w] = (np.array(xs, np.float64), np.array(ys))
    return out


def _pictures(plt, run_dir: Path, plan: RunPlan, scenario, data, phases, stages, title: str,
              out_dir: Path) -> list[Path]:
    """The figures beyond the metrics panels: diversity, Muller, phylogeny, deaths,
    summary."""
    written = []
    diversity = diversity_series(run_dir, plan)
    if diversity:
        fig, ax = plt.subplots(figsize=(9.5, 4.5))
        _draw(ax, diversity, "Genome diversity", "RMS distance between two genomes",
              phases, stages)
        ax.set_xlabel("step")
        fig.suptitle(title)
        fig.tight_layout()
        written.append(_save(fig, out_dir / "diversity.png"))
    logs = {}
    for w in range(min(plan.worlds, MULLER_WORLDS)):
        if event_log.list_event_files(run_dir, w):
            logs[w] = event_log.read_events(run_dir, w)
    if not logs:
        return written
    N = scenario.robots.count
    end = max(int(r) for ev in logs.values() for r in ev["step"][-1:])
    fig, axes = plt.subplots(len(logs), 1, figsize=(11, 2.6 * len(logs) + 0.8), squeeze=False,
                             sharex=True)
    for ax, (w, ev) in zip(axes[:, 0], logs.items(), strict=True):
        _muller(ax, ev, N, end, f"world {w}")
    axes[-1, 0].set_xlabel("step")
    fig.suptitle(f"{title}: share of the population per founding lineage")
    fig.tight_layout(rect=(0, 0, 0.84, 1))
    written.append(_save(fig, out_dir / "muller.png"))
    w0 = min(logs)
    final_path = world_dir(run_dir, w0) / FINAL_FILE
    last = list_checkpoints(run_dir, w0)
    state_path = final_path if final_path.exists() else (last[-1][1] if last else None)
    if state_path is not None:
        from evosim.world.checkpoint import read_checkpoint

        meta, arrays = read_checkpoint(state_path)
        step = int(meta["step"])
        ev = logs[w0][logs[w0]["step"] <= step]
        fig, ax = plt.subplots(figsize=(11, max(4.0, 0.16 * N + 1.5)))
        _phylogeny(ax, lineages.family_tree(ev, arrays.robot_id), step)
        ax.set_title(f"{title}: world {w0}, ancestry of the {N} robots alive at step "
                     f"{step:,}")
        fig.tight_layout(rect=(0, 0, 0.84, 1))
        written.append(_save(fig, out_dir / "phylogeny.png"))
        mines = np.asarray(arrays.mine_xy[:int(arrays.clock[1])])
        fig, axes = plt.subplots(1, 2, figsize=(13, 5))
        _deaths(fig, axes, ev, mines, scenario)
        fig.suptitle(f"{title}: world {w0}, where robots died (steps 0-{step:,})")
        fig.tight_layout()
        written.append(_save(fig, out_dir / "deaths.png"))
        written.append(_summary(plt, data, diversity, logs[w0], N, end, ev, mines, scenario,
                                phases, stages, f"{title}, world {w0}", out_dir))
    return written


def _muller(ax, ev: np.ndarray, robots: int, end: int, name: str) -> None:
    steps, labels, shares = lineages.muller_shares(ev, robots, end, top=MULLER_TOP)
    cmap = __import__("matplotlib").colormaps["tab20"]
    colours = [cmap(i % 20) for i in range(len(labels) - 1)] + ["lightgrey"]
    ax.stackplot(steps, shares, labels=labels, colors=colours, linewidth=0)
    ax.set_xlim(steps[0], steps[-1])
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"{name}\nshare")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              ncol=1 if len(labels) <= 7 else 2)


def _phylogeny(ax, tree: lineages.Tree, end: int) -> None:
    """A rectangular tree: x is the step a robot was born, leaves (robots alive now) are
    rows; a branch point is the common ancestor of the robots below it."""
    import matplotlib

    n = len(tree.ids)
    y = np.zeros(n)
    row = 0
    for k in range(n):  # nodes are stored depth first: leaves come out in tree order
        if tree.leaf[k]:
            y[k] = row
            row += 1
    for k in range(n - 1, -1, -1):  # an inner node sits in the middle of its children
        kids = np.flatnonzero(tree.parent == k)
        if len(kids) and not tree.leaf[k]:
            y[k] = (y[kids].min() + y[kids].max()) / 2
    lins = sorted(set(tree.lineage.tolist()))
    cmap = matplotlib.colormaps["tab20"]
    colour = {li: cmap(i % 20) for i, li in enumerate(lins)}
    for k in range(n):
        c = colour[int(tree.lineage[k])]
        p = tree.parent[k]
        if p >= 0:
            ax.plot([tree.step[p], tree.step[p]], [y[p], y[k]], color="dimgrey", lw=0.8)
            ax.plot([tree.step[p], tree.step[k]], [y[k], y[k]], color=c, lw=1.4)
        if tree.leaf[k]:
            ax.plot([tree.step[k], end], [y[k], y[k]], color=c, lw=1.4, ls=":")
            ax.plot([end], [y[k]], marker="o", ms=4, color=c)
    roots = np.flatnonzero(tree.parent < 0)
    inner = tree.parent >= 0
    first = int(tree.step[inner].min()) if inner.any() else 0
    root_min = int(tree.step[roots].min()) if len(roots) else 0
    left: float = min(0, root_min)
    if end - first < 0.3 * (end - root_min):  # founders long before any branching: zoom
        left = first - 0.08 * (end - first)
        for root in roots:
            if tree.step[root] < left:
                ax.annotate(f"founder, step {int(tree.step[root]):,}", (left, y[root]),
                            xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.scatter(np.maximum(tree.step[roots], left), y[roots], marker="s", s=18,
               color="black", zorder=3, clip_on=False)
    handles = [matplotlib.lines.Line2D([], [], color=colour[li], lw=2,
                                       label=f"lineage {li}") for li in lins[:20]]
    handles.append(matplotlib.lines.Line2D([], [], color="black", marker="s", lw=0,
                                           label="founder (random robot)"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)
    ax.set_xlabel("step of birth (chains of single descendants collapsed)")
    ax.set_yticks([])
    ax.set_ylim(-1, max(row, 1))
    ax.set_xlim(left, end + 0.02 * (end - left) + 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _deaths(fig, axes, ev: np.ndarray, mines: np.ndarray, scenario,
            which: tuple[str, ...] = ("mines", "age")) -> None:
    """Heatmaps over the arena of deaths by mines and by age (log colour scale), with
    every mine drawn as a black circle of its radius."""
    import matplotlib

    w, h = scenario.world.width, scenario.world.height
    mine_grid, age_grid, (xe, ye) = lineages.death_grid(ev, w, h)
    maps = {"mines": (mine_grid, "Reds"), "age": (age_grid, "Blues")}
    for ax, name in zip(axes, which, strict=True):
        grid, cmap = maps[name]
        norm = matplotlib.colors.LogNorm(vmin=1, vmax=max(grid.max(), 2))
        im = ax.pcolormesh(xe, ye, np.ma.masked_equal(grid, 0), cmap=cmap, norm=norm,
                           shading="flat")
        for x, y in mines:
            ax.add_patch(matplotlib.patches.Circle((x, y), scenario.mines.radius, fill=False,
                                                   edgecolor="black", lw=0.6))
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)  # y down, as in the viewer
        ax.set_aspect("equal")
        ax.set_title(f"{int(grid.sum()):,} deaths by {name} (mines circled)")
        ax.set_facecolor("#f4f4f4")
        bar = fig.colorbar(im, ax=ax, fraction=0.035, pad=0.02, label="deaths per 10x10 cell")
        plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
        bar.ax.yaxis.set_major_formatter(plain)
        bar.ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _summary(plt, data, diversity, ev_all: np.ndarray, robots: int, end: int, ev,
             mines: np.ndarray, scenario, phases, stages, title: str, out_dir: Path) -> Path:
    """The README figure: fruit rate, mine deaths, speed gene, diversity (all worlds'
    spread), a Muller plot and the mine-death map of one world."""
    fig = plt.figure(figsize=(15, 8.2))
    grid = fig.add_gridspec(2, 3)
    panels = [(data["fruit_rate"], "Fruit eaten", "per robot per 1k steps"),
              (data["mine_death_rate"], "Mine deaths", "per robot per 1k steps"),
              (data["mean_speed_gene"], "Mean max-speed gene", "units per step")]
    for k, (series_, name, unit) in enumerate(panels):
        ax = fig.add_subplot(grid[0, k])
        _draw(ax, series_, name, unit, phases, stages, legend=False)
    if diversity:
        ax = fig.add_subplot(grid[1, 0])
        _draw(ax, diversity, "Genome diversity", "RMS genome distance", phases, stages,
              legend=False)
        ax.set_xlabel("step")
    handles, labels = fig.axes[0].get_legend_handles_labels()
    ax = fig.add_subplot(grid[1, 1])
    steps, labels_m, shares = lineages.muller_shares(ev_all, robots, end, top=MULLER_TOP)
    cmap = __import__("matplotlib").colormaps["tab20"]
    ax.stackplot(steps, shares, colors=[cmap(i % 20) for i in range(len(labels_m) - 1)]
                 + ["lightgrey"], linewidth=0)
    ax.set_xlim(steps[0], steps[-1])
    ax.set_ylim(0, 1)
    ax.set_title("Lineage shares (one colour per founder)")
    ax.set_xlabel("step")
    ax = fig.add_subplot(grid[1, 2])
    _deaths(fig, [ax], ev, mines, scenario, which=("mines",))
    fig.legend(handles, labels, fontsize=8, loc="center left", bbox_to_anchor=(0.88, 0.5))
    fig.suptitle(title)
    with warnings.catch_warnings():  # the colour bar's axes: laid out by hand, as wanted
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout(rect=(0, 0, 0.87, 1))
    return _save(fig, out_dir / "summary.png")


def _draw(ax, per_world: dict[int, tuple[np.ndarray, np.ndarray]], name: str, unit: str,
          phases: list[tuple[int, str]], stages: dict[str, list[int]],
          legend: bool = True) -> None:
    """One panel: a line per world, their mean, phase starts (dashed) and the detected
    stage starts of every world (triangles along the bottom, one colour per stage) and,
    under ``stages[MEAN_KEY]`` (a step or None per stage, in story order), those of the
    across-world mean (solid lines in the stage's colour)."""
    lengths = {len(x) for x, _ in per_world.values()}
    banded = len(per_world) > 1 and len(lengths) == 1
    for w, (x, y) in per_world.items():
        if len(per_world) == 1:  # one world: a line that can be seen
            ax.plot(x, y, lw=2.0, color="tab:blue", label=f"world {w}")
        else:
            ax.plot(x, y, lw=0.7, alpha=0.35,
                    label=f"world {w}" if len(per_world) <= 8 and not banded else None)
    if banded:
        x = next(iter(per_world.values()))[0]
        ys = np.array([y for _, y in per_world.values()])
        ax.fill_between(x, ys.min(axis=0), ys.max(axis=0), color="tab:blue", alpha=0.15,
                        lw=0, label=f"{len(per_world)} worlds: min-max")
        ax.fill_between(x, *np.percentile(ys, [25, 75], axis=0), color="tab:blue", alpha=0.3,
                        lw=0, label="middle half")
        ax.plot(x, ys.mean(axis=0), color="black", lw=2.0, label="mean")
    for step, label in phases:
        ax.axvline(step, color="grey", ls="--", lw=1)
        ax.text(step, 0.98, f"{label} ", transform=ax.get_xaxis_transform(), va="top",
                ha="right", rotation=90, fontsize=7, color="dimgrey")
    for stage, step in zip(STAGES, stages.get(MEAN_KEY, ()), strict=False):
        if step is not None:
            ax.axvline(step, color=STAGE_COLOURS[stage], lw=1.8, alpha=0.9,
                       label=f"mean: {stage} begins")
    for stage, steps in stages.items():
        if stage != MEAN_KEY and steps:
            ax.scatter(steps, [0.02] * len(steps), transform=ax.get_xaxis_transform(),
                       marker="^", s=40, color=STAGE_COLOURS[stage], edgecolor="black",
                       linewidth=0.5, zorder=5, clip_on=False,
                       label=f"{stage} begins ({len(steps)})")
    ax.set_title(name)
    ax.set_ylabel(unit)
    ax.grid(alpha=0.3)
    if legend:  # outside the data, on the right
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def _save(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    atomic_write_with(path, lambda handle: handle.write(buffer.getvalue()))
    return path
