"""Life: contacts and the two ways to die, the nursery, births and mutation."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from evosim.kernels._jit import entry, kernel
from evosim.kernels.grid import cell_box, row_items
from evosim.kernels.layout import (
    AGE_DEATHS,
    BIRTHS,
    DEATH_AGE,
    DEATH_MINE,
    DEATH_NONE,
    FINAL_GENOME,
    FRUIT_EATEN,
    MASK_ON,
    MINE_DEATHS,
    NEXT_ID,
    NURSERY_HEAD,
    NURSERY_SIZE,
    OFFSPRING_DROPPED,
    RANDOM_SPAWNS,
    S_MUTATE,
    S_MUTATE_FLIP,
    S_MUTATE_NOISE,
    S_OFFSPRING_POS,
    S_SPAWN_HEADING,
    TWO_PI,
)
from evosim.kernels.placement import (
    NO_SKIP,
    grid_clear,
    phase_index,
    random_robot_spot,
    robot_spot_free,
    spawn_robot,
)
from evosim.kernels.rng import base_normal_pair, base_uniform, stream_base, uniform

OFFSPRING_TRIES = 8  # tries for a free place beside the parent before a random one

# Event kinds in an EventBuffer (``EV_*``); evosim.evolve.events names them.
EV_MINE = 1  # died touching a mine
EV_AGE = 2  # died of age (life ran out or max_age reached)
EV_BIRTH = 3  # an offspring from the nursery took a freed slot
EV_SPAWN = 4  # a fresh random robot (or, with same-genome respawn, the slot's genome) took it
EV_INITIAL = 5  # a robot of the initial world (written by Python, never by a kernel)
# Columns of EventBuffer.rows: the step at which the event shows in the state (the
# tick from t to t+1 logs t+1, like metrics rows), kind, slot, robot id, parent id
# (-1 for none), lineage, generation.
EVENT_COLUMNS = ("step", "kind", "slot", "id", "parent", "lineage", "generation")
EVENTS_PER_ROBOT_STEP = 2  # at most one death and one refill per slot per tick


class EventBuffer(NamedTuple):
    """A bounded buffer that a tick appends its deaths, births and spawns to.

    ``rows`` int64 [cap, len(EVENT_COLUMNS)], ``xy`` float64 [cap, 2] (where it
    happened, world units), ``used`` int64 [1]. A buffer of capacity 0 records
    nothing (no cost beyond one comparison per tick): that is how a world steps
    when nobody asks for events. ``run_steps`` stops early when fewer than
    ``EVENTS_PER_ROBOT_STEP`` x robots rows are free, so nothing is ever lost.

    The tick's kernels do not know about events: :func:`log_deaths` reads the deaths
    from ``work.dead`` after the contacts, :func:`log_refills` the refilled slots
    from ``work.placed`` after the refills, so the per-robot loops stay as they are
    and a world stepped without events runs the same code as before.
    """

    rows: np.ndarray
    xy: np.ndarray
    used: np.ndarray


def no_events() -> EventBuffer:
    """The empty buffer: steps with it record nothing."""
    return EventBuffer(np.zeros((0, len(EVENT_COLUMNS)), np.int64), np.zeros((0, 2)),
                       np.zeros(1, np.int64))


@kernel
def _log(ev, kind, i, step, s):
    """Append robot i's event (its id, parent, lineage, generation and place now)."""
    n = ev.used[0]
    if n >= ev.rows.shape[0]:
        return
    r = ev.rows[n]
    r[0] = step + 1
    r[1] = kind
    r[2] = i
    r[3] = s.robot_id[i]
    r[4] = s.robot_parent[i]
    r[5] = s.robot_lineage[i]
    r[6] = s.robot_generation[i]
    ev.xy[n, 0] = s.robot_xy[i, 0]
    ev.xy[n, 1] = s.robot_xy[i, 1]
    ev.used[0] = n + 1


@kernel
def log_deaths(ev, step, s, work):
    """After the contacts: every robot that died this tick, in slot order (EV_MINE or
    EV_AGE), with its place of death."""
    dead = work.dead
    for i in range(dead.shape[0]):
        if dead[i] == DEATH_MINE:
            _log(ev, EV_MINE, i, step, s)
        elif dead[i] == DEATH_AGE:
            _log(ev, EV_AGE, i, step, s)


