"""The kernels' arguments built from a scenario: its settings (:class:`Params`), its
phase schedule (:class:`Schedule`) and one world's work arrays (:class:`Scratch`,
allocated by :func:`evosim.kernels.params.allocate_scratch` from the sizes here)."""

from __future__ import annotations

import math

import numpy as np

from evosim import limits
from evosim.kernels.params import Params, Schedule, Scratch, allocate_scratch
from evosim.scenario import OBJECT_KINDS, Scenario
from evosim.scenario.genome import dct_basis

MAX_CELLS = limits.MAX_GRID_CELLS  # grid cells at most (memory), the cell side grows beyond


def make_params(scenario: Scenario) -> Params:
    """Kernel settings of a scenario (angles to radians, grid geometry)."""
    sc = scenario
    chans = sc.vision.channels

    def slot(name: str) -> int:
        return chans.index(name) if name in chans else -1

    w, h = sc.world.width, sc.world.height
    biggest = max(getattr(sc, kind.table).radius for kind in OBJECT_KINDS)
    layout = sc.genome_layout
    brain = layout.decoded  # where the weights think_all reads lie
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
        lateral_accel=float(sc.robots.lateral_accel),
        metabolic_cost=float(sc.robots.metabolic_cost),
        metabolic_exponent=int(sc.robots.metabolic_exponent),
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
        w1=brain.w1,
        b1=brain.b1,
        w2=brain.w2,
        b2=brain.b2,
        speed_gene=layout.speed,
        dct=layout.dct,
        mask=layout.mask,
        n_mask=layout.mask_length,
        flip_rate=float(sc.brain.connection_flip_rate),
        regrowth=float(sc.brain.connection_regrowth),
        initial_connections=float(sc.brain.initial_connections),
        initial_units=sc.brain.initial_units,
        connection_cost=float(sc.brain.connection_cost),
        init_std=float(sc.brain.init_std),
        respawn_same=sc.evolution.respawn == "same_genome",
        offspring_distance=float(sc.evolution.offspring_distance),
        cell=float(cell),
        ncx=math.ceil(w / cell),
        ncy=math.ceil(h / cell),
        sight_radius=max([float(getattr(sc, kind.table).radius) for kind in OBJECT_KINDS
                          if kind.channel in chans], default=0.0),
    )


def make_schedule(scenario: Scenario) -> Schedule:
    """The scenario's phases as kernel arrays: row i holds from ``step[i]`` on."""
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
        speed_sigma=col("speed_sigma", np.float64),
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
    R = scenario.vision.rays
    return allocate_scratch(
        robots=scenario.robots.count,
        threads=threads,
        rays=R,
        channels=len(scenario.vision.channels),
        hidden=scenario.brain.hidden,
        cells=params.ncx * params.ncy,
        mines=scenario.mine_capacity,
        fruit=scenario.fruit_capacity,
        weights=scenario.genome_layout.decoded.speed,
        ray_offsets=ray_offsets(scenario),
        dct_basis=dct_basis(R, params.dct),
    )
