"""``evosim record``: a scenario or checkpoint to a video file, with a summary line."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from evosim import limits
from evosim.commands import _options as opts
from evosim.errors import EvosimError, RunDirError

if TYPE_CHECKING:
    from evosim.record.record import Clip
    from evosim.world import World

DESCRIPTION = "Record a world to a video (mp4 or gif, by the --out extension), off-screen."
EXAMPLES = (
    "evosim record classic --steps 3000 --out recordings/classic.mp4",
    "evosim record runs/classic-seed0/world-000/final.npz --steps 2000 --fov",
    "evosim record runs/classic-seed0/world-000/final.npz --vs random --steps 3000 "
    "--out recordings/vs.mp4",
    "evosim record classic --steps 600 --size 480x360 --fps 15 --out recordings/c.gif",
    "evosim record runs/genesis --story --steps 300 --out recordings/story.gif",
    "evosim record runs/genesis --story --world 2 --stage speed --steps 300",
)
DEFAULT_SIZE = (1280, 720)


def parents() -> list[argparse.ArgumentParser]:
    return [opts.seed_flag(None, "world seed for a scenario or for --vs (default 0)"),
            opts.fps_flag(30, "video frame rate (default 30)"),
            opts.size_flag(None, "frame size in pixels (default 1280x720; with --vs, 1280 "
                                 "wide and as tall as the arenas need)"),
            opts.quiet_flag()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SCENARIO|CHECKPOINT|RUN_DIR", type=opts.text,
                   help="built-in scenario name, a .toml path, or a checkpoint .npz "
                   "(which continues from its step); with --story, a run folder")
    p.add_argument("--steps", type=opts.int_at_least(1), required=True,
                   help="ticks to record (with --story: per stage)")
    p.add_argument("--story", action="store_true",
                   help="one clip per stage of the story of a run folder's world (see "
                   "evosim story), each from the first checkpoint at or after the stage's "
                   "start, the stage named on screen")
    p.add_argument("--world", type=opts.int_at_least(0, limits.MAX_WORLDS - 1), default=None,
                   metavar="W", help="with --story: the world of the run (default: the "
                   "first world that shows all four stages in order)")
    p.add_argument("--stage", choices=["caution", "fruit", "speed", "balance"],
                   default=None, help="with --story: only this stage's clip")
    p.add_argument("--out", type=opts.path, default=None,
                   help="video file, .mp4 (H.264) or .gif (default recordings/NAME.mp4)")
    p.add_argument("--fov", action="store_true",
                   help="draw each robot's field of view: its rays and what they hit")
    p.add_argument("--colour", choices=["genome", "lineage", "speed"], default=None,
                   help="colour robots by genome (relatives look alike), lineage (the "
                   "default) or speed gene, with a key saying which")
    p.add_argument("--steps-per-frame", type=opts.int_at_least(1, limits.MAX_STEPS_PER_FRAME),
                   default=2, metavar="K",
                   help="ticks per video frame (default 2); frames = ceil(steps / K)")
    p.add_argument("--vs", choices=["random"], default=None,
                   help="side by side: random robots vs the checkpoint's robots, in fresh "
                   "worlds of the same scenario and seed")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def _check(options: argparse.Namespace) -> None:
    """Flags that go together, and a bounded number of video frames."""
    if not options.story and (options.world is not None or options.stage is not None):
        raise EvosimError("--world and --stage: expected with --story only")
    clips = 4 if options.story and options.stage is None else 1
    frames = -(-options.steps // options.steps_per_frame) * clips
    if frames > limits.MAX_FRAMES:
        raise EvosimError(f"--steps/--steps-per-frame: expected at most {limits.MAX_FRAMES:,} "
                          f"video frames, got {options.steps:,} / {options.steps_per_frame:,} "
                          f"= {frames:,} (raise --steps-per-frame)")


def build_worlds(source: str, seed: int | None, vs: str | None
                 ) -> tuple[list[World], list[str], str]:
    """The worlds to record, their labels and a name for the default file."""
    from evosim.record.record import short_seed
    from evosim.record.writer import RecordError
    from evosim.render.source import is_checkpoint, resolve_source, without_seed_brain
    from evosim.world import World

    if vs is not None:
        if not is_checkpoint(source):
            raise RecordError(f"{source}: --vs {vs}: expected a checkpoint (.npz) whose "
                              "robots to compare, e.g. runs/classic-seed0/world-000/final.npz")
        evolved_from = World.load(source)
        # Both sides: a fresh world of the same scenario and seed (same mines,
        # fruit and starting places); one keeps its random brains, the other
        # gets the checkpoint's genomes. Without the scenario's seed_brain, or
        # the "random" side would be copies of that brain (and need its file).
        # Phases are frozen at the checkpoint's step: both sides live in the
        # conditions the robots evolved in (genesis' fruit, limits), not day one.
        step = evolved_from.step_count
        sc = without_seed_brain(evolved_from.scenario.frozen_at(step))
        seed = 0 if seed is None else seed
        random_world = World(sc, seed=seed)
        evolved = World(sc, seed=seed)
        evolved.set_genomes(evolved_from.state.genome)
        labels = ["random robots", f"evolved robots ({step:,} steps of evolution)"]
        return [random_world, evolved], labels, f"{sc.name}-s{seed}-vs-{vs}"
    src = resolve_source(source, seed, seed_hint="drop --seed, or use --vs random")
    world = src.world()
    name = f"{world.scenario.name}-{short_seed(source, world.seed)}"
    if src.is_checkpoint:
        tag = short_seed(source, world.seed)
        label = f"{world.scenario.name}  {tag}  from step {world.step_count:,}"
        return [world], [label], f"{name}-step{world.step_count}"
    return [world], [f"{world.scenario.name}  seed {world.seed}"], name


def story_clips(run_dir: Path, world: int | None, steps: int,
                stage: str | None = None) -> tuple[list[Clip], str]:
    """One clip per stage of world ``world``'s story in ``run_dir`` (only ``stage``'s
    if given; ``world`` None: the first world that shows all four stages in order):
    ``steps`` ticks from the first checkpoint at or after the stage's start (or the
    final state), labelled with the stage."""
    from evosim.analysis.story import STAGE_TITLES, STAGES, run_story
    from evosim.evolve.checkpoints import FINAL_FILE, list_checkpoints, world_dir
    from evosim.record.record import Clip
    from evosim.world import World

    told = run_story(run_dir)
    found = {w["world"]: w["stages"] for w in told["worlds"]}
    if world is None:
        world = next((w["world"] for w in told["worlds"] if w["in_order"]), None)
        if world is None:
            raise RunDirError(f"{run_dir}: no world shows all four stages in order (see "
                              "evosim story); choose one with --world W and --stage")
    if world not in found:
        raise RunDirError(f"{run_dir}: --world: expected one of 0 to {len(found) - 1}, "
                          f"got {world}")
    saved = list_checkpoints(run_dir, world)
    final = world_dir(run_dir, world) / FINAL_FILE
    clips = []
    for number, name in enumerate(STAGES, 1):
        if stage is not None and name != stage:
            continue
        start = found[world][name]
        if start is None:
            raise RunDirError(f"{run_dir}: world {world} never reached the {name} stage "
                              "(see evosim story); choose another --world")
        at = next((path for step, path in saved if step >= start), None)
        if at is None and final.is_file():  # the end of the run, past every stage start
            at = final
        if at is None:
            raise RunDirError(f"{run_dir}: world {world} has no checkpoint at or after "
                              f"step {start:,}, where its {name} stage begins (evolve with "
                              "--checkpoint-every)")
        wd = World.load(at)
        label = (f"stage {number} of {len(STAGES)}: {STAGE_TITLES[name]}  (begins at step "
                 f"{start:,}; world {world})")
        clips.append(Clip([wd], [label], steps))
    suffix = "story" if stage is None else stage
    return clips, f"{clips[0].worlds[0].scenario.name}-w{world}-{suffix}"


def run(options: argparse.Namespace) -> int:
    from evosim._compile import say_if_compiling
    from evosim.commands._signals import sigterm_as_interrupt
    from evosim.record.record import RECORDINGS, clip_counts, record, record_clips, vs_size
    from evosim.record.writer import RecordError

    _check(options)
    say_if_compiling(options.quiet, observing=bool(options.fov))
    if options.story:
        if options.vs is not None:
            raise RecordError("--story and --vs: expected one of them, not both")
        clips, name = story_clips(Path(options.source), options.world, options.steps,
                                  options.stage)
        out = options.out if options.out is not None else RECORDINGS / f"{name}.mp4"
        if out.exists() and not out.is_dir() and not options.force:
            raise RecordError(f"{out}: exists; choose another --out, or pass --force to "
                              "replace it")
        size = options.size if options.size is not None else DEFAULT_SIZE
        with sigterm_as_interrupt():
            path = record_clips(clips, out, steps_per_frame=options.steps_per_frame,
                                size=size, fps=options.fps, fov=options.fov,
                                progress=not options.quiet, colour=options.colour)
        for clip in clips:
            print(f"{clip.labels[0]}: from step {clip.worlds[0].step_count - clip.steps:,}")
        print(f"wrote {path} ({len(clips)} clips, {size[0]}x{size[1]}, {options.fps:g} fps)")
        return 0
    worlds, labels, name = build_worlds(options.source, options.seed, options.vs)
    start = [wd.counters for wd in worlds]
    out = options.out if options.out is not None else RECORDINGS / f"{name}.mp4"
    if out.exists() and not out.is_dir() and not options.force:
        raise RecordError(f"{out}: exists; choose another --out, or pass --force to replace it")
    size = options.size
    if size is None:
        size = vs_size(worlds[0]) if options.vs else DEFAULT_SIZE
    # SIGTERM unwinds like Ctrl-C, so the writer removes its temp files.
    with sigterm_as_interrupt():
        path = record(worlds, out, steps=options.steps, steps_per_frame=options.steps_per_frame,
                      size=size, fps=options.fps, fov=options.fov, labels=labels,
                      progress=not options.quiet, colour=options.colour)
    frames = math.ceil(options.steps / options.steps_per_frame)
    for label, wd, since in zip(labels, worlds, start, strict=True):
        c = clip_counts(wd, since)
        print(f"{label}: step {wd.step_count:,}; in the clip: fruit {c['fruit_eaten']:,}, "
              f"mine deaths {c['mine_deaths']:,}, births {c['births']:,}")
    print(f"wrote {path} ({frames} frames, {size[0]}x{size[1]}, "
          f"{options.fps:g} fps, {frames / options.fps:.1f} s)")
    return 0