@kernel
def log_refills(ev, n_placed, first_new_id, step, s, work):
    """After the refills: every slot refilled this tick, in slot order. A robot with an
    id from this tick (``first_new_id`` on) and a parent is an offspring (EV_BIRTH);
    any other (a fresh random robot, or a same-genome respawn) is EV_SPAWN."""
    for q in range(n_placed):
        j = work.placed[q]
        born = s.robot_id[j] >= first_new_id and s.robot_parent[j] >= 0
        _log(ev, EV_BIRTH if born else EV_SPAWN, j, step, s)


@kernel
def _first_fruit(x, y, fruit_xy, start, items, taken, p):
    """Lowest-index untaken active fruit touching a robot at (x, y), or -1."""
    reach = p.robot_radius + p.fruit_radius
    r2 = reach * reach
    best = -1
    cx0, cx1, cy0, cy1 = cell_box(x - reach, x + reach, y - reach,
                                  y + reach, p.cell, p.ncx, p.ncy)
    for cy in range(cy0, cy1 + 1):
        q_lo, q_hi = row_items(start, cy, cx0, cx1, p.ncx)
        for q in range(q_lo, q_hi):
            f = items[q]
            if taken[f] or (best >= 0 and f > best):
                continue
            dx = fruit_xy[f, 0] - x
            dy = fruit_xy[f, 1] - y
            if dx * dx + dy * dy < r2:
                best = f
    return best


@kernel
def touch_rows(i0, i1, s, p, work):
    """What robots ``i0..i1-1`` touch where they stand after their move, before any
    fruit is eaten: ``work.on_mine[i]`` (1 if an active mine) and
    ``work.on_fruit[i]`` (the lowest-index active fruit, or -1). Reads positions
    only, so chunks of robots run on separate threads; :func:`contacts_all` then
    settles them in slot order."""
    mine_reach = p.robot_radius + p.mine_radius
    for i in range(i0, i1):
        x = s.robot_xy[i, 0]
        y = s.robot_xy[i, 1]
        work.on_mine[i] = 0 if grid_clear(x, y, mine_reach, mine_reach, s.mine_xy,
                                          work.mine_start, work.mine_items, NO_SKIP, p) else 1
        work.on_fruit[i] = _first_fruit(x, y, s.fruit_xy, work.fruit_start, work.fruit_items,
                                        work.none_taken, p)


@kernel
def contacts_all(bonus, ageing, max_age, s, p, work):
    """Life and contacts, in slot order: a mine kills; else the first fruit touched
    is eaten (life + bonus, capped at max_life). With ``ageing``, life runs down
    by 1 + c x s^k per tick (c ``p.metabolic_cost``, k ``p.metabolic_exponent``, s its
    top speed, the speed gene capped at the speed limit: a body built for speed burns
    more, moving or not; s^k is a product of k factors s, in that order),
    and a robot dies of age when it reaches 0 or when its age reaches ``max_age``
    (0: no maximum). These are the only two ways to die.

    With ``p.connection_cost`` c > 0 (evolved connections), ageing also drains c per
    active connection per tick, in whole steps of life: the tick that takes a robot
    with n active connections from age a to a + 1 drains
    floor((a + 1) c n) - floor(a c n), so that its age alone carries the fractions
    (no extra state) and a robot that aged through k such ticks from birth lost
    floor(k c n).

    What each robot touches comes from :func:`touch_rows` (run for every robot after
    the moves): the lowest-index fruit it touches is its fruit unless a robot
    before it in slot order ate that one this tick; then the search runs again,
    skipping the fruit taken (the lowest-index untaken fruit, as if searched here).
    """
    robot_xy = s.robot_xy
    life = s.robot_life
    age = s.robot_age
    fruit_count = s.robot_fruit
    counters = s.counters
    taken = work.taken
    dead = work.dead
    ate = work.ate
    for f in range(taken.shape[0]):
        taken[f] = 0
    for i in range(robot_xy.shape[0]):
        dead[i] = DEATH_NONE
        ate[i] = 0
        if ageing:
            life[i] -= 1.0 + p.metabolic_cost * speed_power(work.speed[i], p.metabolic_exponent)
            if p.connection_cost > 0.0:
                c = p.connection_cost * np.float64(work.active[i])
                a = np.float64(age[i])
                life[i] -= np.int64(math.floor((a + 1.0) * c) - math.floor(a * c))
        age[i] += 1
        if work.on_mine[i]:
            dead[i] = DEATH_MINE
            life[i] = 0
            counters[MINE_DEATHS] += 1
            continue
        f = work.on_fruit[i]
        if f >= 0 and taken[f]:
            f = _first_fruit(robot_xy[i, 0], robot_xy[i, 1], s.fruit_xy, work.fruit_start,
                             work.fruit_items, taken, p)
        if f >= 0:
            taken[f] = 1
            ate[i] = 1
            fruit_count[i] += 1
            counters[FRUIT_EATEN] += 1
            life[i] = min(life[i] + bonus, p.max_life)
        if ageing and (life[i] <= 0 or (max_age > 0 and age[i] >= max_age)):
            dead[i] = DEATH_AGE
            life[i] = 0
            counters[AGE_DEATHS] += 1


