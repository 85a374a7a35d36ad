"""Brain files (``.pt``) read without PyTorch, and ``[evolution] seed_brain`` seeding.

A brain file is what ``torch.save`` writes for ``{"format", "schema", "meta",
"state_dict"}``: a zip holding one pickle and raw tensor storages. It is read
here with an unpickler that knows only plain data, ``OrderedDict`` and tensors
(rebuilt as NumPy arrays), so a file can never run code, and the world layer
needs no torch to start from a brain. Writing brain files needs torch
(:func:`evosim.torch.save_brain`).
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from evosim._version import __version__
from evosim.errors import BrainFileError, EvosimError
from evosim.kernels.layout import INIT_STEP
from evosim.kernels.life import mutate_genome
from evosim.limits import MAX_BRAIN_BYTES
from evosim.scenario import Scenario

BRAIN_FORMAT = "evosim-brain"
BRAIN_SCHEMA = 1
SPEED_GENE_NOTE = (
    "max_speed buffer = the genome's last gene (units per step); clipped to "
    "[0, robots.speed_limit] when put into a world"
)
_STORAGE_DTYPES = {
    "FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "LongStorage": "i8",
    "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "?",
}


class _Refused(pickle.UnpicklingError):
    """The pickle names something other than plain data and tensors."""


class _Storage:
    def __init__(self, dtype: str, key: str) -> None:
        self.dtype = dtype
        self.key = key


def _rebuild_tensor(storage: Any, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                    *_: Any) -> np.ndarray:
    if not isinstance(storage, np.ndarray):
        raise pickle.UnpicklingError("tensor without storage")
    item = storage.dtype.itemsize
    return np.ndarray(tuple(size), storage.dtype, storage.data, offset * item,
                      tuple(s * item for s in stride)).copy()


class _BrainUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, storages: dict[str, np.ndarray] | None) -> None:
        super().__init__(io.BytesIO(data))
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        raise _Refused(f"{module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if (not isinstance(pid, tuple) or len(pid) < 3 or pid[0] != "storage"
                or pid[1] not in _STORAGE_DTYPES or self._storages is None):
            raise pickle.UnpicklingError("unknown persistent id")
        return self._storages.get(str(pid[2]))


def _read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        # Sizes from the zip's directory, before anything is decompressed (zip bombs).
        size = sum(info.file_size for info in z.infolist())
        if size > MAX_BRAIN_BYTES:
            raise pickle.UnpicklingError(f"it unpacks to {size:,} bytes, more than the "
                                         f"{MAX_BRAIN_BYTES:,} a brain can need")
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise pickle.UnpicklingError("no data.pkl in the archive")
        prefix = pkl[0][: -len("data.pkl")]
        order = z.read(f"{prefix}byteorder").decode() if f"{prefix}byteorder" in names \
            else "little"
        endian = "<" if order.strip() == "little" else ">"
        data = z.read(pkl[0])
        # Which dtype each storage has is only known from the pickle: read the
        # ids once without storages, then load each storage with its dtype.
        kinds: dict[str, str] = {}

        class _Scan(_BrainUnpickler):
            def find_class(self, module: str, name: str) -> Any:
                found = super().find_class(module, name)
                return (lambda *_: None) if found is _rebuild_tensor else found

            def persistent_load(self, pid: Any) -> Any:
                if isinstance(pid, tuple) and len(pid) >= 3 and pid[1] in _STORAGE_DTYPES:
                    kinds[str(pid[2])] = _STORAGE_DTYPES[pid[1]]
                return np.zeros(0, np.uint8)

        _Scan(data, None).load()
        storages = {key: np.frombuffer(z.read(f"{prefix}data/{key}"), endian + kind)
                    for key, kind in kinds.items()}
        return _BrainUnpickler(data, storages).load()


def read_brain_file(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(metadata, state_dict as NumPy arrays) of a brain file; BrainFileError if it is
    not one. Anything but plain data and tensors in the file is refused, never run."""
    path = Path(path)
    if not path.is_file():
        raise BrainFileError(f"{path}: no such brain file")
    try:
        if zipfile.is_zipfile(path):
            payload = _read_zip(path)
        else:  # torch's legacy format is a plain pickle stream: refuse what it names
            _BrainUnpickler(path.read_bytes(), None).load()
            raise pickle.UnpicklingError("not a zip archive written by torch.save")
    except _Refused as exc:
        raise BrainFileError(f"{path}: not a readable evosim brain file (it holds objects "
                             f"other than tensors and plain data ({exc}), refused for "
                             f"safety)") from None
    except Exception as exc:  # a corrupt file raises many kinds
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
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


def brain_metadata(scenario: Scenario) -> dict[str, Any]:
    """What a brain file records about the brain's shape and the speed gene."""
    return {
        "rays": scenario.vision.rays,
        "channels": list(scenario.vision.channels),
        "n_inputs": scenario.n_inputs,
        "hidden": scenario.brain.hidden,
        "outputs": ["turn", "throttle"],
        "speed_gene": SPEED_GENE_NOTE,
        "evosim_version": __version__,
    }


