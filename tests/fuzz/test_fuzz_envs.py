"""Fuzzing the env constructors: RobotEnv, EvosimParallelEnv and RobotVectorEnv with
generated arguments (scenario, population, episode length, speed, render mode and
size, number of envs). Each either builds an env that resets and steps with finite
observations, or raises one :class:`~evosim.errors.EvosimError` line naming the
argument; never another exception."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evosim import World
from evosim.errors import EvosimError
from tests.helpers import TINY_TOML, examples, small_scenario, tiny_scenario

pytest.importorskip("gymnasium", reason="the envs need gymnasium (pip install 'evosim[rl]')")

from evosim.envs import RobotEnv, RobotVectorEnv

NUMBERS = st.sampled_from([None, 0, 1, 2, 5, 1000, -1, 10**6, 10**9, 2**63, 1.5, 2.0, math.nan,
                           math.inf, -math.inf, True, False, "5", "", [], (), np.int64(3),
                           np.float32(1.0), 1e-310, -0.0])
SPEEDS = st.one_of(st.sampled_from([None, 0, 0.0, 1.0, 6.0, 6.000001, 100.0, -1.0, math.nan,
                                    math.inf, True, "2", [], np.float64(2.5), np.int64(1)]),
                   st.floats(-10, 20))
SIZES = st.sampled_from([(64, 64), (640, 480), [96, 64], (0, 0), (7, 7), (8, 8), (64,),
                         (64, 64, 3), "640x480", None, (1e9, 64), (64.0, 64.0), (True, 64),
                         (10**5, 64), (-64, 64), ("64", "64"), (np.int64(64), np.int64(48))])
MODES = st.sampled_from([None, None, "rgb_array", "human", "RGB", "", "ansi", 1, ["rgb_array"]])
SCENARIOS = st.sampled_from(["tiny", "tiny.toml", None, "classic", "missing", "missing.toml",
                             "", 3, [], "good.npz", "tiny-scenario", "dct-scenario",
                             "sparse-scenario"])
POPULATIONS = st.sampled_from([None, None, "good.npz", "junk.npz", "missing.npz", "tiny.toml",
                               3, b"good.npz", "classic.npz"])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("envs")
    (root / "tiny.toml").write_text(TINY_TOML)
    (root / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    World(tiny_scenario(), seed=0).save(root / "good.npz")
    World(small_scenario(robots={"count": 9}), seed=0).save(root / "classic.npz")
    return root


def _scenario(name, root):
    """Generated names become paths in the fixture's folder or Scenario objects."""
    if name == "tiny-scenario":
        return tiny_scenario()
    if name == "dct-scenario":
        return small_scenario(robots={"count": 6}, vision={"rays": 6},
                              brain={"hidden": 4, "encoding": "dct", "dct_coefficients": 3})
    if name == "sparse-scenario":
        return small_scenario(robots={"count": 6}, vision={"rays": 4},
                              brain={"hidden": 4, "connections": "evolved",
                                     "initial_connections": 0.5})
    if isinstance(name, str) and name.endswith((".toml", ".npz")):
        return str(root / name)
    return name


def _population(name, root):
    return str(root / name) if isinstance(name, str) else name


# Values each argument takes when it is meant to work, so that most envs get built.
FITTING = {"scenario": st.sampled_from(["tiny.toml", "tiny-scenario", "dct-scenario",
                                        "sparse-scenario"]),
           "population": st.just(None), "speed": st.sampled_from([None, 0.0, 1.0, 2.5]),
           "render_mode": st.sampled_from([None, "rgb_array"]),
           "render_size": st.sampled_from([(64, 64), (96, 64)]),
           "steps": st.sampled_from([None, 1, 5, 1000]), "num_envs": st.sampled_from([1, 2, 3]),
           "max_episode_steps": st.sampled_from([None, 1, 10])}
ODD = {"scenario": SCENARIOS, "population": POPULATIONS, "speed": SPEEDS,
       "render_mode": MODES, "render_size": SIZES, "steps": NUMBERS, "num_envs": NUMBERS,
       "max_episode_steps": NUMBERS}


@st.composite
def env_arguments(draw) -> tuple[str, dict]:
    """An env kind and its arguments: each given or not, fitting or odd (one in four)."""
    kind = draw(st.sampled_from(["single", "parallel", "vector"]))
    keys = ["scenario", "population", "speed", "render_mode", "render_size", "steps"]
    if kind == "vector":
        keys += ["num_envs", "max_episode_steps"]
    kwargs: dict = {}
    for key in keys:
        if draw(st.booleans()):
            odd = draw(st.integers(0, 3)) == 0
            name = key if key != "steps" else "max_cycles" if kind == "parallel" else "max_steps"
            kwargs[name] = draw(ODD[key] if odd else FITTING[key])
    return kind, kwargs


def _build(kind: str, kwargs: dict):
    if kind == "single":
        return RobotEnv(**kwargs)
    if kind == "vector":
        return RobotVectorEnv(**kwargs)
    pytest.importorskip("pettingzoo", reason="the parallel env needs pettingzoo")
    from evosim.envs import EvosimParallelEnv

    return EvosimParallelEnv(**kwargs)


@settings(max_examples=examples(300), suppress_health_check=list(HealthCheck))
@given(generated=env_arguments())
def test_generated_env_arguments_build_or_fail_in_one_line(files, generated):
    kind, kwargs = generated
    if kwargs.get("scenario") in ("classic", None) and kwargs.get("population") is None \
            and kwargs.get("render_mode") == "human":
        kwargs["render_mode"] = "rgb_array"  # a window per example is too slow to fuzz
    kwargs = {**kwargs}
    if "scenario" in kwargs:
        kwargs["scenario"] = _scenario(kwargs["scenario"], files)
    if "population" in kwargs:
        kwargs["population"] = _population(kwargs["population"], files)
    try:
        env = _build(kind, kwargs)
    except EvosimError as exc:
        message = str(exc)
        assert "\n" not in message and message, message
        event(f"{kind}: refused")
        return
    event(f"{kind}: built")
    try:
        if kind == "parallel":
            obs, _ = env.reset(seed=1)
            actions = {a: env.action_space(a).sample() for a in env.agents}
            obs, *_ = env.step(actions)
            assert all(np.isfinite(o).all() for o in obs.values())
        else:
            env.action_space.seed(1)
            obs, _ = env.reset(seed=1)
            obs, *_ = env.step(env.action_space.sample())
            assert np.isfinite(obs).all()
        if env.render_mode == "rgb_array":
            frame = env.render()
            frames = frame if isinstance(frame, tuple) else (frame,)
            w, h = env.config.render_size
            assert all(f.shape == (h, w, 3) and f.dtype == np.uint8 for f in frames)
    finally:
        env.close()
