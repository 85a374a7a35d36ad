"""The story detector: where each stage of the evolution story begins in a run.

The stages (DESIGN.md): *caution* (day one, mines only: survival alone makes robots
careful), *fruit*-seeking (fruit appears, eaters reproduce), *speed* (faster robots
win, paid for in mine deaths) and *balance* (mine deaths fall while speed stays
high). The criteria are computed per world on the interval rows of ``metrics.csv``;
every threshold is a named constant below, and docs/tutorials/story.md states them in
words (reading them from here).

Rates are events per robot per 1,000 steps. A *rolling* rate at a row covers the
rows whose interval ends within the last ``ROLLING_STEPS`` steps up to that row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evosim.errors import RunDirError

if TYPE_CHECKING:
    from evosim.scenario.model import Scenario

STAGES = ("caution", "fruit", "speed", "balance")
"""Stage names in story order (the keys of ``evosim story --json``)."""
STAGE_TITLES = {"caution": "caution (mines only)", "fruit": "fruit-seeking",
                "speed": "speed pays, in mine deaths", "balance": "balance"}
"""What each stage is called on screen (``evosim record --story``)."""

ROLLING_STEPS = 5_000  # the window of a rolling rate
CAUTION_DROP = 0.6  # mine-death rate of the opening's last quarter <= this x its first quarter
FRUIT_BASELINE_STEPS = 2_000  # fruit rate baseline: the first steps with fruit
FRUIT_RISE = 3.0  # rolling fruit rate >= this x the baseline
SPEED_RISE = 1.25  # mean speed gene >= this x its value at the start of stage 2
SPEED_GAP = 10_000  # stage 3 starts at least this many steps after stage 2
SPEED_WINDOW = 30_000  # steps after the speed row in which mine deaths must rise
MINE_RISE = 1.3  # rolling mine-death rate >= this x its lowest since stage 2
BALANCE_DROP = 0.6  # rolling mine-death rate <= this x the peak of the rise
BALANCE_SPEED_KEEP = 0.9  # mean speed gene >= this x its highest so far
PLATEAU_SHARE = 0.2  # the run's last fifth is compared with the fifth before it
PLATEAU_TOLERANCE = 0.15  # fruit rates within +-15% of each other
SETTLED_SHARE = 0.9  # over the last fifth, mean speed gene <= this x the speed limit
SETTLED_TOLERANCE = 0.05  # and its mean over the last tenth within +-5% of the tenth before
MEAN = "mean"
"""The ``world`` of the row that :func:`story` adds for the across-world mean."""


@dataclass(frozen=True)
class WorldSeries:
    """One world's interval rows as arrays (row r covers steps (start[r], step[r]])."""

    step: np.ndarray  # int64 [R] step at the end of each interval
    start: np.ndarray  # int64 [R] step at its start
    fruit: np.ndarray  # float64 [R] fruit eaten in the interval
    mine: np.ndarray  # float64 [R] mine deaths in the interval
    speed: np.ndarray  # float64 [R] mean max-speed gene at the end of the interval
    robots: int

    @classmethod
    def from_rows(cls, rows: Sequence[dict], robots: int) -> WorldSeries:
        rows = sorted(rows, key=lambda r: int(r["step"]))
        step = np.array([int(r["step"]) for r in rows], np.int64)
        return cls(
            step=step,
            start=np.concatenate([[0], step[:-1]]).astype(np.int64),
            fruit=np.array([float(r["fruit_eaten"]) for r in rows]),
            mine=np.array([float(r["mine_deaths"]) for r in rows]),
            speed=np.array([float(r["mean_speed_gene"]) for r in rows]),
            robots=robots,
        )

    def rate(self, events: np.ndarray, mask: np.ndarray) -> float | None:
        """Events per robot per 1,000 steps over the rows in ``mask`` (None if none)."""
        span = float((self.step - self.start)[mask].sum())
        if span <= 0:
            return None
        return float(events[mask].sum()) * 1000.0 / (self.robots * span)

    def rolling(self, events: np.ndarray) -> np.ndarray:
        """float64 [R]: the rate over the rows ending within ROLLING_STEPS of each row."""
        out = np.empty(len(self.step))
        for r, end in enumerate(self.step):
            mask = (self.step > end - ROLLING_STEPS) & (self.step <= end)
            out[r] = self.rate(events, mask) or 0.0
        return out


