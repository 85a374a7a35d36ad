"""Brains as PyTorch modules: exact conversion both ways, and safe brain files.

Optional: needs the CPU build of PyTorch (``pip install torch==2.13.0 --index-url
https://download.pytorch.org/whl/cpu``), then the ``torch`` extra from the checkout
(``pip install -e '.[torch]'``). Nothing else in evosim imports torch.

A brain is ``BrainModule``, an ``nn.Sequential(Linear(R*C, H), Tanh(),
Linear(H, 2), ActionHead())`` whose output is (turn = tanh(z0), throttle =
sigmoid(z1)), exactly what ``World.actions()`` gives. The max-speed gene (the
genome's last gene, not a brain weight) travels with the module as the float32
buffer ``max_speed``, so ``genome -> module -> genome`` is bitwise exact. A plain
``nn.Sequential(nn.Linear(R*C, H), nn.Tanh(), nn.Linear(H, 2))`` has the same
weight names and converts too, with ``max_speed`` passed explicitly.

Brain files (``.pt``) hold plain data only: ``{"format", "schema", "meta",
"state_dict"}`` read back with ``torch.load(..., weights_only=True)``, so a file
can never run code.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from evosim._atomic import atomic_write_with
from evosim.errors import BrainFileError, EvosimError, OptionalDependencyError
from evosim.scenario import Scenario

try:
    import torch
    from torch import nn
except ImportError:
    raise OptionalDependencyError(
        "evosim.torch needs PyTorch, which is not installed; install the CPU build with "
        "`pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu` "
        "(see the README, \"Install\")"
    ) from None

BRAIN_FORMAT = "evosim-brain"
BRAIN_SCHEMA = 1
SPEED_GENE_NOTE = (
    "max_speed buffer = the genome's last gene (units per step); clipped to "
    "[0, robots.speed_limit] when put into a world"
)

__all__ = [
    "BRAIN_FORMAT",
    "ActionHead",
    "BrainModule",
    "best_slot",
    "export_brain",
    "genome_from_module",
    "load_brain",
    "policy_module",
    "save_brain",
    "seed_genomes",
]


class ActionHead(nn.Module):
    """[B, 2] pre-activations -> (turn = tanh(z0) in [-1, 1], throttle = sigmoid(z1) in [0, 1])."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.stack((torch.tanh(z[..., 0]), torch.sigmoid(z[..., 1])), dim=-1)


class BrainModule(nn.Sequential):
    """One robot's brain: float32 ``[B, rays*channels]`` observations -> ``[B, 2]`` actions.

    Inputs are a robot's observation ``[rays, channels]`` flattened ray-major
    (index ``k*C + c``), i.e. ``world.observations().reshape(N, -1)``. Layers
    ``0`` (Linear R*C -> H), ``1`` (Tanh), ``2`` (Linear H -> 2), ``3`` (ActionHead);
    buffer ``max_speed`` (float32 scalar) carries the max-speed gene.
    """

    def __init__(self, n_inputs: int, hidden: int, max_speed: float = 0.0) -> None:
        super().__init__(nn.Linear(n_inputs, hidden), nn.Tanh(), nn.Linear(hidden, 2),
                         ActionHead())
        self.register_buffer("max_speed", torch.tensor(max_speed, dtype=torch.float32))


def _shapes(scenario: Scenario) -> dict[str, tuple[int, ...]]:
    """Expected weight shapes (PyTorch ``[out, in]`` convention) for a scenario."""
    H, n_in = scenario.brain.hidden, scenario.n_inputs
    return {"0.weight": (H, n_in), "0.bias": (H,), "2.weight": (2, H), "2.bias": (2,)}


def _describe_brain(scenario: Scenario) -> str:
    v = scenario.vision
    return (f"{v.rays} rays x {len(v.channels)} channels {list(v.channels)} = "
            f"{scenario.n_inputs} inputs, {scenario.brain.hidden} hidden")


def policy_module(scenario: Scenario, genome: np.ndarray) -> BrainModule:
    """The brain of ``genome`` (float32 ``[genome_length]``) as a float32 module.

    ``module(torch.from_numpy(obs.reshape(B, -1)))`` equals ``World.actions()``
    for that robot within 1e-5 (the engine sums in float64).
    """
    g = np.asarray(genome)
    if g.shape != (scenario.genome_length,):
        raise EvosimError(f"genome: expected shape [{scenario.genome_length}] for "
                          f"{_describe_brain(scenario)}, got {list(g.shape)}")
    g = g.astype(np.float32, copy=False)
    module = BrainModule(scenario.n_inputs, scenario.brain.hidden)
    state: dict[str, torch.Tensor] = {}
    at = 0
    for name, shape in _shapes(scenario).items():
        size = int(np.prod(shape))
        state[name] = torch.from_numpy(g[at:at + size].reshape(shape).copy())
        at += size
    state["max_speed"] = torch.from_numpy(g[-1:].reshape(()).copy())
    module.load_state_dict(state)
    return module


