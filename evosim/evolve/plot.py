"""``evosim plot``: a run's metrics over steps as PNGs (matplotlib, Agg backend)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from evosim._atomic import atomic_write_with
from evosim.errors import RunDirError
from evosim.evolve import metrics
from evosim.evolve.batch import RunPlan
from evosim.evolve.checkpoints import METRICS_FILE
from evosim.evolve.story import STAGES, fruit_start, story

# (file name, title, y label, per-world series from the rows)
PANELS = (
    ("fruit_rate", "Fruit eaten", "per robot per 1k steps"),
    ("mine_death_rate", "Mine deaths", "per robot per 1k steps"),
    ("mean_speed_gene", "Mean max-speed gene", "units per step"),
    ("mean_generation", "Mean generation", "generations"),
)
STAGE_COLOURS = dict(zip(STAGES, ("tab:blue", "tab:green", "tab:orange", "tab:purple"),
                         strict=True))
MAX_POINTS = 80  # rates are averaged over windows so that about this many points remain


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
    told = story(rows, scenario.robots.count, fruit_start(scenario.phase_schedule()))
    stages = {name: [w["stages"][name] for w in told["worlds"] if w["stages"][name] is not None]
              for name in STAGES}
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
    plt.close("all")
    return written


def _draw(ax, per_world: dict[int, tuple[np.ndarray, np.ndarray]], name: str, unit: str,
          phases: list[tuple[int, str]], stages: dict[str, list[int]],
          legend: bool = True) -> None:
    """One panel: a line per world, their mean, phase starts (dashed) and the detected
    stage starts of every world (triangles along the bottom, one colour per stage)."""
    for w, (x, y) in per_world.items():
        ax.plot(x, y, lw=0.8, alpha=0.45, label=f"world {w}" if len(per_world) <= 8 else None)
    lengths = {len(x) for x, _ in per_world.values()}
    if len(per_world) > 1 and len(lengths) == 1:
        x = next(iter(per_world.values()))[0]
        mean = np.mean([y for _, y in per_world.values()], axis=0)
        ax.plot(x, mean, color="black", lw=2.0, label="mean")
    for step, label in phases:
        ax.axvline(step, color="grey", ls="--", lw=1)
        ax.text(step, 0.98, f"{label} ", transform=ax.get_xaxis_transform(), va="top",
                ha="right", rotation=90, fontsize=7, color="dimgrey")
    for stage, steps in stages.items():
        if steps:
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
