"""World: owns a WorldState and its RNG key, and steps it with the kernels.

Checkpoint files are read and written in :mod:`evosim.world.checkpoint`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from evosim import limits
from evosim.errors import EvosimError
from evosim.kernels.layout import COUNTER_NAMES
from evosim.kernels.life import (
    EV_INITIAL,
    EVENT_COLUMNS,
    EVENTS_PER_ROBOT_STEP,
    EventBuffer,
    no_events,
    offspring_genomes,
)
from evosim.kernels.observe import look
from evosim.kernels.step import prepare, run_steps, run_steps_threaded
from evosim.scenario import CHANNELS, Scenario
from evosim.world import checkpoint
from evosim.world.brainfile import seed_genomes
from evosim.world.checks import check_seed
from evosim.world.kernel_args import make_params, make_schedule, make_scratch
from evosim.world.migration import Migrants, receive
from evosim.world.state import WorldState

EVENT_BUFFER_ROWS = 16_384  # rows of the event buffer (at least 2 per robot); about 1.1 MB
# One row per death, birth or random spawn: see evosim.kernels.life.EVENT_COLUMNS.
EVENT_DTYPE = np.dtype([*((c, np.int64) for c in EVENT_COLUMNS), ("x", np.float64),
                        ("y", np.float64)])

# Bounds of an action (turn, throttle): external actions are clipped to them.
ACTION_LOW = np.array([-1.0, 0.0], np.float32)
ACTION_HIGH = np.array([1.0, 1.0], np.float32)
ACTION_LOW.flags.writeable = False
ACTION_HIGH.flags.writeable = False


class TickEvents(NamedTuple):
    """What happened to each slot in the last tick stepped (read-only uint8 [N] views).

    ``ate[i]`` is 1 when the robot in slot i ate a fruit. ``death[i]`` is
    ``DEATH_MINE`` or ``DEATH_AGE`` (evosim.world) when the robot in slot i died (the slot then
    holds a new robot, with a new ``robot_id``), ``DEATH_NONE`` (0) otherwise.
    Both describe only the last tick of the last :meth:`World.step` call.
    """

    ate: np.ndarray
    death: np.ndarray


def seed_key(seed: int) -> np.uint64:
    """The 64-bit RNG key of a world seed (through SeedSequence, so near seeds differ)."""
    return np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]


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
    after :meth:`save` / :meth:`load`, and on any number of ``threads`` (vision,
    brains, moves and touches of one world split over that many; the rest stays in
    slot order).
    """

    def __init__(self, scenario: Scenario, seed: int = 0, threads: int = 1) -> None:
        if not isinstance(scenario, Scenario):
            raise TypeError("World(scenario, seed): scenario must come from load_scenario()")
        self._setup(scenario, check_seed(seed), WorldState.empty(scenario), threads)
        self._arrays.rng_key[0] = seed_key(self.seed)
        prepare(self._arrays, self._params, self._schedule, self._scratch, build=True)
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
        self._no_events = no_events()
        self._event_buffer: EventBuffer | None = None  # allocated when events are first asked
        self._events: list[np.ndarray] = []  # drained, not yet handed out
        self._last_tick = TickEvents(*(_read_only(a) for a in (self._scratch.ate,
                                                               self._scratch.dead)))
        # The brains the genomes encode.
        prepare(arrays, self._params, self._schedule, self._scratch, build=False)

    # ------------------------------------------------------------ stepping

    def step(self, n: int = 1, *, actions: np.ndarray | None = None,
             controlled: np.ndarray | None = None, events: bool = False) -> None:
        """Advance the world by ``n`` ticks (one kernel call, no Python per tick).

        External control: with ``actions`` (float [N, 2]: turn in [-1, 1], throttle
        in [0, 1], clipped to those ranges), the robots marked in ``controlled``
        (bool [N]; all of them when omitted) skip their brain and take their row of
        ``actions`` in each of these ``n`` ticks; every other rule is unchanged.
        The marks hold for this call only. The same actions give bit-identical
        worlds; a slot whose robot dies gets a new robot (a new ``robot_id``),
        which the next call controls if it is still marked.

        With ``events=True`` every death, birth and random spawn of these ticks is
        kept for :meth:`drain_events` (the kernel fills a fixed buffer; a call that
        would overflow it is split, which changes no result). Without it the
        kernel records nothing.
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"step(n): expected a non-negative integer, got {n!r}")
        work = self._scratch
        if actions is None:
            if controlled is not None:
                raise ValueError("step(controlled=...): controlled robots need actions=")
            self._run(int(n), events)
            return
        self._set_control(actions, controlled)
        try:
            self._run(int(n), events)
        finally:
            work.control[:] = False

    def _run(self, n: int, events: bool) -> None:
        """n ticks through the kernels, with the event buffer when events are asked."""
        if self.threads == 1:
            self._run_on(run_steps, n, events)
            return
        import numba

        before = numba.get_num_threads()
        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))
        try:
            self._run_on(run_steps_threaded, n, events)
        finally:
            numba.set_num_threads(before)

    def _run_on(self, kernel: Any, n: int, events: bool) -> None:
        """n ticks through ``kernel`` (``run_steps`` or ``run_steps_threaded``)."""
        if not events:
            if n:
                kernel(self._arrays, self._params, self._schedule, self._scratch,
                       self._no_events, n)
            return
        ev = self._event_buffer
        if ev is None:
            rows = max(EVENT_BUFFER_ROWS,
                       2 * EVENTS_PER_ROBOT_STEP * self.scenario.robots.count)
            ev = self._event_buffer = EventBuffer(
                np.zeros((rows, len(EVENT_COLUMNS)), np.int64), np.zeros((rows, 2)),
                np.zeros(1, np.int64))
        while n:
            n -= int(kernel(self._arrays, self._params, self._schedule, self._scratch, ev, n))
            self._take_events(ev)

    def _set_control(self, actions: object, controlled: object) -> None:
        work = self._scratch
        N = work.control.shape[0]
        a = np.asarray(actions)
        if a.shape != (N, 2) or a.dtype.kind not in "fiu":
            raise ValueError(f"step(actions=...): expected numbers of shape [{N}, 2], got "
                             f"{a.dtype} of shape {list(a.shape)}")
        if controlled is None:
            mask = None
        else:
            mask = np.asarray(controlled)
            if mask.shape != (N,) or mask.dtype != np.bool_:
                raise ValueError(f"step(controlled=...): expected bool of shape [{N}], got "
                                 f"{mask.dtype} of shape {list(mask.shape)}")
        np.clip(a, ACTION_LOW, ACTION_HIGH, out=work.control_actions, casting="unsafe")
        finite = np.isfinite(work.control_actions).all(axis=1)
        bad = ~finite if mask is None else mask & ~finite
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"step(actions=...): expected finite numbers, got "
                             f"{a[i].tolist()} in row {i}")
        if mask is None:
            work.control[:] = True
        else:
            work.control[:] = mask

    @property
    def last_tick(self) -> TickEvents:
        """Who ate and who died (and of what) in the last tick stepped: read-only
        uint8 [N] views, valid until the next :meth:`step`."""
        return self._last_tick

    def _take_events(self, ev: EventBuffer) -> None:
        used = int(ev.used[0])
        if used:
            out = np.empty(used, EVENT_DTYPE)
            for k, name in enumerate(EVENT_COLUMNS):
                out[name] = ev.rows[:used, k]
            out["x"] = ev.xy[:used, 0]
            out["y"] = ev.xy[:used, 1]
            self._events.append(out)
            ev.used[0] = 0

    def drain_events(self) -> np.ndarray:
        """The events recorded by ``step(..., events=True)`` since the last drain, oldest
        first, as a structured array of ``EVENT_DTYPE`` (fields step, kind, slot, id,
        parent, lineage, generation, x, y; kind is one of ``evosim.kernels.life.EV_*``)."""
        out = np.concatenate(self._events) if self._events else np.empty(0, EVENT_DTYPE)
        self._events = []
        return out

    def initial_events(self) -> np.ndarray:
        """The robots alive now as events of kind EV_INITIAL at the current step, in slot
        order: the roots of a world's event log."""
        s = self._view
        N = s.robot_id.shape[0]
        out = np.empty(N, EVENT_DTYPE)
        out["step"] = s.step
        out["kind"] = EV_INITIAL
        out["slot"] = np.arange(N)
        out["id"] = s.robot_id
        out["parent"] = s.robot_parent
        out["lineage"] = s.robot_lineage
        out["generation"] = s.robot_generation
        out["x"] = s.robot_xy[:, 0]
        out["y"] = s.robot_xy[:, 1]
        return out

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
        prepare(self._arrays, self._params, self._schedule, self._scratch, build=False)

    def receive_offspring(self, migrants: Migrants) -> None:
        """Robots from another world join the nursery as waiting offspring (exact copies;
        see :mod:`evosim.world.migration`): they take slots freed by later deaths."""
        receive(self._arrays, migrants)

    def copy(self) -> World:
        """An independent world in the same state: stepping one never touches the other
        (a clip recorded during evolution steps a copy, never the evolving world)."""
        twin = World.__new__(World)
        twin._setup(self.scenario, self.seed, WorldState(*(a.copy() for a in self._arrays)),
                    self.threads)
        return twin

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

    def observations(self, out: np.ndarray | None = None) -> np.ndarray:
        """float32 [N, rays, channels]: what each robot sees in the current state.

        ``out``: a float32 array of that shape (or [N, rays*channels]) to write into
        instead of allocating a new one; it is returned.
        """
        look(self._arrays, self._params, self._scratch, decide=False)
        if out is None:
            return self._scratch.obs.copy()
        obs = self._scratch.obs
        if (out.dtype != obs.dtype or out.size != obs.size or out.shape[0] != obs.shape[0]
                or not out.flags.c_contiguous or not out.flags.writeable):
            raise ValueError(f"observations(out=...): expected float32 of shape "
                             f"{list(obs.shape)}, got {out.dtype} of shape {list(out.shape)}")
        np.copyto(out.reshape(obs.shape), obs)
        return out

    def actions(self) -> np.ndarray:
        """float32 [N, 2]: each brain's (turn in [-1, 1], throttle in [0, 1]) now."""
        look(self._arrays, self._params, self._scratch, decide=True)
        return self._scratch.actions.copy()

    def offspring_genomes(self) -> np.ndarray:
        """float32 [K, G]: the genome each nursery entry is born with.

        ``state.nursery_genome`` holds the parents' genomes; an offspring is mutated
        at birth with the draws of its conception, so row q here is its parent's
        genome mutated as at conception (a migrant's genome as sent). Rows not
        waiting (born or dropped) say what they were born with or would have been.
        """
        out = np.empty_like(self._arrays.nursery_genome)
        offspring_genomes(self._arrays, self._params, self._schedule, out)
        return out

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


def _read_only(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v
