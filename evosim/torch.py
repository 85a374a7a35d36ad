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
"state_dict"}``, written here with ``torch.save`` and read by
:mod:`evosim.world.brainfile` (no torch needed, nothing in a file ever runs).
This module is the conversion between genomes and modules; file reading,
``seed_brain`` seeding and the ``best`` selection live in the world layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evosim._atomic import atomic_write_with
from evosim.errors import BrainFileError, EvosimError, OptionalDependencyError
from evosim.scenario import Scenario
from evosim.world.brainfile import (
    BRAIN_FORMAT,
    BRAIN_SCHEMA,
    best_slot,
    brain_metadata,
    describe_brain,
    genome_from_state,
    load_brain_genome,
    read_brain_file,
)

try:
    import torch
    from torch import nn
except ImportError:
    raise OptionalDependencyError(
        "evosim.torch needs PyTorch, which is not installed; install the CPU build with "
        "`pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu` "
        "(see docs/getting-started.md, \"Install\")"
    ) from None


__all__ = [
    "BRAIN_FORMAT",
    "ActionHead",
    "BrainModule",
    "best_slot",
    "export_brain",
    "genome_from_module",
    "load_brain",
    "load_brain_genome",
    "policy_module",
    "read_brain_file",
    "save_brain",
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


def policy_module(scenario: Scenario, genome: np.ndarray) -> BrainModule:
    """The brain of ``genome`` (float32 ``[genome_length]``) as a float32 module.

    ``module(torch.from_numpy(obs.reshape(B, -1)))`` equals ``World.actions()``
    for that robot within 1e-5 (the engine sums in float64).
    """
    g = np.asarray(genome)
    if g.shape != (scenario.genome_length,):
        raise EvosimError(f"genome: expected shape [{scenario.genome_length}] for "
                          f"{describe_brain(scenario)}, got {list(g.shape)}")
    g = scenario.genome_layout.decode(g)  # dct, masks: the weights the engine runs, exactly
    module = BrainModule(scenario.n_inputs, scenario.brain.hidden)
    state: dict[str, torch.Tensor] = {}
    at = 0
    for name, shape in scenario.genome_layout.torch_shapes().items():
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
    A scenario with ``[brain] encoding = "dct"`` is refused (one line): weights
    are not, in general, a DCT genome's decoding, and projecting would be lossy.
    With ``connections = "evolved"`` the weights are projected onto a mask (a weight
    of exactly 0.0 is a pruned connection): ``policy_module`` of the result has
    these same weights, though the pruned connections' own genes (unread by the
    brain) come back as 0.0.
    """
    state = {name: t.detach().cpu().to(torch.float32).numpy()
             for name, t in module.state_dict().items()}
    return genome_from_state(scenario, state, max_speed, "module")


# ---------------------------------------------------------------- brain files


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


def load_brain(path: str | Path, scenario: Scenario) -> BrainModule:
    """A brain file as a module; BrainFileError if it does not fit ``scenario``."""
    return policy_module(scenario, load_brain_genome(path, scenario))


# ---------------------------------------------------------------- seeding and export


def export_brain(checkpoint: str | Path, out: str | Path, slot: int | None = None,
                 overwrite: bool = False) -> dict[str, Any]:
    """Write the brain of robot ``slot`` (None: :func:`best_slot`) of a checkpoint to ``out``.

    Returns the ``source`` record stored in the file (checkpoint, slot, robot id...).
    """
    from evosim.world.world import World

    out = Path(out)
    if out.exists() and not overwrite:
        raise BrainFileError(f"{out}: already exists (overwrite=True replaces it)")
    world = World.load(checkpoint)
    s = world.state
    N = s.robot_xy.shape[0]
    if slot is None:
        chosen = best_slot(s)
    elif 0 <= slot < N:
        chosen = slot
    else:
        raise EvosimError(f"slot: expected a slot from 0 to {N - 1}, got {slot}")
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