def detect(series: WorldSeries, fruit_from: int | None, speed_limit: float = math.inf,
           steady: bool = False) -> dict[str, int | None]:
    """The step at which each stage begins in one world, or None where it never did.

    ``fruit_from`` is the step at which fruit first exists (None: never); the
    fruitless opening is the steps before it. ``speed_limit`` is the cap of the speed
    gene at the end of the run: balance needs the speed gene below it (an interior
    optimum), and with ``steady`` (the across-world mean) also settled there.
    """
    found: dict[str, int | None] = dict.fromkeys(STAGES)
    if len(series.step) == 0 or fruit_from is None:
        return found
    mine_roll = series.rolling(series.mine)
    fruit_roll = series.rolling(series.fruit)
    found["caution"] = _caution(series, fruit_from, mine_roll)
    stage2 = _fruit(series, fruit_from, fruit_roll)
    found["fruit"] = stage2
    if stage2 is None:
        return found
    speed_row, peak_row = _speed(series, stage2, mine_roll)
    if speed_row is None:
        return found
    found["speed"] = int(series.step[speed_row])
    found["balance"] = _balance(series, peak_row, mine_roll, speed_limit, steady)
    return found


def _caution(s: WorldSeries, fruit_from: int, mine_roll: np.ndarray) -> int | None:
    opening = s.step <= fruit_from
    if fruit_from <= 0 or not opening.any():
        return None
    first = s.rate(s.mine, opening & (s.step <= fruit_from / 4))
    last = s.rate(s.mine, opening & (s.start >= fruit_from * 3 / 4))
    if first is None or last is None or first <= 0 or last > CAUTION_DROP * first:
        return None
    hits = np.flatnonzero(opening & (mine_roll <= CAUTION_DROP * first))
    return int(s.step[hits[0]]) if len(hits) else None


def _fruit(s: WorldSeries, fruit_from: int, fruit_roll: np.ndarray) -> int | None:
    after = s.start >= fruit_from
    base = s.rate(s.fruit, after & (s.step <= fruit_from + FRUIT_BASELINE_STEPS))
    if base is None:
        return None
    hits = np.flatnonzero(after & (fruit_roll >= FRUIT_RISE * base) & (fruit_roll > 0))
    return int(s.step[hits[0]]) if len(hits) else None


def _speed(s: WorldSeries, stage2: int, mine_roll: np.ndarray) -> tuple[int | None, int]:
    """(row where stage 3 starts, row of the peak of its mine-death rise)."""
    at2 = int(np.flatnonzero(s.step == stage2)[0])
    for r in range(at2, len(s.step)):
        if s.speed[r] < SPEED_RISE * s.speed[at2]:
            continue
        lowest = float(mine_roll[at2 : r + 1].min())
        window = np.flatnonzero((s.step >= s.step[r]) & (s.step <= s.step[r] + SPEED_WINDOW))
        peak = int(window[np.argmax(mine_roll[window])])
        if mine_roll[peak] > 0 and mine_roll[peak] >= MINE_RISE * lowest:
            return r, peak
    return None, -1


def _balance(s: WorldSeries, peak_row: int, mine_roll: np.ndarray,
             speed_limit: float, steady: bool) -> int | None:
    if not (_plateau(s) and _settled(s, speed_limit, steady)):
        return None
    peak = float(mine_roll[peak_row])
    best_speed = np.maximum.accumulate(s.speed)
    for r in range(peak_row + 1, len(s.step)):
        if mine_roll[r] <= BALANCE_DROP * peak and s.speed[r] >= BALANCE_SPEED_KEEP * best_speed[r]:
            return int(s.step[r])
    return None


def _plateau(s: WorldSeries) -> bool:
    """The fruit rate over the run's last fifth is within PLATEAU_TOLERANCE of the fifth
    before it."""
    end = float(s.step[-1])
    last = s.rate(s.fruit, s.start >= end * (1 - PLATEAU_SHARE))
    before = s.rate(s.fruit, (s.start >= end * (1 - 2 * PLATEAU_SHARE))
                    & (s.step <= end * (1 - PLATEAU_SHARE)))
    if last is None or before is None or before <= 0:
        return False
    return abs(last / before - 1.0) <= PLATEAU_TOLERANCE


def _settled(s: WorldSeries, speed_limit: float, steady: bool) -> bool:
    """The speed gene at an interior optimum: over the run's last fifth its mean is
    <= SETTLED_SHARE x the speed limit; with ``steady``, also its mean over the last
    tenth is within SETTLED_TOLERANCE of its mean over the tenth before."""
    end = float(s.step[-1])
    tail = s.step > end * (1 - PLATEAU_SHARE)
    last = s.step > end * (1 - PLATEAU_SHARE / 2)
    before = tail & ~last
    if not last.any() or not before.any():
        return False
    if float(s.speed[tail].mean()) > SETTLED_SHARE * speed_limit:
        return False
    return not steady or abs(float(s.speed[last].mean()) / float(s.speed[before].mean()) - 1.0) \
        <= SETTLED_TOLERANCE


def in_order(stages: dict[str, int | None]) -> bool:
    """All four stages were found, each beginning after the one before, and speed at
    least SPEED_GAP steps after fruit-seeking."""
    steps = [stages[name] for name in STAGES]
    if any(step is None for step in steps):
        return False
    gap = stages["speed"] - stages["fruit"]  # type: ignore[operator]
    return all(a < b for a, b in pairwise(steps)) and gap >= SPEED_GAP