@kernel
def speed_power(v, k):
    """v^k for an integer k >= 1, as the product v x v x ... x v (k factors, left to
    right), so that the NumPy baseline computes the same float64 bit for bit."""
    out = v
    for _ in range(k - 1):
        out *= v
    return out


@entry
def mutate_genome(src, dst, rate, sigma, limit, key, step, slot, mask, n_mask, flip_rate,
                  regrowth, speed_sigma):
    """The one mutation operator: ``dst`` = ``src`` plus Gaussian noise, and flips of
    its connection mask.

    Each gene gets N(0, sigma) noise with probability ``rate`` (every gene when
    ``rate`` >= 1), except the last gene, the max-speed gene, which gets
    N(0, ``speed_sigma``) noise and is then clipped to [0, ``limit``]. The ``n_mask``
    genes of the connection mask from ``mask`` on (none in dense brains) never get
    noise: an active one (1.0) is pruned with probability ``flip_rate``, a pruned one
    (0.0) grows back with ``flip_rate * regrowth``. Draws come from the streams (key,
    step, S_MUTATE_NOISE / S_MUTATE / S_MUTATE_FLIP, slot); src and dst are float32
    [G] rows and may not overlap.
    """
    G = src.shape[0]
    noise = stream_base(key, step, S_MUTATE_NOISE, slot)
    coin = stream_base(key, step, S_MUTATE, slot)
    z1 = 0.0
    d = 0
    for q in range(G):
        # Normals come in pairs: gene 2m takes the first, 2m+1 the second.
        if q % 2 == 0:
            z0, z1, d = base_normal_pair(noise, d)
            z = z0
        else:
            z = z1
        if mask <= q < mask + n_mask:
            continue  # the mask: flipped below, never noised
        v = np.float64(src[q])
        if rate >= 1.0 or base_uniform(coin, q) < rate:
            v += (speed_sigma if q == G - 1 else sigma) * z
        if q == G - 1:
            v = min(max(v, 0.0), limit)
        dst[q] = np.float32(v)
    if n_mask > 0:
        flip = stream_base(key, step, S_MUTATE_FLIP, slot)
        for j in range(n_mask):
            on = src[mask + j] > MASK_ON
            if base_uniform(flip, j) < (flip_rate if on else flip_rate * regrowth):
                on = not on
            dst[mask + j] = np.float32(1.0) if on else np.float32(0.0)


@kernel
def conceive(parent, step, s):
    """A fruit eater's offspring joins the nursery, a bounded queue of offspring
    waiting for a free slot. When the nursery is full the oldest waiting offspring
    makes room (counted in ``offspring_dropped``); a nursery of size 0 drops every
    offspring that finds no slot in its own step.

    The nursery keeps the parent's genome as it is and the conception ``step``; the
    offspring is mutated at birth (:func:`give_birth`) with the draws of its
    conception, so that the many offspring pushed out of a full nursery unborn cost
    a copy, not a mutation, and results are as if mutated at conception.
    """
    K = s.nursery_genome.shape[0]
    if K == 0:
        s.counters[OFFSPRING_DROPPED] += 1
        return
    head = s.clock[NURSERY_HEAD]
    size = s.clock[NURSERY_SIZE]
    if size == K:
        head = (head + 1) % K
        size -= 1
        s.counters[OFFSPRING_DROPPED] += 1
    q = (head + size) % K
    for g in range(s.genome.shape[1]):
        s.nursery_genome[q, g] = s.genome[parent, g]
    s.nursery_step[q] = step
    s.nursery_parent[q] = s.robot_id[parent]
    s.nursery_parent_slot[q] = parent
    s.nursery_lineage[q] = s.robot_lineage[parent]
    s.nursery_generation[q] = s.robot_generation[parent] + 1
    s.clock[NURSERY_HEAD] = head
    s.clock[NURSERY_SIZE] = size + 1


