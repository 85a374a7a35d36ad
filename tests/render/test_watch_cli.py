"""`evosim watch` without a display: exit 2, one line pointing to `evosim record`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from evosim.cli import main
from evosim.render.display import has_display


def test_no_display_is_a_one_line_error(capsys, monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert not has_display()
    assert main(["watch", "classic"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "evosim record" in err


def test_no_display_without_x_or_wayland(monkeypatch) -> None:
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        assert not has_display()
    monkeypatch.setenv("DISPLAY", ":0")
    assert has_display()


def test_watch_command_in_a_subprocess_prints_nothing_else() -> None:
    env = {"SDL_VIDEODRIVER": "dummy", "PATH": ""}
    proc = subprocess.run([sys.executable, "-m", "evosim", "watch"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "evosim record" in proc.stderr


@pytest.mark.parametrize(("argv", "needle"), [
    (["watch", "nosuchscenario", "--seed", "1"], "nosuchscenario: no such scenario"),
    (["watch", "clip.mp4"], "got a video"),
    (["watch", "missing.npz"], "missing.npz: no such checkpoint"),
])
def test_watch_checks_the_source_before_the_display(argv, needle, capsys, monkeypatch,
                                                    tmp_path) -> None:
    """A typo is reported first (not hidden behind "no display")."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert "evosim record" not in err


def test_watch_refuses_seed_with_a_checkpoint_before_the_display(capsys, monkeypatch,
                                                                 tmp_path) -> None:
    from evosim import World, load_scenario

    World(load_scenario("classic"), seed=0).save(tmp_path / "c.npz")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert main(["watch", str(tmp_path / "c.npz"), "--seed", "3"]) == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "drop --seed" in err
    assert main(["watch", str(tmp_path / "c.npz")]) == 2  # a good checkpoint: the display
    assert "evosim record" in capsys.readouterr().err
