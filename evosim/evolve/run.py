"""Running one world headless with a progress bar (``evosim evolve``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from evosim.errors import RunDirError
from evosim.scenario import load_scenario
from evosim.world import World

CHUNK = 1000  # ticks per kernel call between progress updates


def prepare_out_dir(out: Path) -> Path:
    """Create ``out``, refusing one that already holds files (never overwrite a run)."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out}: --out exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise RunDirError(f"{out}: --out folder is not empty; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def summary(world: World) -> str:
    """One line on what happened in a world so far."""
    c = world.counters
    s = world.state
    robot_steps = max(world.step_count * s.robot_xy.shape[0], 1)
    per_k = 1000.0 / robot_steps
    return (
        f"step {world.step_count}: fruit {c['fruit_eaten']} "
        f"({c['fruit_eaten'] * per_k:.2f}/robot/1k steps), "
        f"mine deaths {c['mine_deaths']} ({c['mine_deaths'] * per_k:.2f}/robot/1k), "
        f"age deaths {c['age_deaths']}, births {c['births']}, "
        f"random spawns {c['random_spawns']}, "
        f"mean speed gene {float(np.mean(s.speed_gene)):.2f}, "
        f"max generation {int(s.robot_generation.max())}"
    )


def run_with_progress(world: World, steps: int, quiet: bool, label: str) -> None:
    """Step ``world`` by ``steps`` ticks, in chunks, showing a progress bar."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=steps, rate="")
        done = 0
        while done < steps:
            n = min(CHUNK, steps - done)
            world.step(n)
            done += n
            speed = progress.tasks[0].speed or 0.0
            progress.update(task, advance=n, rate=f"{speed:,.0f} steps/s")


def evolve_command(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    out = args.out if args.out is not None else Path("runs") / f"{scenario.name}-seed{args.seed}"
    prepare_out_dir(out)
    world = World(scenario, seed=args.seed)
    run_with_progress(world, args.steps, args.quiet, f"{scenario.name} seed {args.seed}")
    final = world.save(out / "world-000" / "final.npz")
    print(summary(world))
    print(f"final state: {final}")
    return 0
