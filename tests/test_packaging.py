"""The wheel is complete: built from the checkout, installed into a fresh venv, it
runs a built-in scenario from another folder and carries its license and py.typed."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-build-isolation: setuptools comes from the dev extra, so no network is needed.
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "--quiet", "-w", str(out)],
                   check=True, capture_output=True)
    (found,) = out.glob("evosim-*.whl")
    return found


def test_wheel_holds_scenarios_license_and_py_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (ROOT / "scenarios").glob("*.toml")}
    assert {"classic.toml", "genesis.toml"} <= shipped
    assert {f"evosim/scenarios/{name}" for name in shipped} <= names
    assert "evosim/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


@pytest.mark.slow
def test_wheel_runs_builtin_scenario_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies come from this environment (a path line only: its .pth files,
    # among them the editable install of the checkout, are not run).
    Path(purelib, "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "--quiet", str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("PYTHONPATH", None)
    where = subprocess.run([str(python), "-c", "import evosim; print(evosim.__file__)"],
                           cwd=elsewhere, env=env, check=True, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(venv)  # the wheel, not the checkout
    done = subprocess.run([str(venv / "bin" / "evosim"), "evolve", "classic", "--steps", "100",
                           "--out", "run", "--quiet"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "run" / "world-000" / "final.npz").is_file()
    assert "1 world(s) x 100 steps" in done.stdout
