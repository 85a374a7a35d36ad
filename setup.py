"""Build hook: ship ``scenarios/*.toml`` inside the package as ``evosim/scenarios/``.

Everything else lives in ``pyproject.toml``. The scenario files stay at the top of
the repository (where users read and edit them); a wheel carries copies, which
``evosim.scenario.loading`` finds with ``importlib.resources``. An editable install
reads the checkout's ``scenarios/`` in place, so it needs no copies.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithScenarios(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "evosim" / "scenarios"
        self.mkpath(str(target))
        for source in sorted((ROOT / "scenarios").glob("*.toml")):
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildPyWithScenarios})
