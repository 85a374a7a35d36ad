"""Soak: a long island run under random ``kill -9`` of its driver and of its workers,
resumed after every driver kill, must end with every file equal, byte for byte, to
an undisturbed run's, and with memory flat from resume to resume.

The documented command (docs/concepts/reliability.md), about 17 minutes on 2 cores::

    python -m tests.evolve.soak --worlds 8 --steps 3000000 --kills 40 --out soak

It runs ``evosim evolve`` (child processes, as a user would) twice in ``OUT``: an
undisturbed run in ``OUT/whole/run`` and the soaked one in ``OUT/soaked/run``. The
soaked run's driver is started, then, at random moments, either one of its workers
or the driver itself is killed with SIGKILL; after a driver kill it is resumed
(``evosim resume`` and ``evosim evolve --resume`` in turn). Each time a driver is
started, once its workers have written their first checkpoint, the resident memory
(RSS) of the driver and of each worker is recorded. After the last kill the run is
resumed to its end and every file of the two folders is compared.

``tests/evolve/test_soak.py`` (slow) runs it smaller.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from evosim.evolve.checkpoints import FINAL_FILE, list_checkpoints, world_dir

HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


@dataclass
class Sample:
    """The memory of one driver's processes: once its workers are at work ("start"),
    just before it is killed ("kill"), and every 10 s of the last driver ("last")."""

    start: int  # which driver (0: the first run, then each resume)
    when: str
    step: int  # the lowest step any unfinished world had saved then
    driver_mb: float
    workers_mb: list[float]


@dataclass
class Report:
    worlds: int
    steps: int
    seconds_whole: float = 0.0
    seconds_soaked: float = 0.0
    driver_kills: int = 0
    worker_kills: int = 0
    early_kills: int = 0  # driver kills before its workers saved anything (compiling, loading)
    resumes: int = 0
    stops: list[str] = field(default_factory=list)  # one-line errors of drivers that gave up
    samples: list[Sample] = field(default_factory=list)
    files: int = 0
    differing: list[str] = field(default_factory=list)

    def rss_flat(self, ratio: float = 0.10, slack_mb: float = 16.0) -> bool:
        """Every sample's RSS (driver, and each worker) is at most ``ratio`` above the
        first sample's, plus ``slack_mb``."""
        if not self.samples:
            return False
        first = self.samples[0]
        top_driver = first.driver_mb * (1 + ratio) + slack_mb
        top_worker = max(first.workers_mb) * (1 + ratio) + slack_mb
        return all(s.driver_mb <= top_driver and max(s.workers_mb) <= top_worker
                   for s in self.samples)

    def rss_growth_mb(self) -> tuple[float, float]:
        """(driver, worker): the largest RSS of any later sample minus that of the first."""
        if not self.samples:
            return 0.0, 0.0
        first = self.samples[0]
        driver = max(s.driver_mb for s in self.samples) - first.driver_mb
        worker = max(max(s.workers_mb) for s in self.samples) - max(first.workers_mb)
        return driver, worker


