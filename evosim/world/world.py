"""World: owns a WorldState and its RNG key, and steps it with the kernels.

Checkpoint files are read and written in :mod:`evosim.world.checkpoint`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from evosim import limits
from evosim.errors import EvosimError
from evosim.kernels.layout import COUNTER_NAMES
from evosim.kernels.observe import look
from evosim.kernels.params import Params, Schedule, Scratch
from evosim.kernels.placement import init_world
from evosim.kernels.step import run_steps, run_steps_threaded
from evosim.scenario import CHANNELS, OBJECT_KINDS, Scenario
from evosim.world import checkpoint
from evosim.world.brainfile import seed_genomes
from evosim.world.checks import check_seed
from evosim.world.state import WorldState

MAX_CELLS = limits.MAX_GRID_CELLS  # grid cells at most (memory), the cell side grows beyond


def seed_key(seed: int) -> np.uint64:
    """The 64-bit RNG key of a world seed (through SeedSequence, so near seeds differ)."""
    return np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]


def make_params(scenario: Scenario) -> Params:
    """Kernel settings of a scenario (angles to radians, grid geometry)."""
    sc = scenario
    chans = sc.vision.channels

    def slot(name: str) -> int:
        return chans.index(name) if name in chans else -1

    w, h = sc.world.width, sc.world.height
    biggest = max(getattr(sc, kind.table).radius for kind in OBJECT_KINDS)
    layout = sc.genome_layout
    cell = max(sc.vision.range / 2.0, 2.0 * biggest)
    while math.ceil(w / cell) * math.ceil(h / cell) > MAX_CELLS:
        cell *= 2.0
    return Params(
        width=float(w),
        height=float(h),
        robot_radius=float(sc.robots.radius),
        mine_radius=float(sc.mines.radius),
        fruit_radius=float(sc.fruit.radius),
        max_life=int(sc.robots.max_life),
        max_turn=math.radians(sc.robots.max_turn_degrees),
        speed_init_min=float(sc.robots.speed_init_min),
        speed_init_max=float(sc.robots.speed_init_max),
        speed_cap=float(sc.speed_cap),
        mine_speed=float(sc.mines.speed),
        rays=int(sc.vision.rays),
        fov=math.radians(sc.vision.fov_degrees),
        vision_range=float(sc.vision.range),
        obs_mine=slot("mine"),
        obs_fruit=slot("fruit"),
        obs_robot=slot("robot"),
        obs_edge=slot("edge"),
        n_channels=len(chans),
        hidden=int(sc.brain.hidden),
        w1=layout.w1,
        b1=layout.b1,
        w2=layout.w2,
        b2=layout.b2,
        speed_gene=layout.speed,
        init_std=float(sc.brain.init_std),
        respawn_same=sc.evolution.respawn == "same_genome",
        offspring_distance=float(sc.evolution.offspring_distance),
        cell=float(cell),
        ncx=math.ceil(w / cell),
        ncy=math.ceil(h / cell),
    )


def make_schedule(scenario: Scenario) -> Schedule:
    rows = scenario.phase_schedule()

    def col(name: str, dtype: type) -> np.ndarray:
        return np.array([r[name] for r in rows], dtype)

    return Schedule(
        step=col("step", np.int64),
        mine_count=col("mine_count", np.int64),
        fruit_count=col("fruit_count", np.int64),
        life_bonus=col("life_bonus", np.int64),
        lifespan=col("lifespan", np.int64),
        max_age=col("max_age", np.int64),
        ageing=col("ageing", np.bool_),
        reproduction=col("reproduction", np.bool_),
        speed_limit=col("speed_limit", np.float64),
        mutation_rate=col("mutation_rate", np.float64),
        mutation_sigma=col("mutation_sigma", np.float64),
    )


def ray_offsets(scenario: Scenario) -> np.ndarray:
    """float64 [R]: ray k's angle from the heading, ``fov * (k/(R-1) - 1/2)`` radians."""
    R = scenario.vision.rays
    fov = math.radians(scenario.vision.fov_degrees)
    if R == 1:
        return np.zeros(1)
    return np.array([fov * (k / (R - 1) - 0.5) for k in range(R)])


def make_scratch(scenario: Scenario, params: Params, threads: int = 1) -> Scratch:
    """Work arrays of one world; ``threads`` rows of per-thread scratch."""
    N = scenario.robots.count
    T = threads
    R = scenario.vision.rays
    cells = params.ncx * params.ncy
    off = ray_offsets(scenario)
    F = scenario.fruit_capacity
    return Scratch(
        ray_cos=np.cos(off),
        ray_sin=np.sin(off),
        ray_dx=np.zeros((T, R)),
        ray_dy=np.zeros((T, R)),
        best_t=np.zeros((T, R)),
        best_c=np.zeros((T, R), np.int64),
        hid=np.zeros((T, scenario.brain.hidden)),
        obs=np.zeros((N, R, len(scenario.vision.channels)), np.float32),
        actions=np.zeros((N, 2), np.float32),
        mine_start=np.zeros(cells + 1, np.int64),
        mine_items=np.zeros(max(scenario.mine_capacity, 1), np.int64),
        fruit_start=np.zeros(cells + 1, np.int64),
        fruit_items=np.zeros(max(F, 1), np.int64),
        robot_start=np.zeros(cells + 1, np.int64),
        robot_items=np.zeros(N, np.int64),
        cursor=np.zeros(cells, np.int64),
        dead=np.zeros(N, np.uint8),
        ate=np.zeros(N, np.uint8),
        taken=np.zeros(max(F, 1), np.uint8),
        placed=np.zeros(N, np.int64),
        moved=np.zeros(max(F, 1), np.int64),
    )


