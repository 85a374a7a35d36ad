"""The same world step in plain vectorized NumPy: the honest speed reference.

Vision, brains, movement and contacts are vectorized over robots, rays and
objects (all pairs, no grid); the rare events (births, respawns, fruit
placement) loop over the few robots they concern. The rules are the engine's;
the random numbers come from a NumPy Generator, so trajectories differ from
the engine's after the first random event, but observations and actions on
the same state are the same (tests check it).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from evosim.errors import EvosimError
from evosim.kernels.layout import (
    AGE_DEATHS,
    BIRTHS,
    FRUIT_COUNT,
    FRUIT_EATEN,
    MINE_COUNT,
    MINE_DEATHS,
    NEXT_ID,
    NEXT_LINEAGE,
    OFFSPRING_DROPPED,
    RANDOM_SPAWNS,
    STEP,
)
from evosim.scenario import CHANNELS, Scenario
from evosim.scenario.kinds import EDGE, OBJECT_KINDS, SELF_SEEING
from evosim.world.kernel_args import make_schedule, ray_offsets
from evosim.world.state import WorldState


class NumpyWorld:
    """A world stepped by NumPy; ``state`` is a private, writable WorldState copy."""

    def __init__(self, scenario: Scenario, state: WorldState, seed: int = 0) -> None:
        if scenario.genome_layout.decodes:
            # A reference of the plain brain: direct genes, every connection on.
            raise EvosimError(f"{scenario.name}: the NumPy baseline steps direct dense "
                              f"brains only, not [brain] encoding = "
                              f"{scenario.brain.encoding!r}, connections = "
                              f"{scenario.brain.connections!r}")
        self.scenario = scenario
        self.state = state.copy()
        self.rng = np.random.default_rng(seed)
        off = ray_offsets(scenario)
        self._ray_cos = np.cos(off)
        self._ray_sin = np.sin(off)
        self._channels = [c for c in CHANNELS if c in scenario.vision.channels]
        self._schedule = make_schedule(scenario)
        # Offspring waiting for a freed slot: (the parent's genome, parent id, parent
        # slot, lineage, generation, mutation rate, sigma and speed limit at conception),
        # oldest first; mutated at birth, as the engine does. (Kept here, not in
        # ``state``: a reference of its own.)
        self.nursery: deque = deque()

    # ------------------------------------------------------------ sensing

    def observations(self) -> np.ndarray:
        """float32 [N, R, C], as ``World.observations()``."""
        sc, s = self.scenario, self.state
        rng_ = sc.vision.range
        xy = s.robot_xy
        h = s.robot_heading
        ch, sh = np.cos(h)[:, None], np.sin(h)[:, None]
        dirx = ch * self._ray_cos[None, :] - sh * self._ray_sin[None, :]  # [N, R]
        diry = sh * self._ray_cos[None, :] + ch * self._ray_sin[None, :]
        N, R = dirx.shape
        best = np.full((N, R), np.inf)
        best_c = np.full((N, R), -1)
        objects = {}  # channel -> (active centres, radius, is the robots' own kind)
        for kind in OBJECT_KINDS:
            pts = getattr(s, f"{kind.name}_xy")
            pts = pts[: getattr(s, f"{kind.name}_count", len(pts))]
            objects[kind.channel] = (pts, getattr(sc, kind.table).radius,
                                     kind.name == SELF_SEEING)
        for c, name in enumerate(self._channels):
            if name == EDGE:
                t = self._edge_distance(xy, dirx, diry)
            else:
                pts, rad, own_kind = objects[name]
                t = self._circle_distance(xy, dirx, diry, pts, rad, own_kind)
            better = (t <= rng_) & (t < best)
            best = np.where(better, t, best)
            best_c = np.where(better, c, best_c)
        obs = np.zeros((N, R, len(self._channels)), np.float32)
        n_idx, r_idx = np.nonzero(best_c >= 0)
        obs[n_idx, r_idx, best_c[n_idx, r_idx]] = (1.0 - best[n_idx, r_idx] / rng_).astype(
            np.float32
        )
        return obs

    @staticmethod
    def _circle_distance(xy, dirx, diry, pts, rad, skip_self):
        """float64 [N, R]: distance along each ray to the nearest circle, inf if none."""
        if len(pts) == 0:
            return np.full(dirx.shape, np.inf)
        dx = pts[None, :, 0] - xy[:, None, 0]  # [N, M]
        dy = pts[None, :, 1] - xy[:, None, 1]
        d2 = dx * dx + dy * dy
        proj = dx[:, None, :] * dirx[:, :, None] + dy[:, None, :] * diry[:, :, None]  # [N,R,M]
        perp2 = d2[:, None, :] - proj * proj
        r2 = rad * rad
        with np.errstate(invalid="ignore"):
            root = np.sqrt(r2 - perp2)
        hit = (perp2 <= r2) & (proj + root >= 0.0)
        t = np.where(hit, np.maximum(proj - root, 0.0), np.inf)
        if skip_self:
            n = np.arange(len(xy))
            t[n, :, n] = np.inf
        return t.min(axis=2)

    def _edge_distance(self, xy, dirx, diry):
        w, h = self.scenario.world.width, self.scenario.world.height
        x, y = xy[:, 0:1], xy[:, 1:2]
        with np.errstate(divide="ignore", invalid="ignore"):
            tx = np.where(dirx > 0, (w - x) / dirx, np.where(dirx < 0, -x / dirx, np.inf))
            ty = np.where(diry > 0, (h - y) / diry, np.where(diry < 0, -y / diry, np.inf))
        return np.maximum(np.minimum(tx, ty), 0.0)

    def actions(self, obs: np.ndarray) -> np.ndarray:
        """float32 [N, 2]: (turn, throttle) for ``obs``, as ``World.actions()``."""
        sc = self.scenario
        L = sc.genome_layout
        H, n_in = L.hidden, L.inputs
        g = self.state.genome.astype(np.float64)
        x = obs.reshape(len(obs), -1).astype(np.float64)
        w1 = g[:, L.w1 : L.b1].reshape(-1, H, n_in)
        b1 = g[:, L.b1 : L.w2]
        w2 = g[:, L.w2 : L.b2].reshape(-1, 2, H)
        b2 = g[:, L.b2 : L.speed]
        hid = np.tanh(np.einsum("nhi,ni->nh", w1, x) + b1)
        z = np.einsum("noh,nh->no", w2, hid) + b2
        return np.stack([np.tanh(z[:, 0]), 1.0 / (1.0 + np.exp(-z[:, 1]))], 1).astype(np.float32)

    # ------------------------------------------------------------ stepping

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self._step_once()

    def _phase(self) -> int:
        return int(np.searchsorted(self._schedule.step, self.state.clock[STEP], side="right") - 1)

    def _step_once(self) -> None:
        s = self.state
        ph = self._phase()
        s.clock[MINE_COUNT] = self._schedule.mine_count[ph]
        s.clock[FRUIT_COUNT] = self._schedule.fruit_count[ph]
        act = self.actions(self.observations())
        limit = float(self._schedule.speed_limit[ph])
        self._move(act, limit, bool(self._schedule.ageing[ph]))
        taken, ate, dead = self._contacts(ph)
        self._refill(ph, ate, dead, limit)
        for f in np.flatnonzero(taken):
            s.fruit_xy[f] = self._free_place(self.scenario.fruit.radius)
        s.clock[STEP] += 1

    def _move(self, act: np.ndarray, limit: float, ageing: bool) -> None:
        """Turn (the turn rate at most lateral_accel / speed), move, slide along the
        walls; age, and with ``ageing`` pay a step's life and the price of speed."""
        sc, s = self.scenario, self.state
        speed_gene = s.genome[:, sc.genome_layout.speed].astype(np.float64)
        vmax = np.clip(speed_gene, 0.0, limit)
        v = act[:, 1].astype(np.float64) * vmax
        turn = np.full(len(v), math.radians(sc.robots.max_turn_degrees))
        a = sc.robots.lateral_accel
        if a > 0:
            fast = v * turn > a
            turn[fast] = a / v[fast]
        h = s.robot_heading + act[:, 0].astype(np.float64) * turn
        h = np.where(h >= math.pi, h - 2 * math.pi, np.where(h < -math.pi, h + 2 * math.pi, h))
        s.robot_heading[:] = h
        r = sc.robots.radius
        s.robot_xy[:, 0] = np.clip(s.robot_xy[:, 0] + v * np.cos(h), r, sc.world.width - r)
        s.robot_xy[:, 1] = np.clip(s.robot_xy[:, 1] + v * np.sin(h), r, sc.world.height - r)
        if ageing:
            power = vmax.copy()
            for _ in range(sc.robots.metabolic_exponent - 1):
                power *= vmax
            s.robot_life[:] -= 1.0 + sc.robots.metabolic_cost * power
        s.robot_age[:] += 1

    def _contacts(self, ph: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fruit eaten and the two ways to die, all pairs at once; fruit goes to the
        lowest slot touching it. Returns (fruit taken, robots that ate, robots dead)."""
        sc, s = self.scenario, self.state
        r = sc.robots.radius
        mines = s.mine_xy[: s.mine_count]
        fruit = s.fruit_xy[: s.fruit_count]
        on_mine = self._touching(s.robot_xy, mines, r + sc.mines.radius).any(axis=1)
        touch_fruit = self._touching(s.robot_xy, fruit, r + sc.fruit.radius) & ~on_mine[:, None]
        taken = np.zeros(len(fruit), bool)
        ate = np.zeros(len(s.robot_xy), bool)
        bonus = int(self._schedule.life_bonus[ph])
        for i in np.flatnonzero(touch_fruit.any(axis=1)):
            free = np.flatnonzero(touch_fruit[i] & ~taken)
            if len(free):
                taken[free[0]] = True
                ate[i] = True
        s.robot_fruit[ate] += 1
        s.robot_life[ate] = np.minimum(s.robot_life[ate] + bonus, sc.robots.max_life)
        s.counters[FRUIT_EATEN] += int(ate.sum())
        s.counters[MINE_DEATHS] += int(on_mine.sum())
        s.robot_life[on_mine] = 0
        ageing = bool(self._schedule.ageing[ph])
        max_age = int(self._schedule.max_age[ph])
        too_old = (s.robot_age >= max_age) if max_age > 0 else np.zeros(len(ate), bool)
        aged = ~on_mine & ageing & ((s.robot_life <= 0) | too_old)
        s.robot_life[aged] = 0
        s.counters[AGE_DEATHS] += int(aged.sum())
        return taken, ate, on_mine | aged

    def _refill(self, ph: int, ate: np.ndarray, dead: np.ndarray, limit: float) -> None:
        """Robots that ate conceive (with reproduction on); each dead slot, in slot
        order, takes the oldest offspring waiting, else a fresh random robot."""
        s = self.state
        if self._schedule.reproduction[ph]:
            rate = float(self._schedule.mutation_rate[ph])
            sigma = (float(self._schedule.mutation_sigma[ph]),
                     float(self._schedule.speed_sigma[ph]))
            for i in np.flatnonzero(ate):
                self._conceive(i, rate, sigma, limit)
        lifespan = int(self._schedule.lifespan[ph])
        for i in np.flatnonzero(dead):
            if self.nursery:
                self._birth(i, dead, lifespan)
                s.counters[BIRTHS] += 1
            else:
                self._spawn(i, lifespan, limit)
                s.counters[RANDOM_SPAWNS] += 1

    @staticmethod
    def _touching(a, b, reach):
        if len(b) == 0:
            return np.zeros((len(a), 0), bool)
        d = a[:, None, :] - b[None, :, :]
        return (d * d).sum(axis=2) < reach * reach

    def _free_place(self, rad: float) -> np.ndarray:
        sc, s = self.scenario, self.state
        mines = s.mine_xy[: s.mine_count]
        lo = np.array([rad, rad])
        hi = np.array([sc.world.width - rad, sc.world.height - rad])
        for _ in range(256):
            p = self.rng.uniform(lo, hi)
            if not self._touching(p[None], mines, rad + sc.mines.radius).any():
                return p
        return p

    def _near(self, centre: np.ndarray, rad: float) -> np.ndarray:
        """A place at the offspring distance from ``centre`` off mines, else anywhere free."""
        sc, s = self.scenario, self.state
        lo = np.array([rad, rad])
        hi = np.array([sc.world.width - rad, sc.world.height - rad])
        for _ in range(8):
            a = self.rng.uniform(0, 2 * math.pi)
            p = np.clip(centre + sc.evolution.offspring_distance * np.array([math.cos(a),
                                                                             math.sin(a)]), lo, hi)
            if not self._touching(p[None], s.mine_xy[: s.mine_count],
                                  rad + sc.mines.radius).any():
                return p
        return self._free_place(rad)

    def _conceive(self, parent: int | np.integer, rate: float, sigma: tuple[float, float],
                  limit: float) -> None:
        """A copy of ``parent`` waits in the nursery (the oldest makes room), with the
        mutation settings in force now (``sigma``: the brain's genes', the speed
        gene's); it is mutated at birth."""
        s = self.state
        if self.scenario.evolution.nursery == 0:
            s.counters[OFFSPRING_DROPPED] += 1
            return
        if len(self.nursery) == self.scenario.evolution.nursery:
            self.nursery.popleft()
            s.counters[OFFSPRING_DROPPED] += 1
        self.nursery.append((s.genome[parent].copy(), int(s.robot_id[parent]), parent,
                             int(s.robot_lineage[parent]), int(s.robot_generation[parent]) + 1,
                             rate, sigma, limit))

    def _mutate(self, genome: np.ndarray, rate: float, sigma: tuple[float, float],
                limit: float) -> np.ndarray:
        g = genome.astype(np.float64)
        speed = self.scenario.genome_layout.speed
        sigmas = np.full(len(g), sigma[0])
        sigmas[speed] = sigma[1]
        hit = self.rng.uniform(size=len(g)) < rate if rate < 1.0 else np.ones(len(g), bool)
        g = np.where(hit, g + sigmas * self.rng.standard_normal(len(g)), g)
        g[speed] = np.clip(g[speed], 0.0, limit)
        return g.astype(np.float32)

    def _birth(self, j: int | np.integer, dead: np.ndarray, lifespan: int) -> None:
        """Slot j takes the oldest waiting offspring, mutated now, beside its parent if
        it lives."""
        s, sc = self.state, self.scenario
        (genome, parent_id, parent_slot, lineage, generation, rate, sigma,
         limit) = self.nursery.popleft()
        s.genome[j] = self._mutate(genome, rate, sigma, limit)
        if s.robot_id[parent_slot] == parent_id and not dead[parent_slot]:
            s.robot_xy[j] = self._near(s.robot_xy[parent_slot], sc.robots.radius)
        else:
            s.robot_xy[j] = self._free_place(sc.robots.radius)
        self._reset(j, lifespan)
        s.robot_generation[j] = generation
        s.robot_lineage[j] = lineage
        s.robot_parent[j] = parent_id

    def _spawn(self, i: int | np.integer, lifespan: int, limit: float) -> None:
        s, sc = self.state, self.scenario
        s.robot_xy[i] = self._free_place(sc.robots.radius)
        speed = sc.genome_layout.speed
        s.genome[i, :speed] = (sc.brain.init_std * self.rng.standard_normal(
            speed)).astype(np.float32)
        s.genome[i, speed] = min(self.rng.uniform(sc.robots.speed_init_min,
                                               sc.robots.speed_init_max), limit)
        self._reset(i, lifespan)
        s.robot_generation[i] = 0
        s.robot_lineage[i] = s.clock[NEXT_LINEAGE]
        s.clock[NEXT_LINEAGE] += 1
        s.robot_parent[i] = -1

    def _reset(self, i: int | np.integer, lifespan: int) -> None:
        s = self.state
        s.robot_heading[i] = self.rng.uniform(-math.pi, math.pi)
        s.robot_life[i] = lifespan
        s.robot_age[i] = 0
        s.robot_fruit[i] = 0
        s.robot_id[i] = s.clock[NEXT_ID]
        s.clock[NEXT_ID] += 1
