"""The order of one tick, and nothing else.

Every kernel takes the world state ``s`` (a named tuple of arrays), the scalar
settings ``p`` (:class:`Params`), the phase schedule ``sch`` and the scratch space
``work``, and writes in place. Robots are processed in slot order wherever their
actions interact (who eats a fruit first, who is born where), so results never
depend on anything but the state. What each stage does lives in its own file:
``vision``, ``brain``, ``motion``, ``life`` (contacts, deaths, offspring, births),
``placement`` (free places, phases, the initial world), ``grid``, ``rng``.
"""

from __future__ import annotations

from numba import prange

from evosim.kernels._jit import entry, inlined, kernel, threaded_kernel
from evosim.kernels.brain import think_rows
from evosim.kernels.decode import decode_all, decode_slots
from evosim.kernels.grid import build_grids
from evosim.kernels.layout import NEXT_ID, STEP
from evosim.kernels.life import (
    EVENTS_PER_ROBOT_STEP,
    contacts_all,
    log_deaths,
    log_refills,
    refill_slots,
    reproduce_all,
    touch_rows,
)
from evosim.kernels.motion import move_mines, move_rows
from evosim.kernels.placement import apply_phase, init_world, phase_index, regrow_fruit
from evosim.kernels.vision import sense_all


@inlined
def act_all(limit, s, p, work):
    """Every robot thinks on what it sensed, moves, and finds what it touches, in T =
    ``work.hid.shape[0]`` chunks of rows (on threads in the threaded kernels): a
    robot's brain, move and touch read and write only its own rows (and the mines and
    fruit, which stay put until the contacts), so the chunks are independent."""
    N = s.robot_xy.shape[0]
    T = work.hid.shape[0]
    for row in prange(T):
        i0 = row * N // T
        i1 = (row + 1) * N // T
        think_rows(i0, i1, row, s, p, work)
        move_rows(i0, i1, limit, s, p, work)
        touch_rows(i0, i1, s, p, work)


@inlined
def _tick(s, p, sch, work, ev):
    """Advance the world by one tick; its deaths and refills go to ``ev``. Vision,
    brains, moves and touches run over ``work.hid.shape[0]`` chunks of robots (in
    parallel in the threaded kernels); everything else runs in slot order on one
    thread."""
    key = s.rng_key[0]
    step = s.clock[STEP]
    ph = phase_index(sch, step)
    apply_phase(ph, key, step, s, p, sch)
    limit = sch.speed_limit[ph]
    if p.mine_speed > 0.0:
        move_mines(s, p)
    build_grids(s, p, work)

    # Sense and think on the state at the start of the tick, then act.
    sense_all(s, p, work)
    act_all(limit, s, p, work)
    contacts_all(sch.life_bonus[ph], sch.ageing[ph], sch.max_age[ph], s, p, work)
    logging = ev.rows.shape[0] > 0  # someone asked for events (World.step(events=True))
    if logging:
        log_deaths(ev, step, s, work)
    if sch.reproduction[ph]:
        reproduce_all(step, s, work)  # offspring are mutated at birth, in refill_slots
    first_new_id = s.clock[NEXT_ID]
    n_placed = refill_slots(sch.lifespan[ph], limit, key, step, s, p, sch, work)
    decode_slots(work.placed, n_placed, s, p, work)  # new genomes, decoded once
    if logging:
        log_refills(ev, n_placed, first_new_id, step, s, work)
    regrow_fruit(n_placed, key, step, s, p, work)

    s.clock[STEP] = step + 1


@kernel
def step_once(s, p, sch, work, ev):
    """Advance the world by one tick, on one thread."""
    _tick(s, p, sch, work, ev)


@entry
def run_steps(s, p, sch, work, ev, n):
    """Advance the world by up to n ticks, on one thread; returns how many it ran.

    With an event buffer of capacity 0 it runs all n. Otherwise it stops before a
    tick that might not fit (fewer than EVENTS_PER_ROBOT_STEP x robots rows free),
    so the caller drains the buffer and calls again; the results do not depend on
    where the calls split.
    """
    room = EVENTS_PER_ROBOT_STEP * s.robot_xy.shape[0]
    cap = ev.rows.shape[0]
    for done in range(n):
        if cap > 0 and cap - ev.used[0] < room:
            return done
        step_once(s, p, sch, work, ev)
    return n


@entry
def prepare(s, p, sch, work, build):
    """Python's way into a world before it steps: with ``build``, fill a zeroed state
    with step 0 (:func:`init_world`); then decode every robot's genome into its brain
    (:func:`decode_all`: after building, loading or setting genomes). One entry for
    both, because each entry kernel compiles a CPython wrapper that unboxes the
    state's tuples of arrays, and those wrappers are much of a cold start."""
    if build:
        init_world(s, p, sch, work)
    decode_all(s, p, work)


@threaded_kernel
def step_once_threaded(s, p, sch, work, ev):
    """One tick with vision, brains, moves and touches on Numba's threads
    (``numba.set_num_threads``); bit-identical to :func:`step_once` (each robot's
    rows are computed alone)."""
    _tick(s, p, sch, work, ev)


@entry
def run_steps_threaded(s, p, sch, work, ev, n):
    """:func:`run_steps` with vision, brains, moves and touches on several threads."""
    room = EVENTS_PER_ROBOT_STEP * s.robot_xy.shape[0]
    cap = ev.rows.shape[0]
    for done in range(n):
        if cap > 0 and cap - ev.used[0] < room:
            return done
        step_once_threaded(s, p, sch, work, ev)
    return n
