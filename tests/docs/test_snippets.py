"""Every Python block of the docs pages runs, so the pages cannot drift from the code.

A block runs in a fresh interpreter in an empty folder (what it writes stays there),
with the headless SDL drivers. A block that cannot run in a test (it opens a window,
or trains for minutes) is preceded by a MyST comment line ``% not run: <why>``; a
test checks that such blocks stay few and say why.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
SKIP = re.compile(r"^% not run: (\S.*)\n\Z")


def _blocks() -> list[tuple[str, int, str, str | None]]:
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        if "_build" in page.parts:
            continue
        text = page.read_text()
        for n, match in enumerate(FENCE.finditer(text)):
            before = text[: match.start()].splitlines(keepends=True)
            skip = SKIP.match(before[-1]) if before else None
            found.append((str(page.relative_to(DOCS)), n, match.group(1),
                          skip.group(1) if skip else None))
    return found


BLOCKS = _blocks()


def test_the_pages_have_python_blocks_and_few_are_skipped():
    assert len(BLOCKS) >= 10
    skipped = [b for b in BLOCKS if b[3] is not None]
    assert len(skipped) <= 3, skipped


@pytest.mark.parametrize(("page", "index", "code", "skip"), BLOCKS,
                         ids=[f"{b[0]}#{b[1]}" for b in BLOCKS])
def test_python_block_runs(page, index, code, skip, tmp_path):
    if skip is not None:
        pytest.skip(skip)
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{page} block {index}:\n{code}\n{done.stderr[-3000:]}"


SHELL_FENCE = re.compile(r"^```(?:bash|console|sh)\n(.*?)^```", re.S | re.M)


def _commands() -> list[tuple[str, str]]:
    """(page, command line) of every ``evosim ...`` line in the pages' shell blocks,
    continuation lines joined and comments dropped."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        if "_build" in page.parts:
            continue
        for match in SHELL_FENCE.finditer(page.read_text()):
            joined = re.sub(r"\\\n\s*", " ", match.group(1))
            for line in joined.splitlines():
                line = re.sub(r"(^|\s)#.*$", "", line).strip()
                for part in re.split(r"\s*(?:&&|;|\||\bdo\b)\s*", line):
                    part = re.sub(r"^(\$ |\S+=\S+ )+", "", part)  # a prompt, VAR=value
                    if part.startswith("evosim "):
                        # A loop's variable stands for a number.
                        part = re.sub(r"\$\{?[A-Z]\w*\}?", "1", part)
                        found.append((str(page.relative_to(DOCS)), part))
    return found


COMMANDS = _commands()


def test_the_pages_show_commands_of_every_kind():
    assert len(COMMANDS) >= 30
    from evosim.commands import COMMANDS as REGISTRY

    shown = {shlex.split(line)[1] for _, line in COMMANDS}
    missing = {c.name for c in REGISTRY} - shown
    assert not missing, f"no page shows evosim {sorted(missing)}"


@pytest.mark.parametrize(("page", "line"), COMMANDS, ids=[f"{p}:{c[:60]}" for p, c in COMMANDS])
def test_every_command_line_in_the_pages_parses(page, line):
    from evosim.cli import build_parser

    argv = shlex.split(line)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{page}: `{line}` does not parse (exit {exc.code})")
