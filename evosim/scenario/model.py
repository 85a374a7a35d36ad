"""The scenario model: every number of the world, validated and immutable.

The tables mirror the TOML file: ``scenario.world.width``, ``scenario.vision.rays``...
Units: lengths in world units, angles in degrees, time in steps (ticks).
"""

from __future__ import annotations

import math
import operator
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evosim import limits
from evosim.scenario.genome import GenomeLayout
from evosim.scenario.kinds import CHANNELS

_NAME = re.compile(limits.NAME_PATTERN)

_CONFIG = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

Count = Annotated[int, Field(ge=0, le=limits.MAX_OBJECTS)]
Radius = Annotated[float, Field(ge=limits.MIN_LENGTH, le=limits.MAX_ARENA_SIDE)]
Speed = Annotated[float, Field(ge=0, le=limits.MAX_SPEED)]
SpeedLimit = Annotated[float, Field(gt=0, le=limits.MAX_SPEED)]
Life = Annotated[int, Field(ge=1, le=limits.MAX_LIFE)]
Age = Annotated[int, Field(ge=0, le=limits.MAX_LIFE)]
Bonus = Annotated[int, Field(ge=0, le=limits.MAX_LIFE)]
Text = Annotated[str, Field(max_length=limits.MAX_TEXT)]

# The price of speed, defaults: measured on genesis (docs: the story), where they give
# an interior optimum of the speed gene; classic.toml sets its own metabolic_cost.
LATERAL_ACCEL = 0.0
METABOLIC_COST = 0.17
METABOLIC_EXPONENT = 3
SPEED_SIGMA_SHARE = 0.5
"""``evolution.speed_sigma`` when unset: this share of ``mutation_sigma``."""


class _Table(BaseModel):
    model_config = _CONFIG


class WorldTable(_Table):
    """Arena size; walls are solid and robots slide along them."""

    width: Annotated[float, Field(ge=limits.MIN_LENGTH, le=limits.MAX_ARENA_SIDE)] = Field(
        800.0, description="Arena width, world units.")
    height: Annotated[float, Field(ge=limits.MIN_LENGTH, le=limits.MAX_ARENA_SIDE)] = Field(
        600.0, description="Arena height, world units.")


class RobotsTable(_Table):
    """Population slots and body; speeds are world units per step."""

    count: Annotated[int, Field(ge=1, le=limits.MAX_ROBOTS)] = Field(
        50, description="Population slots: the number of robots, constant for the whole run.")
    radius: Radius = Field(6.0, description="Body radius, world units.")
    lifespan: Life = Field(1000, description="Life of a robot at birth, in steps at rest.")
    max_life: Life = Field(3000, description="Life never grows above this by eating.")
    max_age: Age = Field(0, description="Senescence: a robot dies of age at this age "
                                        "whatever its life (0: never).")
    ageing: bool = Field(True, description="false: life does not run down and max_age does "
                                           "not apply (only mines kill).")
    max_turn_degrees: Annotated[float, Field(ge=0, le=180)] = Field(
        15.0, description="Turn per step at full turn output, degrees.")
    lateral_accel: Annotated[float, Field(ge=0, le=limits.MAX_SPEED)] = Field(
        LATERAL_ACCEL,
        description="The price of speed in turning: a robot moving v units per step turns at "
                    "most lateral_accel / v radians per step (and never more than "
                    "max_turn_degrees), so a fast robot needs room to swerve (0: no bound).")
    metabolic_cost: Annotated[float, Field(ge=0, le=limits.MAX_METABOLIC_COST)] = Field(
        METABOLIC_COST,
        description="The price of speed in life: while ageing, each step costs "
                    "1 + metabolic_cost * s^metabolic_exponent life, s the robot's top speed "
                    "(its speed gene capped at speed_limit).")
    metabolic_exponent: Annotated[int, Field(ge=1, le=limits.MAX_METABOLIC_EXPONENT)] = Field(
        METABOLIC_EXPONENT,
        description="How steeply the price of speed grows with the top speed s (the power "
                    "of s in the life a step costs; 2: as kinetic energy).")
    speed_init_min: Speed = Field(0.5, description="Lowest speed gene of a fresh random "
                                                   "robot, units per step.")
    speed_init_max: Speed = Field(3.0, description="Highest speed gene of a fresh random "
                                                   "robot, units per step.")
    speed_limit: SpeedLimit = Field(6.0, description="Cap of the speed gene: mutation clips "
                                                     "it here, units per step.")


