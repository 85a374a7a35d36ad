"""Loading scenario files and turning validation errors into one-line messages."""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from evosim import limits
from evosim.errors import ScenarioError
from evosim.scenario.kinds import CHANNELS
from evosim.scenario.model import EvolutionTable, Scenario, _InconsistentError


def _scenario_dir() -> Path:
    """``evosim/scenarios`` inside an installed wheel, else the checkout's ``scenarios/``."""
    packaged = importlib.resources.files("evosim") / "scenarios"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "scenarios"


SCENARIO_DIR = _scenario_dir()
"""The built-in scenario library (``scenarios/`` at the repository root, shipped in
wheels as ``evosim/scenarios/``; see ``setup.py``)."""


def list_scenarios() -> list[str]:
    """Names of the built-in scenarios, sorted."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A path as given if it exists, else ``scenarios/NAME.toml``."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    builtin = SCENARIO_DIR / f"{path.name}.toml"
    if path.suffix == "" and path.parent == Path() and builtin.is_file():
        return SCENARIO_DIR / f"{path.name}.toml"
    known = ", ".join(list_scenarios())
    raise ScenarioError(
        f"{name_or_path}: no such scenario file or built-in scenario (built-in: {known})"
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load and validate a scenario by built-in name (``"classic"``) or TOML path.

    Raises :class:`~evosim.errors.ScenarioError` naming the file, the key, what was expected and
    what was given.
    """
    path = resolve_scenario_path(name_or_path)
    label = _label(path)
    try:
        if path.stat().st_size > limits.MAX_JSON_BYTES:
            raise ScenarioError(f"{label}: expected a scenario file of at most "
                                f"{limits.MAX_JSON_BYTES:,} bytes, got {path.stat().st_size:,}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{label}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{label}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{label}: invalid TOML: tables or arrays nested too deeply") from None
    # A file name that is not a plain word still makes a usable default name.
    data.setdefault("name", re.sub(r"[^A-Za-z0-9._-]", "-", path.stem).lstrip("._-")[:64]
                    or "scenario")
    _resolve_seed_brain(data, path)
    return scenario_from_dict(data, source=label)


def _resolve_seed_brain(data: dict[str, Any], path: Path) -> None:
    """Make ``[evolution] seed_brain`` absolute, relative to the scenario file's folder."""
    evolution = data.get("evolution")
    if not isinstance(evolution, dict):
        return
    brain = evolution.get("seed_brain")
    if isinstance(brain, str) and brain and "\0" not in brain:  # NUL: the model says why
        evolution["seed_brain"] = str((path.resolve().parent / Path(brain).expanduser()).resolve())


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a plain dict (as stored in checkpoints)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a table of scenario settings, got "
                            f"{type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{source}: {_describe(exc)}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: values nested too deeply") from None


def saved_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """A scenario stored in a checkpoint or a run file, under the rules it was saved
    with: a save from before ``robots.metabolic_exponent`` and
    ``evolution.speed_sigma`` existed (it lacks those keys; every later save has them)
    ran under the square (exponent 2) and one sigma for every gene, so those are
    filled in, phases included, and it resumes as it would have."""
    if isinstance(data, dict):
        data = _with_saved_rules(data)
    return scenario_from_dict(data, source)