@kernel
def _born_genome(q, dst, key, s, p, sch):
    """``dst`` (float32 [G]) = the genome nursery entry q is born with: its parent's
    genome mutated with the draws of its conception, or, for a ``FINAL_GENOME``
    entry, its genome as it is."""
    conceived = s.nursery_step[q]
    if conceived == FINAL_GENOME:
        for g in range(dst.shape[0]):
            dst[g] = s.nursery_genome[q, g]
        return
    ph = phase_index(sch, conceived)
    mutate_genome(s.nursery_genome[q], dst, sch.mutation_rate[ph], sch.mutation_sigma[ph],
                  sch.speed_limit[ph], key, conceived, s.nursery_parent_slot[q], p.mask,
                  p.n_mask, p.flip_rate, p.regrowth, sch.speed_sigma[ph])


@entry
def offspring_genomes(s, p, sch, out):
    """``out`` float32 [K, G]: row q = the genome nursery entry q is born with (or was,
    or would have been, for an entry born or dropped since): what the nursery held
    before offspring were mutated at birth. Reads ``s`` only."""
    key = s.rng_key[0]
    for q in range(out.shape[0]):
        _born_genome(q, out[q], key, s, p, sch)


@kernel
def give_birth(j, lifespan, key, step, s, p, sch, work):
    """Slot j, freed by a death this tick, takes the oldest waiting offspring.

    Its genome is the parent's genome kept in the nursery, mutated now by
    :func:`mutate_genome` with the draws of its conception: the key, the conception
    step ``nursery_step``, the parent's slot, and the mutation rate, sigma and speed
    limit of the phase in force at that step; so it is born exactly as if mutated at
    conception. An entry whose step is ``FINAL_GENOME`` (a migrant, already
    mutated) is copied as it is.

    It is placed near its parent when the parent is still alive (the parent's
    slot still holds the parent's id and it did not die this tick), else at a
    random free place.
    """
    K = s.nursery_genome.shape[0]
    q = s.clock[NURSERY_HEAD]
    s.clock[NURSERY_HEAD] = (q + 1) % K
    s.clock[NURSERY_SIZE] -= 1
    _born_genome(q, s.genome[j], key, s, p, sch)
    ps = s.nursery_parent_slot[q]
    r = p.robot_radius
    placed = False
    if s.robot_id[ps] == s.nursery_parent[q] and work.dead[ps] == DEATH_NONE:
        px = s.robot_xy[ps, 0]
        py = s.robot_xy[ps, 1]
        for a in range(OFFSPRING_TRIES):
            ang = uniform(key, step, S_OFFSPRING_POS, j, a) * TWO_PI
            x = min(max(px + p.offspring_distance * math.cos(ang), r), p.width - r)
            y = min(max(py + p.offspring_distance * math.sin(ang), r), p.height - r)
            if robot_spot_free(x, y, s, p, work, strict=True):
                s.robot_xy[j, 0] = x
                s.robot_xy[j, 1] = y
                placed = True
                break
    if not placed:
        random_robot_spot(j, key, step, s, p, work)
    s.robot_heading[j] = (uniform(key, step, S_SPAWN_HEADING, j, 0) - 0.5) * TWO_PI
    s.robot_life[j] = lifespan
    s.robot_age[j] = 0
    s.robot_fruit[j] = 0
    s.robot_generation[j] = s.nursery_generation[q]
    s.robot_lineage[j] = s.nursery_lineage[q]
    s.robot_parent[j] = s.nursery_parent[q]
    s.robot_id[j] = s.clock[NEXT_ID]
    s.clock[NEXT_ID] += 1


@kernel
def reproduce_all(step, s, work):
    """Each robot that ate this tick, in slot order, conceives an offspring: its genome
    joins the nursery, to be mutated at birth."""
    ate = work.ate
    for i in range(ate.shape[0]):
        if ate[i]:
            conceive(i, step, s)


@kernel
def refill_slots(lifespan, limit, key, step, s, p, sch, work):
    """Every slot freed by a death this tick is refilled, in slot order: by the oldest
    waiting offspring, else by a fresh random robot (or, with same-genome respawn,
    the slot's own genome) at a random free place. No living robot is ever replaced.
    Returns how many were placed (their slots in ``work.placed``)."""
    dead = work.dead
    placed = work.placed
    counters = s.counters
    n_placed = 0
    for i in range(dead.shape[0]):
        if dead[i] == DEATH_NONE:
            continue
        if s.clock[NURSERY_SIZE] > 0:
            give_birth(i, lifespan, key, step, s, p, sch, work)
            counters[BIRTHS] += 1
        else:
            spawn_robot(i, key, step, lifespan, limit, s, p, work,
                        fresh=not p.respawn_same)
            counters[RANDOM_SPAWNS] += 1
        placed[n_placed] = i
        n_placed += 1
    return n_placed

