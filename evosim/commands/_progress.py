"""What ``evosim evolve`` and ``evosim resume`` share: the progress bar over all worlds,
the interrupt hint, and the summary they print (text or ``--json``)."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evosim.evolve.plan import RunPlan
    from evosim.evolve.runs import Progress, RunResult
    from evosim.evolve.worker import Clipper

PLAIN_EVERY = 10.0  # seconds between progress lines where stderr is not a terminal
WIDE = 110  # columns from which the bar also shows recent fruit and mine-death rates


def compact(n: float) -> str:
    """12,345 -> '12.3k', 4,800,000 -> '4.80M': counts that fit an 80-column bar."""
    for limit, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            value = n / limit
            return f"{value:.3g}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return f"{n:.0f}"


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Live:
    """Progress over all worlds: steps, steps/s, time left (and, where the terminal is
    wide, recent fruit and mine-death rates). Not a terminal: a plain line every
    ``PLAIN_EVERY`` seconds."""

    def __init__(self, plan: RunPlan, robots: int, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        from evosim.evolve import metrics

        self.plan = plan
        self.robots = robots
        self.quiet = quiet
        self.total = (plan.steps - plan.start) * plan.worlds
        self.steps: dict[int, int] = {}
        self.counts: dict[int, list[int]] = {}
        self.history: deque[tuple[float, int, int, int]] = deque(maxlen=50)
        self.fruit_i = metrics.COUNT_COLUMNS.index("fruit_eaten")
        self.mine_i = metrics.COUNT_COLUMNS.index("mine_deaths")
        self.console = Console(stderr=True)
        self.terminal = self.console.is_terminal
        self.label = f"{plan.scenario_name} x{plan.worlds}"
        self.last_plain = time.monotonic()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=None if self.console.width >= WIDE else 16),
            TextColumn("{task.fields[info]}"),
            console=self.console,
            disable=quiet or not self.terminal,
            expand=False,
        )
        self.task = self.progress.add_task(self.label, total=self.total, info="")

    def __call__(self, message: tuple) -> None:
        kind, index, step, counters = message
        self.steps[index] = step - self.plan.start
        self.counts[index] = counters
        done = sum(self.steps.values())
        fruit = sum(c[self.fruit_i] for c in self.counts.values())
        mines = sum(c[self.mine_i] for c in self.counts.values())
        now = time.monotonic()
        if kind == "start":  # a resumed world: its earlier steps are not this session's
            self.history.clear()
        self.history.append((now, done, fruit, mines))
        t0, d0, f0, m0 = self.history[0]
        rate = (done - d0) / (now - t0) if now > t0 and done > d0 else 0.0
        left = (self.total - done) / rate if rate > 0 else None
        text = (f"{100 * done / max(self.total, 1):3.0f}% {compact(done)}/{compact(self.total)} "
                f"steps {compact(rate)}/s {clock(left)} left")
        if self.console.width >= WIDE and done > d0:
            per_k = 1000.0 / ((done - d0) * self.robots)
            text += (f"  fruit {(fruit - f0) * per_k:.2f} mines {(mines - m0) * per_k:.3f}"
                     f" /robot/1k")
        self.progress.update(self.task, completed=done, info=text)
        if not self.quiet and not self.terminal and now - self.last_plain >= PLAIN_EVERY:
            self.last_plain = now
            print(f"{self.label}: {text}", file=sys.stderr, flush=True)


def live_progress(quiet: bool) -> Progress:
    """The library's ``progress`` hook for the command line: the bar (none if ``quiet``),
    and on Ctrl-C or SIGTERM the command that continues the run."""

    @contextlib.contextmanager
    def hook(run_dir: Path, plan: RunPlan) -> Iterator[Live]:
        live = Live(plan, plan.build_scenario().robots.count, quiet)
        try:
            with live.progress:
                yield live
        except KeyboardInterrupt:
            print(f"stopped; continue with: evosim evolve --resume {run_dir}", file=sys.stderr)
            raise

    return hook


def resume_clipper(run_dir: Path | None) -> Clipper | None:
    """The clip recorder for a new run (``run_dir`` None) or for resuming the run in
    ``run_dir``, where that run records clips (pygame is imported only then)."""
    if run_dir is not None:
        from evosim.evolve.plan import RunPlan

        if not RunPlan.load(run_dir).record_every:
            return None
    from evosim.record.clips import record_clip

    return record_clip


def finish(result: RunResult, as_json: bool) -> int:
    """The run's figures on stdout (one line, or a JSON object); exit code 0. A resumed
    run that was finished already says so instead."""
    if not result.ran:
        print(f"{result.run_dir}: run already finished ({result.worlds} world(s) x "
              f"{result.steps} steps); nothing to do (--steps N extends it)")
        return 0
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0
    print(f"{result.worlds} world(s) x {result.steps - result.start} steps in "
          f"{result.seconds:.1f}s: fruit {result.fruit_per_robot_per_1k:.2f} and mine deaths "
          f"{result.mine_deaths_per_robot_per_1k:.3f} per robot per 1k steps, final mean "
          f"speed gene {result.final_mean_speed_gene:.2f}, max generation "
          f"{result.max_generation}; results in {result.run_dir}")
    return 0
