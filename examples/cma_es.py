"""CMA-ES on evosim's classic task: a generational baseline beside in-world evolution.

One shared genome (brain weights and the max-speed gene) is optimised by CMA-ES (the
``cma`` package): each candidate drives all 50 robots of a fresh classic world with
reproduction off (a robot that dies returns elsewhere with the same genome, as in
``evosim evaluate``) for ``--episode`` steps; its fitness is fruit minus
``--mine-weight`` x mine deaths, per robot per 1,000 steps. When the wall-clock
budget (``--seconds``) or ``--generations`` is spent, the best mean genome is
evaluated in fresh worlds never used in training (those of ``ppo_robot.py``),
beside random robots::

    python examples/cma_es.py --seconds 60 --out runs/cma-60s.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cma
import numpy as np

from evosim import World, load_scenario
from evosim.evolve.evaluate import evaluation_scenario, measure
from evosim.evolve.plan import world_seeds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="wall-clock training budget")
    p.add_argument("--generations", type=int, default=10_000, help="at most this many")
    p.add_argument("--popsize", type=int, default=16)
    p.add_argument("--sigma", type=float, default=0.5, help="CMA-ES initial step size")
    p.add_argument("--episode", type=int, default=1000, help="steps per fitness evaluation")
    p.add_argument("--mine-weight", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scenario", default="classic")
    p.add_argument("--eval-worlds", type=int, default=4)
    p.add_argument("--eval-steps", type=int, default=3000)
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    return p.parse_args(argv)


def shared_world(scenario, seed: int, genome: np.ndarray | None) -> World:
    """A fresh world whose robots all carry ``genome`` (None: random robots)."""
    world = World(scenario, seed=seed)
    if genome is not None:
        world.set_genomes(np.tile(genome.astype(np.float32), (world.state.genome.shape[0], 1)))
    return world


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenario = evaluation_scenario(load_scenario(args.scenario), 0)
    start_genome = World(scenario, seed=args.seed).state.genome[0].astype(np.float64)
    es = cma.CMAEvolutionStrategy(start_genome, args.sigma, {
        "popsize": args.popsize, "seed": args.seed + 1, "verbose": -9,
        "CMA_diagonal": True})  # 563 dimensions: separable CMA, linear cost per sample
    train_seeds = iter(world_seeds(args.seed, 1_000_000))
    start = time.perf_counter()
    generations = 0
    while (generations < args.generations
           and time.perf_counter() - start < args.seconds):
        candidates = es.ask()
        seed = next(train_seeds)  # one fresh world per generation, the same for all
        losses = []
        for x in candidates:
            r = measure(shared_world(scenario, seed, np.asarray(x)), args.episode)
            losses.append(-(r["fruit_per_robot_per_1k"]
                            - args.mine_weight * r["mine_deaths_per_robot_per_1k"]))
        es.tell(candidates, losses)
        generations += 1
    trained = time.perf_counter() - start
    best = np.asarray(es.result.xfavorite)
    results = {}
    for who, genome in (("cma_es", best), ("random", None)):
        samples = [measure(shared_world(scenario, s, genome), args.eval_steps)
                   for s in world_seeds(args.seed + 100, args.eval_worlds)]
        results[who] = {k: round(float(np.mean([x[k] for x in samples])), 3)
                        for k in ("fruit_per_robot_per_1k", "mine_deaths_per_robot_per_1k")}
    print(f"CMA-ES: {generations} generations x {args.popsize} in {trained:.0f} s")
    for who, r in results.items():
        print(f"{who:8} fruit/robot/1k {r['fruit_per_robot_per_1k']:7.2f}   mine deaths/robot/1k "
              f"{r['mine_deaths_per_robot_per_1k']:6.3f}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                   "generations": generations, "train_seconds": trained,
                                   "speed_gene": float(best[-1]), "results": results},
                                  indent=2))
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