class MinesTable(_Table):
    """Red mines: touching one kills. ``speed`` > 0 makes them drift and bounce."""

    count: Count = Field(30, description="Active mines.")
    radius: Radius = Field(8.0, description="Mine radius, world units.")
    speed: Speed = Field(0.0, description="Drift speed of the mines, units per step "
                                          "(0: static); they bounce off the walls.")


class FruitTable(_Table):
    """Green fruit: touching one adds life and yields an offspring."""

    count: Count = Field(30, description="Fruit in the arena; an eaten fruit reappears at a "
                                         "random free place, so the count stays constant.")
    radius: Radius = Field(8.0, description="Fruit radius, world units.")
    life_bonus: Bonus = Field(600, description="Life a robot gains by eating one fruit "
                                               "(capped at robots.max_life).")


class VisionTable(_Table):
    """Raycast vision: rays spread evenly over the field of view."""

    rays: Annotated[int, Field(ge=1, le=limits.MAX_RAYS)] = Field(16, description="Rays per robot.")
    fov_degrees: Annotated[
        float, Field(ge=limits.MIN_FOV_DEGREES, lt=limits.MAX_FOV_DEGREES)] = Field(
        120.0, description="Field of view, degrees, centred on the heading.")
    range: Annotated[float, Field(ge=limits.MIN_LENGTH, le=limits.MAX_RANGE)] = Field(
        150.0, description="How far a ray sees, world units.")
    channels: tuple[str, ...] = Field(
        ("mine", "fruit"),
        description="What the rays report, any of the channels mine, fruit, robot and edge "
                    "(the arena's boundary); observations use that fixed order whatever "
                    "order the file lists.")

    @field_validator("channels", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("channels")
    @classmethod
    def _channels_ok(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError(f"expected at least one channel from {', '.join(CHANNELS)}")
        unknown = [c for c in value if c not in CHANNELS]
        if unknown:
            raise ValueError(f"expected a list of {', '.join(map(repr, CHANNELS))}, "
                             f"got {list(value)}")
        if len(set(value)) != len(value):
            raise ValueError(f"expected each channel once, got {list(value)}")
        # Observations always use the canonical order, whatever order the file lists.
        return tuple(c for c in CHANNELS if c in value)


class BrainTable(_Table):
    """MLP: inputs rays*channels, one tanh hidden layer, outputs turn and throttle."""

    hidden: Annotated[int, Field(ge=1, le=limits.MAX_HIDDEN)] = Field(
        16, description="Hidden tanh units.")
    init_std: Annotated[float, Field(gt=0, le=100)] = Field(
        1.0, description="Standard deviation of the brain genes of a fresh random genome.")
    encoding: Literal["direct", "dct"] = Field(
        "direct",
        description='"direct": the genome holds the weights; "dct": it holds W1 as '
                    "dct_coefficients low-frequency DCT coefficients per (hidden unit, "
                    "channel) along the rays.")
    dct_coefficients: Annotated[int, Field(ge=1, le=256)] = Field(
        4, description='DCT coefficients per (hidden unit, channel) with encoding = "dct" '
                       "(at most vision.rays).")
    connections: Literal["dense", "evolved"] = Field(
        "dense",
        description='"dense": every connection is on; "evolved": the genome holds a '
                    "connection mask (one gene per weight of W1 and W2) that mutation flips: "
                    "pruning and regrowth.")
    connection_flip_rate: Annotated[float, Field(ge=0, le=1)] = Field(
        0.002, description="Probability per mask gene per birth of flipping it (evolved "
                           "connections only).")
    connection_regrowth: Annotated[float, Field(ge=0, le=100)] = Field(
        1.0, description="How likely a pruned connection is to grow back at a birth, as a "
                         "multiple of connection_flip_rate (an active one is pruned with "
                         "connection_flip_rate): 1 flips both ways alike, so masks drift "
                         "towards half on; below 1 they drift towards regrowth / (1 + "
                         "regrowth) on, and selection keeps the connections that matter "
                         "(evolved connections only).")
    initial_connections: Annotated[float, Field(ge=0, le=1)] = Field(
        1.0, description="Fraction of connections on in a random genome (evolved "
                         "connections only).")
    initial_pattern: Literal["connections", "units"] = Field(
        "connections",
        description='How a random genome\'s connections are chosen (evolved connections '
                    'only): "connections": each is on with probability initial_connections; '
                    '"units": initial_connections x hidden (rounded half up) hidden units, '
                    "drawn at random, are wired whole (every input and both outputs), the "
                    "others not at all.")
    connection_cost: Annotated[float, Field(ge=0, le=limits.MAX_CONNECTION_COST)] = Field(
        0.0, description="Life drained per active connection per step while ageing (evolved "
                         "connections only).")

    @property
    def initial_units(self) -> int:
        """Hidden units a random genome wires whole with ``initial_pattern = "units"``
        (initial_connections x hidden, rounded half up); -1 with "connections"."""
        if self.initial_pattern != "units":
            return -1
        # In decimal, as the scenario file writes it: 0.29 x 50 is 14.5, not 14.499...
        return math.floor(Decimal(repr(self.initial_connections)) * self.hidden
                          + Decimal("0.5"))


class EvolutionTable(_Table):
    """Reproduction, mutation and the population rules."""

    reproduction: bool = Field(True, description="Each fruit eaten conceives one offspring.")
    mutation_rate: Annotated[float, Field(ge=0, le=1)] = Field(
        1.0, description="Probability per gene per birth of adding Gaussian noise.")
    mutation_sigma: Annotated[float, Field(ge=0, le=100)] = Field(
        0.15, description="Standard deviation of that noise.")
    speed_sigma: Annotated[float, Field(ge=0, le=limits.MAX_SPEED)] | None = Field(
        None, description="Standard deviation of the noise on the max-speed gene, units per "
                          f"step (unset: {SPEED_SIGMA_SHARE} x mutation_sigma, in every "
                          "phase).")
    nursery: Annotated[int, Field(ge=0, le=limits.MAX_ROBOTS)] = Field(
        50, description="Offspring waiting for a slot freed by a death; when it is full, the "
                        "newest offspring replaces the oldest waiting one (0: no waiting at "
                        "all).")
    respawn: Literal["random", "same_genome"] = Field(
        "random", description='What refills a slot when no offspring waits: "random", a fresh '
                              'random robot; "same_genome", the slot\'s own genome again (as '
                              "evosim evaluate does).")
    offspring_distance: Annotated[float, Field(ge=0, le=limits.MAX_ARENA_SIDE)] = Field(
        20.0, description="How far from its living parent an offspring is placed, world "
                          "units.")
    seed_brain: Annotated[str, Field(min_length=1, max_length=limits.MAX_TEXT)] | None = Field(
        None, description="A brain file (evosim export); the world starts with mutated copies "
                          "of it. A relative path is resolved against the scenario file's "
                          "folder.")

    @field_validator("seed_brain")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\0" in value:
            raise ValueError(f"expected a file path without NUL characters, got {value!r}")
        return value


class MigrationTable(_Table):
    """Islands: every ``every`` ticks (0: never) each world of an ``evolve --worlds K``
    run sends copies of its ``count`` best robots (most fruit eaten in their life so
    far, ties by lowest slot) to its neighbour on a ring (world i to world i+1 mod K),
    where they wait in the nursery like offspring. One world alone never migrates."""

    every: Annotated[int, Field(ge=0, le=limits.MAX_STEP)] = Field(
        0, description="Ticks between migrations (0: never).")
    count: Annotated[int, Field(ge=0, le=limits.MAX_ROBOTS)] = Field(
        2, description="Migrants each world sends per migration (at most robots.count).")
    topology: Literal["ring"] = Field("ring", description="World i sends to world i+1 mod K.")


# A phase's keys mean what the base table's keys of the same name mean (the docs
# read their descriptions there); None leaves the setting as it was.
class PhaseMines(_Table):
    count: Count | None = None


class PhaseFruit(_Table):
    count: Count | None = None
    life_bonus: Bonus | None = None


class PhaseRobots(_Table):
    lifespan: Life | None = None
    max_age: Age | None = None
    ageing: bool | None = None
    speed_limit: SpeedLimit | None = None


class PhaseEvolution(_Table):
    reproduction: bool | None = None
    mutation_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    mutation_sigma: Annotated[float, Field(ge=0, le=100)] | None = None
    speed_sigma: Annotated[float, Field(ge=0, le=limits.MAX_SPEED)] | None = None


class Phase(_Table):
    """From ``step`` on, these settings replace the ones before."""

    step: Annotated[int, Field(ge=0, le=limits.MAX_STEP)] = Field(
        description="The step from which this phase's settings hold.")
    name: Text = Field("", description="A name for plots and the viewer.")
    robots: PhaseRobots = PhaseRobots()
    mines: PhaseMines = PhaseMines()
    fruit: PhaseFruit = PhaseFruit()
    evolution: PhaseEvolution = PhaseEvolution()


class Scenario(_Table):
    """A whole world's settings. Build it with :func:`evosim.scenario.load_scenario`."""

    name: str = Field("scenario", description="A plain word (letters, digits, '.', '_', "
                                               "'-'); it names default output paths.")
    description: Text = Field("", description="One line about the scenario.")
    world: WorldTable = WorldTable()
    robots: RobotsTable = RobotsTable()
    mines: MinesTable = MinesTable()
    fruit: FruitTable = FruitTable()
    vision: VisionTable = VisionTable()
    brain: BrainTable = BrainTable()
    evolution: EvolutionTable = EvolutionTable()
    migration: MigrationTable = MigrationTable()
    phases: tuple[Phase, ...] = ()

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        # The name makes default output paths (runs/NAME-seedS): no folders, no tricks.
        if not _NAME.fullmatch(value) or value in (".", ".."):
            raise ValueError(f"expected a plain file-name-safe word (letters, digits, '.', "
                             f"'_', '-'; at most 64 characters), got {value[:80]!r}")
        return value

    @field_validator("phases", mode="before")
    @classmethod
    def _phases_tuple(cls, value: object) -> object:
        if isinstance(value, list | tuple) and len(value) > limits.MAX_PHASES:
            # Each step looks its phase up: thousands would slow every step down.
            raise ValueError(f"expected at most {limits.MAX_PHASES} phases, got {len(value)}")
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        """Settings that depend on each other, checked in this order (the first broken
        one is the error)."""
        self._check_brain()
        self._check_bounds()
        self._check_radii()
        self._check_phase_order()
        self._check_room()
        self._check_memory()
        return self

    def _check_brain(self) -> None:
        if self.brain.connection_cost > 0 and self.brain.connections != "evolved":
            raise _InconsistentError(
                "brain.connection_cost",
                f'expected 0 unless brain.connections = "evolved" (dense brains have no '
                f'connections to prune), got {self.brain.connection_cost}')
        if self.brain.encoding == "dct" and self.brain.dct_coefficients > self.vision.rays:
            raise _InconsistentError(
                "brain.dct_coefficients",
                f"expected at most vision.rays ({self.vision.rays}) coefficients along the "
                f"rays, got {self.brain.dct_coefficients}")

    def _check_bounds(self) -> None:
        """Initial speeds within the limit, lifespans within max_life (phases too), no
        more migrants than robots."""
        r = self.robots
        if r.speed_init_min > r.speed_init_max:
            raise _InconsistentError(
                "robots.speed_init_min",
                f"expected at most robots.speed_init_max ({r.speed_init_max}), "
                f"got {r.speed_init_min}",
            )
        if r.speed_init_max > r.speed_limit:
            raise _InconsistentError(
                "robots.speed_init_max",
                f"expected at most robots.speed_limit ({r.speed_limit}), got {r.speed_init_max}",
            )
        if r.lifespan > r.max_life:
            raise _InconsistentError(
                "robots.lifespan",
                f"expected at most robots.max_life ({r.max_life}), got {r.lifespan}",
            )
        if self.migration.every > 0 and self.migration.count > r.count:
            raise _InconsistentError(
                "migration.count",
                f"expected at most robots.count ({r.count}), got {self.migration.count}",
            )
        for i, phase in enumerate(self.phases):
            if phase.robots.lifespan is not None and phase.robots.lifespan > r.max_life:
                raise _InconsistentError(
                    f"phases[{i}].robots.lifespan",
                    f"expected at most robots.max_life ({r.max_life}), "
                    f"got {phase.robots.lifespan}",
                )

    def _check_radii(self) -> None:
        small_side = min(self.world.width, self.world.height)
        for key, radius in (
            ("robots.radius", self.robots.radius),
            ("mines.radius", self.mines.radius),
            ("fruit.radius", self.fruit.radius),
        ):
            if 2 * radius >= small_side:
                raise _InconsistentError(
                    key, f"expected a radius under half the arena's smaller side, got {radius}"
                )

    def _check_phase_order(self) -> None:
        steps = [p.step for p in self.phases]
        for i in range(1, len(steps)):
            if steps[i] <= steps[i - 1]:
                raise _InconsistentError(
                    f"phases[{i}].step",
                    f"expected steps in increasing order, got {steps[i]} after {steps[i - 1]}",
                )

    def _check_room(self) -> None:
        """Random free places must exist: mines may cover at most a third of the arena,
        mines and fruit together at most ``FREE_ROOM_SHARE``."""
        r = self.robots
        # Centres of robots and fruit stay a radius inside the walls.
        inner = max(r.radius, self.fruit.radius)
        arena = (self.world.width - 2 * inner) * (self.world.height - 2 * inner)

        reach = self.mines.radius + max(r.radius, self.fruit.radius)
        covered = self.mine_capacity * math.pi * reach * reach
        if covered > arena * limits.MINE_ROOM_SHARE:
            raise _InconsistentError(
                "mines.count",
                f"expected mines to leave free room (at most a third of the arena "
                f"within reach of a mine), got {self.mine_capacity} mines covering "
                f"{covered / arena:.0%}",
            )
        # Fruit is placed clear of mines, fruit and robots: with the mines, it must
        # leave room too, or every placement spends all its tries (a hang, not an error).
        fruit_reach = self.fruit.radius + max(r.radius, self.fruit.radius)
        both = covered + self.fruit_capacity * math.pi * fruit_reach * fruit_reach
        if both > arena * limits.FREE_ROOM_SHARE:
            raise _InconsistentError(
                "fruit.count",
                f"expected mines and fruit to leave free room (at most "
                f"{limits.FREE_ROOM_SHARE:.0%} of the arena within reach of them), got "
                f"{self.mine_capacity} mines and {self.fruit_capacity} fruit covering "
                f"{both / arena:.0%}",
            )

    def _check_memory(self) -> None:
        need = self.memory_bytes()
        if need > limits.STATE_MEMORY_BUDGET:
            v = self.vision
            raise _InconsistentError(
                "robots.count",
                f"expected the world's arrays to fit the memory budget of "
                f"{limits.STATE_MEMORY_BUDGET / 1024**3:g} GiB per world, got "
                f"{self.robots.count} robots "
                f"and {self.evolution.nursery} nursery places x {self.genome_length} genes "
                f"({v.rays} rays x {len(v.channels)} channels, {self.brain.hidden} hidden) = "
                f"{need / 1024**3:.1f} GiB",
            )

    # Derived values are computed, never stored.
    def memory_bytes(self) -> int:
        """Bytes of state and scratch arrays of one world, an upper estimate.

        Per robot: positions, ids and counters (<= 128 bytes), the float32 genome,
        its decoded brain and observations (dense and sparse); per nursery place its genome, ids and
        conception step (<= 64 bytes); per mine or fruit about 40 bytes; plus the
        largest spatial grid (4 int64 arrays of ``MAX_GRID_CELLS``).
        """
        # observations: obs and its sparse copy (an int32 index and a float32 each)
        per_robot = 128 + 4 * self.genome_length + 12 * self.n_inputs
        per_robot += 4 * self.genome_layout.decoded.speed  # the decoded brains (scratch)
        per_robot += 128  # the other per-robot scratch: actions, headings, grid, contacts
        per_waiting = 64 + 4 * self.genome_length
        objects = 40 * (self.mine_capacity + self.fruit_capacity)
        return (self.robots.count * per_robot + self.evolution.nursery * per_waiting + objects
                + 32 * (limits.MAX_GRID_CELLS + 1))

    # Derived values are computed, never stored.
    @property
    def mine_capacity(self) -> int:
        """Most mines active at any step (base count or any phase's)."""
        counts = [self.mines.count]
        counts += [p.mines.count for p in self.phases if p.mines.count is not None]
        return max(counts)

    @property
    def speed_cap(self) -> float:
        """The highest speed limit of any phase: no robot moves faster in one tick."""
        caps = [self.robots.speed_limit]
        caps += [p.robots.speed_limit for p in self.phases if p.robots.speed_limit is not None]
        return max(caps)

    @property
    def fruit_capacity(self) -> int:
        """Most fruit active at any step (base count or any phase's)."""
        counts = [self.fruit.count]
        counts += [p.fruit.count for p in self.phases if p.fruit.count is not None]
        return max(counts)

    @property
    def n_inputs(self) -> int:
        """Brain inputs: rays x channels (the bias is separate)."""
        return self.vision.rays * len(self.vision.channels)

    @property
    def genome_layout(self) -> GenomeLayout:
        """Offsets of W1, b1, W2, b2, the connection mask and the speed gene in a genome."""
        masked = self.brain.connections == "evolved"
        if self.brain.encoding == "dct":
            return GenomeLayout(self.n_inputs, self.brain.hidden, self.brain.dct_coefficients,
                                self.vision.rays, len(self.vision.channels), masked)
        return GenomeLayout(self.n_inputs, self.brain.hidden, masked=masked)

    @property
    def genome_length(self) -> int:
        """Brain genes plus the max-speed gene (the last one)."""
        return self.genome_layout.length

    def phase_schedule(self) -> list[dict[str, float | int | bool]]:
        """Resolved settings per phase: entry 0 is the base, entry i from ``phases[i-1].step``.

        Keys: ``step`` (where the phase begins) and every
        :data:`~evosim.scenario.model.PHASE_KEYS` name. An unset ``speed_sigma`` reads
        as ``SPEED_SIGMA_SHARE`` x that row's ``mutation_sigma``.
        """
        current: dict[str, float | int | bool | None] = {"step": 0}
        for key, (table, name) in PHASE_KEYS.items():
            current[key] = getattr(getattr(self, table), name)
        out = [_resolved(current)]
        for p in self.phases:
            current["step"] = p.step
            for key, (table, name) in PHASE_KEYS.items():
                value = getattr(getattr(p, table), name)
                if value is not None:
                    current[key] = value
            out.append(_resolved(current))
        return out

    def frozen_at(self, step: int) -> Scenario:
        """This scenario with the settings active at ``step`` as its base and no phases
        (what a checkpoint taken at ``step`` lives in, held still)."""
        active = self.settings_at(step)
        data = self.model_dump(mode="json")
        for key, (table, name) in PHASE_KEYS.items():
            data[table][name] = active[key]
        data["phases"] = []
        if data["robots"]["speed_init_max"] > data["robots"]["speed_limit"]:
            data["robots"]["speed_init_max"] = data["robots"]["speed_limit"]
            data["robots"]["speed_init_min"] = min(data["robots"]["speed_init_min"],
                                                   data["robots"]["speed_limit"])
        return type(self).model_validate(data)

    def settings_at(self, step: int) -> dict[str, float | int]:
        """Settings active at ``step``: the last :meth:`phase_schedule` row at or before it.

        ``step`` is a world's step count (0 = the start); the row's ``"step"`` is
        where its phase began.
        """
        try:
            at = operator.index(step)
        except TypeError:
            at = -1
        if isinstance(step, bool) or at < 0:
            raise ValueError(f"settings_at(step): expected a non-negative integer, got {step!r}")
        return [row for row in self.phase_schedule() if row["step"] <= at][-1]


PHASE_KEYS: dict[str, tuple[str, str]] = {
    "mine_count": ("mines", "count"),
    "fruit_count": ("fruit", "count"),
    "life_bonus": ("fruit", "life_bonus"),
    "lifespan": ("robots", "lifespan"),
    "max_age": ("robots", "max_age"),
    "ageing": ("robots", "ageing"),
    "speed_limit": ("robots", "speed_limit"),
    "reproduction": ("evolution", "reproduction"),
    "mutation_rate": ("evolution", "mutation_rate"),
    "mutation_sigma": ("evolution", "mutation_sigma"),
    "speed_sigma": ("evolution", "speed_sigma"),
}
"""Settings a ``[[phases]]`` entry may change: schedule key -> (table, key) in the file."""


def _resolved(settings: dict[str, float | int | bool | None]) -> dict[str, float | int | bool]:
    """A schedule row: ``settings`` with an unset speed sigma read from the mutation sigma."""
    row = dict(settings)
    if row["speed_sigma"] is None:
        row["speed_sigma"] = SPEED_SIGMA_SHARE * float(row["mutation_sigma"])  # type: ignore[arg-type]
    return row  # type: ignore[return-value]


class _InconsistentError(ValueError):
    """Raised inside validation with the dotted key it concerns."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
