"""Every hard limit on input, in one place.

The kernels do no bounds checks, so what validation lets through must be safe
to run: finite, small enough for the arena, the grid and float32, and sized so
that a world's arrays fit in memory and its set-up ends in bounded time. The
scenario model, the checkpoint and run-folder readers and the command line all
read these numbers; none is repeated elsewhere. Imports nothing.
"""

from __future__ import annotations

# ---------------------------------------------------------------- scenario values

MAX_ARENA_SIDE = 1_000_000.0
"""World units: the largest arena width or height."""
MIN_LENGTH = 0.01
"""World units: the smallest radius or vision range (denormals would overflow the grid)."""
MAX_RANGE = 2 * MAX_ARENA_SIDE
"""World units: vision range at most (beyond the diagonal of the largest arena)."""
MAX_SPEED = MAX_ARENA_SIDE
"""Units per step: robot speeds and mines.speed at most (float32-safe)."""
MIN_FOV_DEGREES = 0.01
"""Smallest field of view; the largest is below 360 so the end rays never coincide."""
MAX_FOV_DEGREES = 360.0
"""Exclusive upper bound of ``vision.fov_degrees``."""
MAX_RAYS = 256
"""Rays per robot at most (``vision.rays``)."""
MAX_HIDDEN = 1024
"""Hidden units at most (``brain.hidden``)."""
MAX_ROBOTS = 100_000
"""Population slots at most (robots.count)."""
MAX_OBJECTS = 20_000
"""Mines (and, separately, fruit) at most: placement is brute force, O(count^2) at start."""
MAX_LIFE = 10_000_000
"""Steps: lifespan, max_life and life_bonus at most."""
MAX_STEP = 2**62
"""Steps: a phase start, a run's length, a checkpoint's step counter at most (int64-safe)."""
MAX_CONNECTION_COST = 1000.0
"""Life per active connection per step at most (``[brain] connection_cost``; at most
about 2 million connections, so the drain stays far inside int64)."""
MAX_METABOLIC_COST = 1_000_000.0
"""Life per step per unit of (top speed)^metabolic_exponent at most (``[robots]
metabolic_cost``)."""
MAX_METABOLIC_EXPONENT = 8
"""The power of the top speed in the price of speed at most (``[robots]
metabolic_exponent``)."""
MAX_PHASES = 1000
"""``[[phases]]`` entries at most (each step finds its phase by a scan)."""
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
"""A scenario name: a plain file-name-safe word (it names default output files)."""
MAX_TEXT = 4096
"""Characters: descriptions, phase names and paths at most."""
FREE_ROOM_SHARE = 0.5
"""Mines and fruit together may keep at most this share of the arena out of reach."""
MINE_ROOM_SHARE = 1 / 3
"""Mines alone may keep at most this share of the arena out of reach."""

# ---------------------------------------------------------------- memory

STATE_MEMORY_BUDGET = 2 * 1024**3
"""Bytes: a world's state and scratch arrays at most (checked before allocating)."""

MAX_GRID_CELLS = 1 << 22
"""Spatial grid cells at most (memory); beyond it the cell side grows."""

# ---------------------------------------------------------------- commands and files

MAX_WORLDS = 4096
"""``evolve --worlds`` at most (each world has its own folder and worker task)."""
MAX_EVAL_SEEDS = 1000
"""``evaluate --seeds`` at most."""
MAX_EVAL_STEPS = 10_000_000
"""``evaluate --steps`` at most (progress is reported per world)."""
MAX_FRAMES = 1_000_000
"""``record``: video frames (ceil(steps / steps-per-frame)) at most (9 h at 30 fps)."""
MAX_STEPS_PER_FRAME = 100_000
"""``watch``/``record`` --steps-per-frame at most (a frame is drawn within seconds)."""
MAX_FPS = 1000
"""``record``/``watch`` --fps at most."""
MIN_VIDEO_SIDE = 64
"""Pixels: a recorded video's width and height at least."""
MAX_VIDEO_WIDTH = 7680
"""Pixels: a recorded video's width at most (8K UHD)."""
MAX_VIDEO_HEIGHT = 4320
"""Pixels: a recorded video's height at most (8K UHD)."""
MAX_EPISODE_STEPS = 10**9
"""An environment episode's length at most (``max_steps``/``max_cycles``): beyond it is
surely a typo."""
MIN_FRAME_SIDE = 16
"""Pixels: an environment's ``render_size`` width and height at least."""
MAX_FRAME_SIDE = 4096
"""Pixels: an environment's ``render_size`` width and height at most."""
MAX_VECTOR_ENVS = 4096
"""Worlds in one vector environment at most (a classic world holds about 0.3 MB)."""
MAX_METRICS_ROWS = 1_000_000
"""Metrics rows per world (steps / metrics_every) at most: they are held in memory."""
MAX_JSON_BYTES = 64 * 1024**2
"""Bytes: a scenario file, a checkpoint's metadata or a run.json at most."""
MAX_BRAIN_BYTES = 256 * 1024**2
"""Bytes: a brain file unpacked at most (the largest brain, 1024 x 1025 + 2 x 1025 weights,
is about 4 MiB)."""
MAX_ID = 2**62
"""Robot ids, lineage ids and event counters in a checkpoint at most."""

MAX_THREADS = 1024
"""Threads one world may step on (per-thread scratch rows are allocated up front)."""
