"""The story detector: where each stage of the evolution story begins in a run.

The stages (DESIGN.md): *caution* (day one, mines only: survival alone makes robots
careful), *fruit*-seeking (fruit appears, eaters reproduce), *speed* (faster robots
win, paid for in mine deaths) and *balance* (mine deaths fall while speed stays
high). The criteria are computed per world on the interval rows of ``metrics.csv``;
every threshold is a named constant below, and the README states them in words.

Rates are events per robot per 1,000 steps. A *rolling* rate at a row covers the
rows whose interval ends within the last ``ROLLING_STEPS`` steps up to that row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from evosim.errors import RunDirError

STAGES = ("caution", "fruit", "speed", "balance")
"""Stage names in story order (the keys of ``evosim story --json``)."""

ROLLING_STEPS = 5_000  # the window of a rolling rate
CAUTION_DROP = 0.6  # mine-death rate of the opening's last quarter <= this x its first quarter
FRUIT_BASELINE_STEPS = 2_000  # fruit rate baseline: the first steps with fruit
FRUIT_RISE = 3.0  # rolling fruit rate >= this x the baseline
SPEED_RISE = 1.25  # mean speed gene >= this x its value at the start of stage 2
SPEED_WINDOW = 30_000  # steps after the speed row in which mine deaths must rise
MINE_RISE = 1.3  # rolling mine-death rate >= this x its lowest since stage 2
BALANCE_DROP = 0.6  # rolling mine-death rate <= this x the peak of the rise
BALANCE_SPEED_KEEP = 0.9  # mean speed gene >= this x its highest so far
PLATEAU_SHARE = 0.2  # the run's last fifth is compared with the fifth before it
PLATEAU_TOLERANCE = 0.15  # fruit rates within +-15% of each other


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


def detect(series: WorldSeries, fruit_from: int | None) -> dict[str, int | None]:
    """The step at which each stage begins in one world, or None where it never did.

    ``fruit_from`` is the step at which fruit first exists (None: never); the
    fruitless opening is the steps before it.
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
    found["balance"] = _balance(series, peak_row, mine_roll)
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


def _balance(s: WorldSeries, peak_row: int, mine_roll: np.ndarray) -> int | None:
    if not _plateau(s):
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


def in_order(stages: dict[str, int | None]) -> bool:
    """All four stages were found, each beginning after the one before."""
    steps = [stages[name] for name in STAGES]
    if any(step is None for step in steps):
        return False
    return all(a < b for a, b in pairwise(steps))


def story(rows: Sequence[dict], robots: int, fruit_from: int | None) -> dict:
    """``{"worlds": [{"world": W, "stages": {...}, "in_order": bool}, ...]}`` for a run's
    metrics rows (every world's), robots per world and the step fruit first exists."""
    worlds = []
    for w in sorted({int(r["world"]) for r in rows}):
        series = WorldSeries.from_rows([r for r in rows if int(r["world"]) == w], robots)
        stages = detect(series, fruit_from)
        worlds.append({"world": w, "stages": stages, "in_order": in_order(stages)})
    return {"worlds": worlds}


def fruit_start(schedule: Sequence[dict]) -> int | None:
    """The step at which fruit first exists, from a scenario's phase schedule."""
    for row in schedule:
        if int(row["fruit_count"]) > 0:
            return int(row["step"])
    return None


def run_story(run_dir: Path) -> dict:
    """:func:`story` of a run folder (its ``run.json`` scenario and ``metrics.csv``)."""
    from evosim.evolve import metrics
    from evosim.evolve.batch import RunPlan
    from evosim.evolve.checkpoints import METRICS_FILE

    plan = RunPlan.load(run_dir)
    scenario = plan.build_scenario()
    rows = metrics.read_rows(run_dir / METRICS_FILE)
    if not rows:
        raise RunDirError(f"{run_dir / METRICS_FILE}: no rows yet; no story to tell")
    metrics.check_rows(run_dir / METRICS_FILE, rows, plan.worlds)
    return story(rows, scenario.robots.count, fruit_start(scenario.phase_schedule()))
