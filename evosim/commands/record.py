"""``evosim record``: a scenario or checkpoint to a video file, with a summary line."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from evosim.commands._signals import sigterm_as_interrupt
from evosim.errors import RunDirError
from evosim.record.record import (
    RECORDINGS,
    Clip,
    clip_counts,
    record,
    record_clips,
    short_seed,
    vs_size,
)
from evosim.record.writer import RecordError
from evosim.render.source import is_checkpoint, resolve_source, without_seed_brain
from evosim.world import World


def build_worlds(source: str, seed: int | None, vs: str | None
                 ) -> tuple[list[World], list[str], str]:
    """The worlds to record, their labels and a name for the default file."""
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
    from evosim.evolve.checkpoints import FINAL_FILE, list_checkpoints, world_dir
    from evosim.evolve.story import STAGE_TITLES, STAGES, run_story

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


def record_command(args: argparse.Namespace) -> int:
    from evosim._compile import say_if_compiling

    say_if_compiling(args.quiet, observing=bool(args.fov))
    if args.story:
        if args.vs is not None:
            raise RecordError("--story and --vs: expected one of them, not both")
        clips, name = story_clips(Path(args.source), args.world, args.steps, args.stage)
        out = args.out if args.out is not None else RECORDINGS / f"{name}.mp4"
        if out.exists() and not out.is_dir() and not args.force:
            raise RecordError(f"{out}: exists; choose another --out, or pass --force to "
                              "replace it")
        size = args.size if args.size is not None else (1280, 720)
        with sigterm_as_interrupt():
            path = record_clips(clips, out, steps_per_frame=args.steps_per_frame, size=size,
                                fps=args.fps, fov=args.fov, progress=not args.quiet,
                                colour=args.colour)
        for clip in clips:
            print(f"{clip.labels[0]}: from step {clip.worlds[0].step_count - clip.steps:,}")
        print(f"wrote {path} ({len(clips)} clips, {size[0]}x{size[1]}, {args.fps:g} fps)")
        return 0
    worlds, labels, name = build_worlds(args.source, args.seed, args.vs)
    start = [wd.counters for wd in worlds]
    out = args.out if args.out is not None else RECORDINGS / f"{name}.mp4"
    if out.exists() and not out.is_dir() and not getattr(args, "force", False):
        raise RecordError(f"{out}: exists; choose another --out, or pass --force to replace it")
    if args.size is None:
        args.size = vs_size(worlds[0]) if args.vs else (1280, 720)
    # SIGTERM unwinds like Ctrl-C, so the writer removes its temp files.
    with sigterm_as_interrupt():
        path = record(worlds, out, steps=args.steps, steps_per_frame=args.steps_per_frame,
                      size=args.size, fps=args.fps, fov=args.fov, labels=labels,
                      progress=not args.quiet, colour=getattr(args, "colour", None))
    frames = math.ceil(args.steps / args.steps_per_frame)
    for label, wd, since in zip(labels, worlds, start, strict=True):
        c = clip_counts(wd, since)
        print(f"{label}: step {wd.step_count:,}; in the clip: fruit {c['fruit_eaten']:,}, "
              f"mine deaths {c['mine_deaths']:,}, births {c['births']:,}")
    print(f"wrote {path} ({frames} frames, {args.size[0]}x{args.size[1]}, "
          f"{args.fps:g} fps, {frames / args.fps:.1f} s)")
    return 0