def evolve_args(worlds: int, steps: int) -> list[str]:
    """The run: classic islands (a migration every 1/15 of the run), a checkpoint every
    1/150, two workers."""
    every = max(steps // 15 // 1000 * 1000, 1000)
    checkpoint = max(steps // 150 // 1000 * 1000, 1000)
    return ["evolve", "classic", "--steps", str(steps), "--worlds", str(worlds),
            "--workers", "2", "--seed", "11", "--migrate-every", str(every), "--migrants", "2",
            "--checkpoint-every", str(checkpoint), "--metrics-every", "1000", "--out", "run",
            "--quiet"]


def _evosim(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "evosim", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **HEADLESS})


def _children(parent: int) -> list[int]:
    """The driver's worker processes (spawned multiprocessing children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _saved(run: Path, worlds: int) -> list[int]:
    """The step each world has saved (its last checkpoint, or its end)."""
    steps = []
    for i in range(worlds):
        if (world_dir(run, i) / FINAL_FILE).exists():
            steps.append(-1)
        else:
            found = list_checkpoints(run, i)
            steps.append(found[-1][0] if found else 0)
    return steps


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def _sample(report: Report, driver: subprocess.Popen, n: int, when: str, run: Path,
            steps: int, log) -> None:
    workers = [r for r in map(_rss_mb, _children(driver.pid)) if r is not None]
    driver_mb = _rss_mb(driver.pid)
    if not workers or driver_mb is None:
        return
    progress = min((s for s in _saved(run, report.worlds) if s >= 0), default=steps)
    report.samples.append(Sample(n, when, progress, round(driver_mb, 1),
                                 [round(w, 1) for w in workers]))
    log(f"driver {n} ({when}): step {progress:,}: driver {driver_mb:.0f} MB, workers "
        f"{', '.join(f'{w:.0f}' for w in workers)} MB")


def _end(driver: subprocess.Popen, report: Report, killed: bool) -> bool:
    """Wait for ``driver``; True when the run is finished."""
    _, err = driver.communicate(timeout=24 * 3600)
    if driver.returncode == 0:  # (it may have finished just before a kill)
        return True
    if killed:
        assert driver.returncode == -signal.SIGKILL, (driver.returncode, err[-2000:])
        return False
    # A world whose worker was killed more than worker.RERUNS times stops the driver
    # with one line (after one notice line per rerun); the run continues at the next
    # resume.
    lines = err.strip().splitlines()
    notices = lines[:-1]
    assert driver.returncode == 2 and lines and "its worker died" in lines[-1] \
        and all("rerunning it from its last checkpoint" in n for n in notices) \
        and "Traceback" not in err, (driver.returncode, err[-2000:])
    report.stops.append(lines[-1])
    return False


def soak(out: Path, worlds: int = 8, steps: int = 3_000_000, kills: int = 40,
         seed: int = 0, max_gap: float = 8.0, log=print) -> Report:
    """Run the soak in ``out`` (see the module's text); returns its :class:`Report`."""
    rng = random.Random(seed)
    args = evolve_args(worlds, steps)
    report = Report(worlds=worlds, steps=steps)
    (out / "whole").mkdir(parents=True, exist_ok=False)
    (out / "soaked").mkdir()
    started = time.monotonic()
    whole = _evosim(args, out / "whole")
    _, err = whole.communicate(timeout=24 * 3600)
    assert whole.returncode == 0, err[-2000:]
    report.seconds_whole = time.monotonic() - started
    log(f"undisturbed: {worlds} worlds x {steps:,} steps in {report.seconds_whole:.0f}s")

    run = out / "soaked" / "run"
    started = last_sampled = time.monotonic()
    done, n = False, 0
    while not done:
        command = args if n == 0 else (["resume", "run", "--quiet"] if n % 2 else
                                       ["evolve", "--resume", "run", "--quiet"])
        report.resumes += n > 0
        before = _saved(run, worlds) if run.exists() else [0] * worlds
        driver = _evosim(command, out / "soaked")
        last_segment = report.driver_kills + report.worker_kills >= kills
        if not last_segment and rng.random() < 0.15:  # killed while it starts
            time.sleep(rng.uniform(0.0, 2.0))
            killed = driver.poll() is None
            if killed:
                driver.kill()
                report.driver_kills += 1
                report.early_kills += 1
            done = _end(driver, report, killed)
            n += 1
            continue
        # At work: a world has saved something since this driver started, and its
        # workers are there (or the run ended first).
        while driver.poll() is None:
            if _saved(run, worlds) != before and _children(driver.pid):
                _sample(report, driver, n, "start", run, steps, log)
                break
            time.sleep(0.05)
        killed = False
        while driver.poll() is None and not last_segment and not killed:
            time.sleep(rng.uniform(0.2, max_gap))
            if driver.poll() is not None:
                break
            workers = _children(driver.pid)
            left = kills - report.driver_kills - report.worker_kills
            worker = rng.random() < 0.6
            if left == 1 and (report.worker_kills == 0) != (report.driver_kills == 0):
                worker = report.worker_kills == 0  # each kind at least once
            if workers and worker:
                try:
                    os.kill(rng.choice(workers), signal.SIGKILL)
                    report.worker_kills += 1
                except ProcessLookupError:  # it had just ended
                    pass
            else:
                _sample(report, driver, n, "kill", run, steps, log)
                driver.kill()
                report.driver_kills += 1
                killed = True
            last_segment = report.driver_kills + report.worker_kills >= kills
        while not killed and driver.poll() is None:  # the last driver, to the end
            time.sleep(0.5)
            if len(report.samples) and time.monotonic() - last_sampled > 10.0:
                _sample(report, driver, n, "last", run, steps, log)
                last_sampled = time.monotonic()
        done = _end(driver, report, killed)
        n += 1
    report.seconds_soaked = time.monotonic() - started
    a, b = _files(out / "whole" / "run"), _files(run)
    report.files = len(a)
    report.differing = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    driver_growth, worker_growth = report.rss_growth_mb()
    log(f"soaked: {report.driver_kills} driver kills ({report.early_kills} while starting), "
        f"{report.worker_kills} worker kills, {report.resumes} resumes in "
        f"{report.seconds_soaked:.0f}s; {report.files} files, {len(report.differing)} differ; "
        f"RSS growth over {len(report.samples)} samples: driver {driver_growth:+.1f} MB, "
        f"workers {worker_growth:+.1f} MB")
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.evolve.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worlds", type=int, default=8)
    p.add_argument("--steps", type=int, default=3_000_000)
    p.add_argument("--kills", type=int, default=40, help="driver and worker kills in all")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill schedule")
    p.add_argument("--max-gap", type=float, default=8.0,
                   help="longest wait between two kills, seconds")
    p.add_argument("--out", type=Path, required=True, help="a new folder for both runs")
    options = p.parse_args(argv)
    report = soak(options.out, options.worlds, options.steps, options.kills, options.seed,
                  options.max_gap)
    (options.out / "soak.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return 0 if not report.differing else 1


if __name__ == "__main__":
    raise SystemExit(main())