def genome_from_module(scenario: Scenario, module: nn.Module,
                       max_speed: float | None = None) -> np.ndarray:
    """The genome (float32 ``[genome_length]``) of a brain module; inverse of :func:`policy_module`.

    Brain genes come from the weights ``0.weight``, ``0.bias``, ``2.weight``,
    ``2.bias``; the last gene from ``max_speed`` if given, else from the
    module's ``max_speed`` buffer (a plain ``nn.Sequential`` has none: pass it).
    """
    return _genome_from_state(scenario, dict(module.state_dict()), max_speed, "module")


def _genome_from_state(scenario: Scenario, state: dict[str, Any], max_speed: float | None,
                       label: str) -> np.ndarray:
    parts = []
    for name, shape in _shapes(scenario).items():
        t = state.get(name)
        if not isinstance(t, torch.Tensor):
            raise BrainFileError(f"{label}: no weight {name!r} (expected layers 0 and 2 "
                                 f"of Linear({scenario.n_inputs}, {scenario.brain.hidden}), "
                                 f"Tanh, Linear({scenario.brain.hidden}, 2))")
        if tuple(t.shape) != shape:
            raise BrainFileError(f"{label}: {name}: expected shape {list(shape)} for "
                                 f"{_describe_brain(scenario)}, got {list(t.shape)}")
        parts.append(t.detach().cpu().to(torch.float32).numpy().reshape(-1))
    if max_speed is None:
        speed = state.get("max_speed")
        if not isinstance(speed, torch.Tensor) or speed.numel() != 1:
            raise BrainFileError(f"{label}: no 'max_speed' buffer; pass max_speed= explicitly")
        parts.append(speed.detach().cpu().to(torch.float32).numpy().reshape(1))
    else:
        parts.append(np.array([max_speed], np.float32))
    genome = np.concatenate(parts).astype(np.float32, copy=False)
    if not np.isfinite(genome).all():
        raise BrainFileError(f"{label}: expected finite weights")
    return genome


# ---------------------------------------------------------------- brain files


def brain_metadata(scenario: Scenario) -> dict[str, Any]:
    """What a brain file records about the brain's shape and the speed gene."""
    from evosim import __version__

    return {
        "rays": scenario.vision.rays,
        "channels": list(scenario.vision.channels),
        "n_inputs": scenario.n_inputs,
        "hidden": scenario.brain.hidden,
        "outputs": ["turn", "throttle"],
        "speed_gene": SPEED_GENE_NOTE,
        "evosim_version": __version__,
    }


def save_brain(path: str | Path, scenario: Scenario, module: nn.Module,
               source: dict[str, Any] | None = None) -> Path:
    """Write ``module`` (shaped for ``scenario``) as a brain file, atomically.

    ``source`` is free-form provenance (checkpoint, slot, step...), plain data only.
    """
    path = Path(path)
    genome = genome_from_module(scenario, module)  # checks the shapes
    meta = brain_metadata(scenario)
    if source:
        meta["source"] = source
    payload = {
        "format": BRAIN_FORMAT,
        "schema": BRAIN_SCHEMA,
        "meta": meta,
        "state_dict": dict(policy_module(scenario, genome).state_dict()),
    }
    atomic_write_with(path, lambda handle: torch.save(payload, handle))
    return path