def check_fits(path: Path, meta: dict[str, Any], scenario: Scenario) -> None:
    """BrainFileError unless the file's rays, channels and hidden size fit ``scenario``."""
    want = brain_metadata(scenario)
    got = {k: meta.get(k) for k in ("rays", "channels", "hidden")}
    if any(got[k] != want[k] for k in got):
        raise BrainFileError(
            f"{path}: brain shape does not fit the scenario: file has {got['rays']} rays, "
            f"channels {got['channels']}, {got['hidden']} hidden; scenario "
            f"{scenario.name!r} expects {want['rays']} rays, channels {want['channels']}, "
            f"{want['hidden']} hidden (change [vision]/[brain] to match)"
        )


def describe_brain(scenario: Scenario) -> str:
    v = scenario.vision
    return (f"{v.rays} rays x {len(v.channels)} channels {list(v.channels)} = "
            f"{scenario.n_inputs} inputs, {scenario.brain.hidden} hidden")


def genome_from_state(scenario: Scenario, state: dict[str, Any], max_speed: float | None,
                      label: str) -> np.ndarray:
    """The genome (float32 [G]) of a state dict of arrays (``0.weight``, ``0.bias``,
    ``2.weight``, ``2.bias``, and ``max_speed`` unless given).

    With ``[brain] connections = "evolved"`` the weights are projected onto a mask:
    every weight that is exactly 0.0 becomes a pruned connection, every other one an
    active one (the genome then runs exactly these weights)."""
    layout = scenario.genome_layout
    if layout.dct:
        raise BrainFileError(f"{label}: a brain of weights cannot become a genome of a "
                             f"scenario with [brain] encoding = \"dct\" (its genes are DCT "
                             f"coefficients); use encoding = \"direct\"")
    parts = []
    for name, shape in layout.torch_shapes().items():
        t = state.get(name)
        if not isinstance(t, np.ndarray):
            raise BrainFileError(f"{label}: no weight {name!r} (expected layers 0 and 2 "
                                 f"of Linear({scenario.n_inputs}, {scenario.brain.hidden}), "
                                 f"Tanh, Linear({scenario.brain.hidden}, 2))")
        if tuple(t.shape) != shape:
            raise BrainFileError(f"{label}: {name}: expected shape {list(shape)} for "
                                 f"{describe_brain(scenario)}, got {list(t.shape)}")
        parts.append(t.astype(np.float32).reshape(-1))
    if max_speed is None:
        speed = state.get("max_speed")
        if not isinstance(speed, np.ndarray) or speed.size != 1:
            raise BrainFileError(f"{label}: no 'max_speed' buffer; pass max_speed= explicitly")
        parts.append(speed.astype(np.float32).reshape(1))
    else:
        parts.append(np.array([max_speed], np.float32))
    genome = np.concatenate(parts).astype(np.float32, copy=False)
    if not np.isfinite(genome).all():
        raise BrainFileError(f"{label}: expected finite weights")
    if layout.masked:
        genome = layout.project_mask(genome)
    return genome


def load_brain_genome(path: str | Path, scenario: Scenario) -> np.ndarray:
    """The genome (float32 ``[genome_length]``) stored in a brain file that fits ``scenario``."""
    path = Path(path)
    meta, state = read_brain_file(path)
    check_fits(path, meta, scenario)
    return genome_from_state(scenario, state, None, str(path))


def seed_genomes(scenario: Scenario, key: np.uint64) -> np.ndarray:
    """float32 [N, G]: the population of ``[evolution] seed_brain`` for a world's RNG key.

    Slot 0 holds the brain unchanged; slot i > 0 a copy mutated by the one mutation
    operator births use (:func:`evosim.kernels.life.mutate_genome`), with the
    scenario's mutation rate and sigmas at step 0, the speed gene clipped to the
    speed limit then in force; draws from the world key at the initial step, per slot.
    """
    path = scenario.evolution.seed_brain
    if path is None:
        raise EvosimError("seed_genomes: the scenario has no [evolution] seed_brain")
    genome = load_brain_genome(path, scenario)
    layout = scenario.genome_layout
    at_start = scenario.settings_at(0)
    rate, sigma = float(at_start["mutation_rate"]), float(at_start["mutation_sigma"])
    speed_sigma = float(at_start["speed_sigma"])
    limit = float(at_start["speed_limit"])
    out = np.empty((scenario.robots.count, genome.shape[0]), np.float32)
    out[0] = genome
    for i in range(1, out.shape[0]):
        mutate_genome(genome, out[i], rate, sigma, limit, key, INIT_STEP, i, layout.mask,
                      layout.mask_length, float(scenario.brain.connection_flip_rate),
                      float(scenario.brain.connection_regrowth), speed_sigma)
    return out


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