def _with_saved_rules(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    robots, evolution = out.get("robots"), out.get("evolution")
    if isinstance(robots, dict) and "metabolic_exponent" not in robots:
        out["robots"] = {**robots, "metabolic_exponent": 2}
    if isinstance(evolution, dict) and "speed_sigma" not in evolution:
        sigma = evolution.get("mutation_sigma",
                              EvolutionTable.model_fields["mutation_sigma"].default)
        out["evolution"] = {**evolution, "speed_sigma": sigma}
        phases = out.get("phases")
        if isinstance(phases, list):
            out["phases"] = [_phase_with_one_sigma(p) for p in phases]
    return out


def _phase_with_one_sigma(phase: Any) -> Any:
    evolution = phase.get("evolution") if isinstance(phase, dict) else None
    if (isinstance(evolution, dict) and evolution.get("mutation_sigma") is not None
            and evolution.get("speed_sigma") is None):
        return {**phase, "evolution": {**evolution,
                                       "speed_sigma": evolution["mutation_sigma"]}}
    return phase


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _field_info(loc: tuple[Any, ...]) -> Any:
    """The pydantic FieldInfo at ``loc``, or None."""
    model: Any = Scenario
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return info
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return info


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in args:
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _expected(loc: tuple[Any, ...], err_type: str) -> str:
    """Describe what the field at ``loc`` accepts, from its type and bounds."""
    info = _field_info(loc)
    if info is None:
        return "a valid value"
    ann = info.annotation
    text = repr(ann)
    if "bool" in text:
        return "true or false"
    if "Literal" in text:
        choices = sorted({str(a) for a in _literal_args(ann)})
        what = ", ".join(repr(c) for c in choices)
        return f"a list of {what}" if "tuple" in text else f"one of {what}"
    if "str" in text and "int" not in text:
        return "a string"
    kind = "an integer" if "int" in text else "a number"
    if err_type.startswith("model_") or "Phase" in text:
        return "a table"
    lo, strict_lo, hi, strict_hi = _bounds([*info.metadata, *_annotated_metadata(ann)])
    if lo is not None and hi is not None and strict_hi:
        return f"{kind} of at least {_num(lo)} and below {_num(hi)}"
    if lo is not None and hi is not None and not strict_lo:
        return f"{kind} from {_num(lo)} to {_num(hi)}"
    if lo is not None and hi is not None:
        return f"{kind} greater than {_num(lo)} and at most {_num(hi)}"
    if lo is not None:
        return f"{kind} {'greater than' if strict_lo else 'of at least'} {_num(lo)}"
    return kind


def _num(x: float) -> str:
    """A bound as people read it: 4,611,686,018,427,387,904 for an int, 2e+06 for a float."""
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 10**6 else f"{x:g}"


def _annotated_metadata(ann: Any) -> list[Any]:
    """Constraint objects inside ``Annotated[...]`` members of a union."""
    out: list[Any] = []
    for arg in getattr(ann, "__args__", ()):
        out.extend(getattr(arg, "__metadata__", ()))
    return out


def _bounds(metadata: list[Any]) -> tuple[Any, bool, Any, bool]:
    """(lower bound, lower is strict, upper bound, upper is strict) from pydantic metadata."""
    lo = hi = None
    strict_lo = strict_hi = False
    for m in metadata:
        inner = getattr(m, "metadata", None)
        if isinstance(inner, list):
            sub_lo, sub_strict, sub_hi, sub_strict_hi = _bounds(inner)
            if sub_lo is not None:
                lo, strict_lo = sub_lo, sub_strict
            if sub_hi is not None:
                hi, strict_hi = sub_hi, sub_strict_hi
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                lo, strict_lo = getattr(m, attr), attr == "gt"
        for attr in ("le", "lt"):
            if getattr(m, attr, None) is not None:
                hi, strict_hi = getattr(m, attr), attr == "lt"
    return lo, strict_lo, hi, strict_hi


def _literal_args(ann: Any) -> list[Any]:
    out: list[Any] = []
    if getattr(ann, "__origin__", None) is not None and "Literal" in repr(ann.__origin__):
        return list(ann.__args__)
    for arg in getattr(ann, "__args__", ()):
        out.extend(_literal_args(arg))
    return out


def _given(value: Any, depth: int = 0) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:80]) + "..."
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        if depth > 2 or len(value) > 10:
            return f"a list of {len(value)} values"
        return "[" + ", ".join(_given(v, depth + 1) for v in value) + "]"
    text = str(value)
    return text if len(text) <= 80 else text[:80] + "..."


def _describe(exc: ValidationError) -> str:
    """The first validation error as ``key: expected X, got Y``."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    err_type = err["type"]
    ctx = err.get("ctx") or {}
    original = ctx.get("error")
    if isinstance(original, _InconsistentError):
        return f"{original.key}: {original.message}"
    # Errors inside a tuple of literals are reported on the field itself.
    key_loc = tuple(p for p in loc if not (isinstance(p, int) and _field_info(loc) is not None))
    if loc and loc[0] == "vision" and len(loc) > 2:
        key_loc = loc[:2]
    key = _dotted(loc if err_type == "extra_forbidden" or loc[:1] == ("phases",) else key_loc)
    if err_type == "extra_forbidden":
        parent = _field_info(loc[:-1])
        model = _inner_model(parent.annotation) if parent is not None else Scenario
        valid = ", ".join(model.model_fields) if model is not None else ""
        return f"{key}: unknown key (valid keys here: {valid})"
    if err_type == "missing":
        return f"{key}: missing, expected {_expected(loc, err_type)}"
    if err_type == "value_error":
        return f"{key}: {err['msg'].removeprefix('Value error, ')}"
    if loc and loc[0] == "vision" and len(loc) >= 2 and loc[1] == "channels":
        value = err["input"]
        return (f"vision.channels: expected a list of {', '.join(map(repr, CHANNELS))}, "
                f"got {_given(value)}")
    return f"{key}: expected {_expected(key_loc, err_type)}, got {_given(err['input'])}"