def check_threads(threads: int) -> int:
    """Threads one world steps on: an integer from 1 to limits.MAX_THREADS."""
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or not (
            1 <= threads <= limits.MAX_THREADS):
        raise ValueError(f"threads: expected an integer from 1 to {limits.MAX_THREADS}, "
                         f"got {threads!r}")
    return int(threads)


class World:
    """One simulated world: a scenario, a seed, and the state they evolve.

    ``World(scenario, seed)`` builds step 0; :meth:`step` advances it. Same
    scenario and seed give bit-identical states however the steps are split,
    after :meth:`save` / :meth:`load`, and on any number of ``threads`` (vision
    and brains of one world split over that many; the rest stays in slot order).
    """

    def __init__(self, scenario: Scenario, seed: int = 0, threads: int = 1) -> None:
        if not isinstance(scenario, Scenario):
            raise TypeError("World(scenario, seed): scenario must come from load_scenario()")
        self._setup(scenario, check_seed(seed), WorldState.empty(scenario), threads)
        self._arrays.rng_key[0] = seed_key(self.seed)
        init_world(self._arrays, self._params, self._schedule, self._scratch)
        # [evolution] seed_brain: the population starts as mutated copies of a brain file.
        if scenario.evolution.seed_brain is not None:
            self.set_genomes(seed_genomes(scenario, self._arrays.rng_key[0]))

    def _setup(self, scenario: Scenario, seed: int, arrays: WorldState, threads: int = 1
               ) -> None:
        self.threads = check_threads(threads)
        self.scenario = scenario
        self.seed = seed
        self._arrays = arrays
        self._view = arrays.read_only()
        self._params = make_params(scenario)
        self._schedule = make_schedule(scenario)
        self._scratch = make_scratch(scenario, self._params, self.threads)

    # ------------------------------------------------------------ stepping

    def step(self, n: int = 1) -> None:
        """Advance the world by ``n`` ticks (one kernel call, no Python per tick)."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"step(n): expected a non-negative integer, got {n!r}")
        if not n:
            return
        if self.threads == 1:
            run_steps(self._arrays, self._params, self._schedule, self._scratch, int(n))
            return
        import numba

        before = numba.get_num_threads()
        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))
        try:
            run_steps_threaded(self._arrays, self._params, self._schedule, self._scratch,
                               int(n))
        finally:
            numba.set_num_threads(before)

    def set_genomes(self, genomes: np.ndarray) -> None:
        """Replace every robot's genome (float32 [N, G]); positions and life stay.

        The max-speed gene (last column) is clipped to [0, speed limit in force].
        """
        g = np.asarray(genomes)
        want = self._arrays.genome.shape
        if g.shape != want:
            raise EvosimError(f"genomes: expected shape {list(want)}, got {list(g.shape)}")
        if not np.isfinite(g).all():
            raise EvosimError("genomes: expected finite numbers")
        self._arrays.genome[:] = g.astype(self._arrays.genome.dtype)
        limit = self.scenario.settings_at(self.step_count)["speed_limit"]
        speed = self._arrays.genome[:, self.scenario.genome_layout.speed]
        np.clip(speed, 0.0, limit, out=speed)

    def writable_state(self) -> WorldState:
        """The live state arrays, writable: for tests and tools that set up a situation
        (a robot placed beside a mine, say). Writing them bypasses every check; the
        world steps on from whatever they hold."""
        return self._arrays

    # ------------------------------------------------------------ reading

    @property
    def state(self) -> WorldState:
        """Read-only views of the live state arrays."""
        return self._view

    @property
    def step_count(self) -> int:
        return self._view.step

    @property
    def observation_channels(self) -> tuple[str, ...]:
        """Channel names of the observations' last axis, in order."""
        return tuple(c for c in CHANNELS if c in self.scenario.vision.channels)

    def observations(self) -> np.ndarray:
        """float32 [N, rays, channels]: what each robot sees in the current state."""
        look(self._arrays, self._params, self._scratch, False)
        return self._scratch.obs.copy()

    def actions(self) -> np.ndarray:
        """float32 [N, 2]: each brain's (turn in [-1, 1], throttle in [0, 1]) now."""
        look(self._arrays, self._params, self._scratch, True)
        return self._scratch.actions.copy()

    @property
    def counters(self) -> dict[str, int]:
        """Events since step 0: fruit_eaten, mine_deaths, age_deaths, births (offspring
        that took a freed slot), random_spawns, offspring_dropped (pushed out of a
        full nursery)."""
        return {name: int(v) for name, v in zip(COUNTER_NAMES, self._view.counters, strict=True)}

    def __repr__(self) -> str:
        return (f"World(scenario={self.scenario.name!r}, seed={self.seed}, "
                f"step={self.step_count})")

    # ------------------------------------------------------------ checkpoints

    def metadata(self) -> dict[str, Any]:
        """What a checkpoint records beside the arrays."""
        return checkpoint.metadata(self)

    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write a checkpoint (``.npz``, no pickle, metadata as JSON), atomically."""
        return checkpoint.save(self, path, extra)

    @classmethod
    def load(cls, path: str | Path, threads: int = 1) -> World:
        """Rebuild a world from a checkpoint; it continues bit-identically (on any
        number of ``threads``)."""
        meta, scenario, arrays = checkpoint.load_checkpoint(path)
        world = cls.__new__(cls)
        world._setup(scenario, int(meta["seed"]), arrays, threads)
        return world