def mean_rows(rows: Sequence[dict]) -> list[dict]:
    """The across-world mean of a run's metrics rows: one row per step that every world
    has, each column the mean over the worlds."""
    by_step: dict[int, list[dict]] = {}
    for r in rows:
        by_step.setdefault(int(r["step"]), []).append(r)
    worlds = len({int(r["world"]) for r in rows})
    return [{"step": step, **{key: float(np.mean([float(r[key]) for r in group]))
                              for key in ("fruit_eaten", "mine_deaths", "mean_speed_gene")}}
            for step, group in sorted(by_step.items()) if len(group) == worlds]


def story(rows: Sequence[dict], robots: int, fruit_from: int | None,
          speed_limit: float = math.inf) -> dict:
    """``{"worlds": [{"world": W, "stages": {...}, "in_order": bool}, ...],
    "mean": {"world": "mean", "stages": {...}, "in_order": bool}}`` for a run's metrics
    rows (every world's), robots per world, the step fruit first exists and the speed
    limit at the end; ``mean`` is the story of the across-world mean of the rows."""
    worlds = []
    for w in sorted({int(r["world"]) for r in rows}):
        series = WorldSeries.from_rows([r for r in rows if int(r["world"]) == w], robots)
        stages = detect(series, fruit_from, speed_limit)
        worlds.append({"world": w, "stages": stages, "in_order": in_order(stages)})
    mean = detect(WorldSeries.from_rows(mean_rows(rows), robots), fruit_from, speed_limit,
                  steady=True)
    return {"worlds": worlds,
            "mean": {"world": MEAN, "stages": mean, "in_order": in_order(mean)}}


def fruit_start(schedule: Sequence[dict]) -> int | None:
    """The step at which fruit first exists, from a scenario's phase schedule."""
    for row in schedule:
        if int(row["fruit_count"]) > 0:
            return int(row["step"])
    return None


def story_of(rows: Sequence[dict], scenario: Scenario, until: int | None = None) -> dict:
    """:func:`story` of a run's metrics rows under its scenario: fruit from the phase that
    brings it, and the speed limit in force over the last step the rows cover (a run
    stopped before a phase never had that phase's limit; where the worlds' rows end at
    different steps, as in a run still going, the earliest end counts). With ``until``,
    only the rows up to that step, as if the run had stopped there: every world must
    have a row at exactly that step (``ValueError`` otherwise).
    """
    ends: dict[int, int] = {}
    for r in rows:
        ends[int(r["world"])] = max(ends.get(int(r["world"]), 0), int(r["step"]))
    end = min(ends.values())
    if until is not None:
        if end < until:
            raise ValueError(f"the metrics end at step {end:,}, before --at {until:,}")
        at = {int(r["world"]) for r in rows if int(r["step"]) == until}
        if len(at) < len(ends):
            grid = sorted({int(r["step"]) for r in rows})[:3]
            raise ValueError(f"--at {until:,}: expected a step with a metrics row in every "
                             f"world (here rows at steps {', '.join(f'{g:,}' for g in grid)}, "
                             f"...)")
        rows, end = [r for r in rows if int(r["step"]) <= until], until
    schedule = scenario.phase_schedule()
    ran = [row for row in schedule if int(row["step"]) < end]  # ticks 0 .. end - 1
    return story(rows, scenario.robots.count, fruit_start(schedule),
                 float(ran[-1]["speed_limit"]))


def run_story(run_dir: Path, until: int | None = None) -> dict:
    """:func:`story_of` a run folder (its ``run.json`` scenario and ``metrics.csv``),
    with ``until`` its first ``until`` steps only
    (:class:`~evosim.errors.RunDirError` if the metrics do not reach it)."""
    from evosim.evolve import metrics
    from evosim.evolve.checkpoints import METRICS_FILE
    from evosim.evolve.plan import RunPlan

    plan = RunPlan.load(run_dir)
    rows = metrics.read_rows(run_dir / METRICS_FILE)
    if not rows:
        raise RunDirError(f"{run_dir / METRICS_FILE}: no rows yet; no story to tell")
    metrics.check_rows(run_dir / METRICS_FILE, rows, plan.worlds)
    try:
        return story_of(rows, plan.build_scenario(), until)
    except ValueError as e:
        raise RunDirError(f"{run_dir / METRICS_FILE}: {e}") from None


def tally(results: Sequence[dict]) -> dict:
    """Totals over several runs' :func:`story` results: ``{"runs", "worlds",
    "worlds_in_order", "means_in_order"}``."""
    return {"runs": len(results),
            "worlds": sum(len(r["worlds"]) for r in results),
            "worlds_in_order": sum(w["in_order"] for r in results for w in r["worlds"]),
            "means_in_order": sum(bool(r["mean"]["in_order"]) for r in results)}