def read_brain_file(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(metadata, state_dict) of a brain file; BrainFileError if it is not one.

    Uses ``weights_only=True``: a file holding anything but tensors and plain
    data is refused, never executed.
    """
    path = Path(path)
    if not path.is_file():
        raise BrainFileError(f"{path}: no such brain file")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles it then refuses
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for refused or corrupt files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in str(exc) or "Weights only" in str(exc):
            reason = "it holds objects other than tensors and plain data, refused for safety"
        raise BrainFileError(f"{path}: not a readable evosim brain file ({reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != BRAIN_FORMAT:
        raise BrainFileError(f"{path}: not an evosim brain file (format is not "
                             f"{BRAIN_FORMAT!r}; write one with `evosim export` or "
                             f"evosim.torch.save_brain)")
    if payload.get("schema") != BRAIN_SCHEMA:
        raise BrainFileError(f"{path}: schema: expected {BRAIN_SCHEMA}, got "
                             f"{payload.get('schema')!r}")
    meta, state = payload.get("meta"), payload.get("state_dict")
    if not isinstance(meta, dict) or not isinstance(state, dict):
        raise BrainFileError(f"{path}: brain file lacks 'meta' or 'state_dict'")
    return meta, state


def _check_fits(path: Path, meta: dict[str, Any], scenario: Scenario) -> None:
    want = brain_metadata(scenario)
    got = {k: meta.get(k) for k in ("rays", "channels", "hidden")}
    if any(got[k] != want[k] for k in got):
        raise BrainFileError(
            f"{path}: brain shape does not fit the scenario: file has {got['rays']} rays, "
            f"channels {got['channels']}, {got['hidden']} hidden; scenario "
            f"{scenario.name!r} expects {want['rays']} rays, channels {want['channels']}, "
            f"{want['hidden']} hidden (change [vision]/[brain] to match)"
        )


def load_brain_genome(path: str | Path, scenario: Scenario) -> np.ndarray:
    """The genome (float32 ``[genome_length]``) stored in a brain file that fits ``scenario``."""
    path = Path(path)
    meta, state = read_brain_file(path)
    _check_fits(path, meta, scenario)
    return _genome_from_state(scenario, state, None, str(path))


def load_brain(path: str | Path, scenario: Scenario) -> BrainModule:
    """A brain file as a module; BrainFileError if it does not fit ``scenario``."""
    return policy_module(scenario, load_brain_genome(path, scenario))


# ---------------------------------------------------------------- seeding and export


def seed_genomes(scenario: Scenario, seed: int) -> np.ndarray:
    """float32 [N, G]: the population of ``[evolution] seed_brain`` for a world seed.

    Slot 0 holds the brain unchanged; every other slot a mutated copy, with the
    scenario's mutation rate and sigma at step 0 applied to every gene as births
    do (the speed gene too). Noise comes from
    ``default_rng(SeedSequence([seed, 1]))``: same seed, same population.
    """
    path = scenario.evolution.seed_brain
    if path is None:
        raise EvosimError("seed_genomes: the scenario has no [evolution] seed_brain")
    genome = load_brain_genome(path, scenario).astype(np.float64)
    at_start = scenario.settings_at(0)
    rate, sigma = float(at_start["mutation_rate"]), float(at_start["mutation_sigma"])
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    N, G = scenario.robots.count, scenario.genome_length
    mutate = rng.random((N, G)) < rate
    noise = rng.standard_normal((N, G)) * sigma
    out = genome[None, :] + np.where(mutate, noise, 0.0)
    out[0] = genome
    out[:, -1] = np.clip(out[:, -1], 0.0, scenario.robots.speed_limit)
    return out.astype(np.float32)


def best_slot(state: Any) -> int:
    """The slot of the "best" robot of a world state.

    Best = the robot whose lineage has eaten the most fruit, counted over the
    lineage's robots alive now (sum of ``robot_fruit`` per ``robot_lineage``);
    ties go to the robot that ate the most fruit itself, then to the lowest slot.
    """
    lineage = np.asarray(state.robot_lineage)
    fruit = np.asarray(state.robot_fruit)
    _, inverse = np.unique(lineage, return_inverse=True)
    lineage_fruit = np.bincount(inverse, weights=fruit).astype(np.int64)[inverse]
    # lexsort: last key is primary; -slot so that the lowest slot wins a tie.
    order = np.lexsort((-np.arange(len(fruit)), fruit, lineage_fruit))
    return int(order[-1])


def export_brain(checkpoint: str | Path, out: str | Path, slot: int | None = None,
                 overwrite: bool = False) -> dict[str, Any]:
    """Write the brain of robot ``slot`` (None: :func:`best_slot`) of a checkpoint to ``out``.

    Returns the ``source`` record stored in the file (checkpoint, slot, robot id...).
    """
    from evosim.world.world import World

    out = Path(out)
    if out.exists() and not overwrite:
        raise BrainFileError(f"{out}: already exists (use --force to replace it)")
    world = World.load(checkpoint)
    s = world.state
    N = s.robot_xy.shape[0]
    if slot is None:
        chosen = best_slot(s)
    elif 0 <= slot < N:
        chosen = slot
    else:
        raise EvosimError(f"--slot: expected a slot from 0 to {N - 1}, got {slot}")
    lineage = s.robot_lineage[chosen]
    source = {
        "checkpoint": str(checkpoint),
        "scenario": world.scenario.name,
        "seed": world.seed,
        "step": world.step_count,
        "slot": chosen,
        "chosen_by": "slot" if slot is not None else "best",
        "robot_id": int(s.robot_id[chosen]),
        "lineage": int(lineage),
        "generation": int(s.robot_generation[chosen]),
        "fruit": int(s.robot_fruit[chosen]),
        "lineage_fruit": int(s.robot_fruit[s.robot_lineage == lineage].sum()),
    }
    module = policy_module(world.scenario, np.asarray(s.genome[chosen]))
    save_brain(out, world.scenario, module, source)
    return source


def export_command(args: Any) -> int:
    """``evosim export``: parsed arguments -> brain file, one summary line."""
    src = export_brain(args.checkpoint, args.out, None if args.best else args.slot,
                       overwrite=args.force)
    print(f"wrote {args.out}: slot {src['slot']} ({src['chosen_by']}) of {args.checkpoint} "
          f"at step {src['step']}: robot {src['robot_id']}, generation {src['generation']}, "
          f"fruit {src['fruit']}, lineage {src['lineage']} fruit {src['lineage_fruit']}")
    return 0
