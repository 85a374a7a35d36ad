"""The run plan: everything that decides a run's results, saved as ``run.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evosim._atomic import atomic_write_text
from evosim.errors import RunDirError
from evosim.evolve.checkpoints import RUN_FILE
from evosim.evolve.runfile import check_run_data
from evosim.limits import MAX_JSON_BYTES
from evosim.scenario import Scenario, saved_scenario

RUN_FORMAT = "evosim-run"
RUN_SCHEMA = 1


def world_seeds(seed: int, worlds: int) -> list[int]:
    """Per-world seeds: the first 64-bit word of each ``SeedSequence(seed).spawn(worlds)``."""
    children = np.random.SeedSequence(seed).spawn(worlds)
    return [int(child.generate_state(1, np.uint64)[0]) for child in children]


@dataclass(frozen=True)
class RunPlan:
    """Everything that decides a run's results; saved as ``run.json``."""

    scenario: dict[str, Any]
    seed: int
    seeds: list[int]
    steps: int
    checkpoint_every: int
    metrics_every: int
    evosim_version: str = ""
    command: list[str] = field(default_factory=list)
    format: str = RUN_FORMAT
    schema: int = RUN_SCHEMA
    start: int = 0  # the step the worlds start from (a run continuing a checkpoint)
    record_every: int = 0  # a clip of each world every this many ticks (0: none)
    record_steps: int = 0  # ticks per clip

    @property
    def worlds(self) -> int:
        return len(self.seeds)

    @property
    def scenario_name(self) -> str:
        return str(self.scenario.get("name", "scenario"))

    def build_scenario(self) -> Scenario:
        return saved_scenario(self.scenario, source=f"{RUN_FILE} (scenario)")

    def metrics_steps(self) -> list[int]:
        """Steps that end a metrics interval: multiples of metrics_every after ``start``,
        and the last step."""
        first = multiple_after(self.start, self.metrics_every)
        out = list(range(first, self.steps + 1, self.metrics_every))
        if not out or out[-1] != self.steps:
            out.append(self.steps)
        return out

    def migration(self) -> tuple[int, int]:
        """(every, count) of the scenario's ``[migration]``: ticks between migrations and
        migrants per world; (0, 0) when the worlds never migrate (one world alone, too)."""
        table = self.build_scenario().migration
        if self.worlds < 2 or table.every == 0 or table.count == 0:
            return 0, 0
        return table.every, table.count

    def epoch_ends(self) -> list[int]:
        """Steps at which every world stops and waits for the others (migration
        boundaries after ``start``, and the last step); just the last without migration."""
        every, _ = self.migration()
        if every == 0:
            return [self.steps]
        return [*range(multiple_after(self.start, every), self.steps, every), self.steps]

    def save(self, run_dir: Path) -> None:
        data = asdict(self)
        data["worlds"] = self.worlds
        atomic_write_text(run_dir / RUN_FILE, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, run_dir: Path) -> RunPlan:
        path = run_dir / RUN_FILE
        if not run_dir.is_dir():
            raise RunDirError(f"{run_dir}: no such run folder")
        try:
            if path.stat().st_size > MAX_JSON_BYTES:
                raise RunDirError(f"{path}: larger than {MAX_JSON_BYTES:,} bytes; not a run file")
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise RunDirError(f"{run_dir}: not an evosim run folder (no {RUN_FILE})") from None
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{path}: unreadable ({exc})") from None
        except RecursionError:
            raise RunDirError(f"{path}: unreadable (JSON nested too deeply)") from None
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            raise RunDirError(f"{path}: not an evosim run file (format is not {RUN_FORMAT!r})")
        if data.get("schema") != RUN_SCHEMA:
            raise RunDirError(f"{path}: schema: expected {RUN_SCHEMA}, got {data.get('schema')!r}")
        data.pop("worlds", None)
        check_run_data(path, data)
        try:
            plan = cls(**data)
            ok = (0 <= plan.start < plan.steps and plan.checkpoint_every >= 1
                  and plan.metrics_every >= 1 and len(plan.seeds) >= 1)
        except TypeError as exc:
            raise RunDirError(f"{path}: unexpected contents ({exc})") from None
        if not ok:
            raise RunDirError(f"{path}: steps, intervals and seeds must be positive")
        plan.build_scenario()  # a bad scenario fails here, as a one-line error
        return plan


def multiple_after(step: int, every: int) -> int:
    """The first multiple of ``every`` after ``step``."""
    return (step // every + 1) * every
