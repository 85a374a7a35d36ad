"""evosim.envs: Gymnasium's and PettingZoo's own checks, determinism, rewards, errors."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
pytest.importorskip("pettingzoo")

from gymnasium.utils.env_checker import check_env  # noqa: E402
from pettingzoo.test import parallel_api_test, parallel_seed_test  # noqa: E402

import evosim.envs  # noqa: E402
from evosim import EvosimError, World, load_scenario  # noqa: E402
from evosim.envs import RobotEnv, parallel_env  # noqa: E402
from tests.helpers import assert_states_equal  # noqa: E402


def _rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    rewards, ends = [], []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out.append(obs)
        rewards.append(r)
        ends.append((term, trunc, info["death"]))
        if term or trunc:
            break
    return np.array(out), rewards, ends


# ------------------------------------------------------------------ RobotEnv


def test_gymnasium_make_and_check_env():
    env = gymnasium.make("evosim/Robot-v0", scenario="classic")
    assert env.spec.max_episode_steps == 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker warns on anything off the API
        check_env(env.unwrapped, skip_render_check=True)
    assert env.observation_space.shape == (32,) and env.observation_space.dtype == np.float32
    assert np.array_equal(env.action_space.low, [-1, 0])
    assert np.array_equal(env.action_space.high, [1, 1])


def test_make_by_module_path_registers_on_import():
    code = ("import gymnasium; env = gymnasium.make('evosim.envs:evosim/Robot-v0'); "
            "print(env.reset(seed=0)[0].shape)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(32,)"


def test_same_seed_and_actions_give_the_same_episode_and_other_seeds_differ():
    actions = np.random.default_rng(0).uniform([-1, 0], [1, 1], (300, 2)).astype(np.float32)
    a = _rollout(RobotEnv(), 7, actions)
    b = _rollout(RobotEnv(), 7, actions)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2]
    c = _rollout(RobotEnv(), 8, actions)
    assert not np.array_equal(a[0][:1], c[0][:1])
    # reset without a seed continues the generator: a new world, reproducibly.
    env1, env2 = RobotEnv(), RobotEnv()
    env1.reset(seed=3)
    env2.reset(seed=3)
    assert np.array_equal(env1.reset()[0], env2.reset()[0])


def test_observation_is_the_learners_view_and_the_action_drives_it():
    env = RobotEnv()
    obs, info = env.reset(seed=0)
    world = env.world
    slot = env.learner_slot
    assert np.array_equal(obs, world.observations()[slot].reshape(-1))
    assert info["robot_id"] == int(world.state.robot_id[slot])
    speed = world.scenario.settings_at(0)["speed_limit"]
    assert world.state.genome[slot, -1] == np.float32(speed)
    xy = world.state.robot_xy[slot].copy()
    h = float(world.state.robot_heading[slot])
    env.step(np.array([0.0, 1.0], np.float32))
    moved = world.state.robot_xy[slot] - xy
    wall = np.any(np.isclose(world.state.robot_xy[slot], [6, 6]) |
                  np.isclose(world.state.robot_xy[slot], [794, 594]))
    if not wall:
        assert np.allclose(moved, speed * np.array([np.cos(h), np.sin(h)]))


def test_rewards_count_fruit_and_mines_and_terminate_on_death():
    """A learner steered onto the nearest mine gets -1 and terminated; fruit gives +1."""
    env = RobotEnv(max_steps=None)
    env.reset(seed=1)
    world = env.world
    slot = env.learner_slot
    fruit_total, mine_end = 0.0, None
    for _ in range(3000):
        xy = world.state.robot_xy[slot]
        mines = world.state.mine_xy[:world.state.mine_count]
        target = mines[np.argmin(np.hypot(*(mines - xy).T))]
        want = np.arctan2(target[1] - xy[1], target[0] - xy[0])
        err = (want - world.state.robot_heading[slot] + np.pi) % (2 * np.pi) - np.pi
        turn = np.clip(err / np.radians(world.scenario.robots.max_turn_degrees), -1, 1)
        before = int(world.state.robot_fruit[slot])
        obs, r, term, trunc, info = env.step(np.array([turn, 1.0], np.float32))
        assert not trunc
        if term:
            mine_end = (r, info["death"], obs)
            break
        assert r == float(int(world.state.robot_fruit[slot]) - before)
        fruit_total += r
    assert mine_end is not None
    r, death, obs = mine_end
    assert death == "mine" and r <= 0.0 and r >= -1.0
    assert not obs.any()
    with pytest.raises(EvosimError, match="episode has ended"):
        env.step(np.array([0.0, 0.0], np.float32))


def test_truncated_at_max_steps_and_age_death_terminates():
    env = RobotEnv(max_steps=5)
    env.reset(seed=0)
    ends = [env.step(np.array([0.0, 0.0], np.float32))[2:4] for _ in range(5)]
    assert ends == [(False, False)] * 4 + [(False, True)]
    # Standing still, the learner eats nothing, and its body built for speed s still
    # burns 1 + c s^k life a step: it dies of age at the step its life reaches 0.
    env = RobotEnv(max_steps=None, speed=2.0)
    env.reset(seed=0)
    robots = env.world.scenario.robots
    assert robots.metabolic_cost > 0
    per_step = 1.0 + robots.metabolic_cost * 2.0 ** robots.metabolic_exponent
    lived = math.ceil(robots.lifespan / per_step)
    assert lived < robots.lifespan  # the price of speed shortens the life
    ends = [env.step(np.array([0.0, 0.0], np.float32)) for _ in range(lived)]
    assert [e[2] for e in ends] == [False] * (lived - 1) + [True]
    assert ends[-1][4]["death"] == "age" and not any(e[3] for e in ends)


def test_population_checkpoint_gives_the_other_robots_its_genomes(tmp_path):
    source = World(load_scenario("classic"), seed=4)
    source.step(50)
    path = source.save(tmp_path / "pop.npz")
    env = RobotEnv(population=str(path))
    env.reset(seed=0)
    g = env.world.state.genome
    assert np.array_equal(g[1:], source.state.genome[1:])
    assert np.array_equal(g[0, :-1], source.state.genome[0, :-1])


def test_rgb_array_frame_and_no_display_human(monkeypatch):
    env = RobotEnv(render_mode="rgb_array", render_size=(320, 240))
    env.reset(seed=0)
    state = [a.copy() for a in env.world.state]
    frame = env.render()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 3  # arena, mines, fruit, robots
    assert_states_equal(state, env.world)
    # No screen and no off-screen driver asked for: one line saying so.
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    from evosim.render import NoDisplayError

    with pytest.raises(NoDisplayError, match="no display") as info:
        RobotEnv(render_mode="human")
    assert "\n" not in str(info.value)


def test_human_mode_draws_off_screen_under_the_dummy_driver(monkeypatch):
    import pygame

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = RobotEnv(render_mode="human", render_size=(320, 240))
    env.reset(seed=0)  # reset draws the first frame into the (invisible) window
    assert env.render() is None
    window = pygame.display.get_surface()
    assert window.get_size() == (320, 240)
    pixels = pygame.surfarray.array3d(window).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 3  # arena, mines, fruit, robots were drawn
    env.close()
    assert not pygame.display.get_init()


def test_checkers_pass_with_their_defaults(monkeypatch):
    """Gymnasium's check_env and PettingZoo's tests as a user calls them, headless:
    nothing skipped ("human" renders into the dummy driver's window)."""
    from pettingzoo.test import render_test
    from pettingzoo.utils.conversions import parallel_to_aec

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    check_env(gymnasium.make("evosim/Robot-v0"))
    parallel_api_test(parallel_env())
    parallel_seed_test(parallel_env)
    # PettingZoo 1.27 has no parallel_render_test: its render_test takes an AEC env.
    render_test(lambda render_mode=None: parallel_to_aec(parallel_env(render_mode=render_mode)))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"scenario": "nope"}, "nope: no such scenario"),
    ({"scenario": 3}, "scenario: expected a scenario name, a path or a Scenario, got 3"),
    ({"max_steps": 0}, "max_steps: expected an integer from 1 to 1000000000, got 0"),
    ({"max_steps": 2.5}, "max_steps: expected an integer from 1 to 1000000000, got 2.5"),
    ({"speed": 99.0}, r"speed: expected a number from 0 to 4.5 .*got 99.0"),
    ({"speed": float("nan")}, "speed: expected a number"),
    ({"render_mode": "ascii"}, "render_mode: expected None, 'human' or 'rgb_array', got 'ascii'"),
    ({"render_size": (5, 5)}, "render_size width: expected an integer from 16 to 4096, got 5"),
    ({"population": "missing.npz"}, "missing.npz: no such checkpoint file"),
])
def test_bad_arguments_are_one_line_errors(kwargs, message):
    for make in (RobotEnv, parallel_env):
        if "max_steps" in kwargs and make is parallel_env:
            kwargs = {"max_cycles": kwargs["max_steps"]}
            message = message.replace("max_steps", "max_cycles")
        with pytest.raises(EvosimError, match=message) as info:
            make(**kwargs)
        assert "\n" not in str(info.value)


def test_bad_actions_are_one_line_errors():
    env = RobotEnv()
    with pytest.raises(EvosimError, match="call reset"):
        env.step(np.zeros(2, np.float32))
    env.reset(seed=0)
    with pytest.raises(EvosimError, match=r"expected \(turn, throttle\) of shape \[2\]"):
        env.step(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="expected finite numbers"):
        env.step(np.array([np.nan, 0.0], np.float32))
    p = parallel_env()
    p.reset(seed=0)
    with pytest.raises(EvosimError, match="'robot_99' is not a live agent"):
        p.step({"robot_99": np.zeros(2)})
    with pytest.raises(EvosimError, match="one \\(turn, throttle\\) pair per agent"):
        p.step({"robot_0": np.zeros(3)})


# ------------------------------------------------------------------ ParallelEnv


def test_pettingzoo_api_and_seed_tests():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(parallel_env(), num_cycles=300)
        parallel_seed_test(parallel_env, num_cycles=100)


def test_parallel_agents_persist_and_deaths_cost_reward():
    env = parallel_env(max_cycles=600)
    obs, infos = env.reset(seed=2)
    assert env.possible_agents == [f"robot_{i}" for i in range(50)] == list(obs)
    assert all(o.shape == (32,) and o.dtype == np.float32 for o in obs.values())
    full = {a: np.array([0.3, 1.0], np.float32) for a in env.agents}
    deaths = total = 0
    steps = 0
    while env.agents:
        before = env.world.counters
        obs, rew, term, trunc, infos = env.step(full)
        steps += 1
        after = env.world.counters
        assert not any(term.values())
        mine = [a for a, i in infos.items() if i.get("death") == "mine"]
        fruit = after["fruit_eaten"] - before["fruit_eaten"]
        assert sum(rew.values()) == pytest.approx(fruit - len(mine))
        assert len(mine) == after["mine_deaths"] - before["mine_deaths"]
        for a in mine:
            assert infos[a]["robot_id"] == int(env.world.state.robot_id[int(a[6:])])
        deaths += len(mine)
        total += fruit
        assert set(obs) == set(rew) == set(trunc) == set(infos)
    assert steps == 600 and all(trunc.values()) and env.agents == []
    assert deaths > 0 and total > 0


def test_missing_agents_run_their_own_brains():
    """Agents left out of the actions dict act by their brains, as in a plain world."""
    env = parallel_env()
    env.reset(seed=5)
    world = env.world
    twin = World(world.scenario, seed=world.seed)
    twin.set_genomes(world.state.genome)
    for _ in range(50):
        env.step({})
        twin.step(1)
    assert_states_equal(world, twin)


def test_parallel_same_seed_and_actions_same_everything():
    def run():
        env = parallel_env(max_cycles=200)
        obs, _ = env.reset(seed=11)
        rng = np.random.default_rng(1)
        out = []
        while env.agents:
            acts = {a: rng.uniform([-1, 0], [1, 1]).astype(np.float32) for a in env.agents
                    if rng.random() < 0.8}
            obs, rew, _, _, infos = env.step(acts)
            out.append((np.stack(list(obs.values())), list(rew.values()), infos))
        return out

    a, b = run(), run()
    assert len(a) == len(b) == 200
    for (oa, ra, ia), (ob, rb, ib) in zip(a, b, strict=True):
        assert np.array_equal(oa, ob) and ra == rb and ia == ib


def test_parallel_rgb_array():
    env = parallel_env(render_mode="rgb_array", render_size=(200, 150))
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (150, 200, 3) and frame.dtype == np.uint8


# ------------------------------------------------------------------ optional


def test_import_evosim_works_without_gymnasium_and_pettingzoo():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('gymnasium', 'pettingzoo'):\n"
        "            raise ImportError(f'blocked {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import evosim\n"
        "from evosim import World, load_scenario\n"
        "World(load_scenario('classic'), seed=0).step(2)\n"
        "try:\n"
        "    import evosim.envs\n"
        "except evosim.EvosimError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("evosim.envs needs gymnasium: pip install -e '.[rl]' "
                                   "(gymnasium and pettingzoo)")
    assert evosim.envs.ENV_ID in gymnasium.registry


def test_make_vec_sync_and_async_step_the_same_worlds():
    actions = np.random.default_rng(0).uniform([-1, 0], [1, 1], (40, 2, 2)).astype(np.float32)
    runs = {}
    for mode in ("sync", "async"):
        env = gymnasium.make_vec("evosim/Robot-v0", num_envs=2, vectorization_mode=mode)
        first, _ = env.reset(seed=5)
        steps = [env.step(a)[:2] for a in actions]
        env.close()
        runs[mode] = (first, np.array([o for o, _ in steps]), np.array([r for _, r in steps]))
    for a, b in zip(runs["sync"], runs["async"], strict=True):
        assert np.array_equal(a, b)
    for i in range(2):  # env i is seeded with seed + i, as a single env would be
        single, _ = RobotEnv().reset(seed=5 + i)
        assert np.array_equal(runs["sync"][0][i], single)
    assert runs["sync"][1].shape == (40, 2, 32)


# ------------------------------------------------------------------ RobotVectorEnv


def _vector_rollout(env, seed, actions):
    first, info = env.reset(seed=seed)
    steps = [env.step(a) for a in actions]
    env.close()
    return first, info, steps


def test_native_vector_env_equals_sync_vector_env_with_autoreset_and_infos():
    # Short episodes so that terminations, truncations and next-step resets all happen.
    K, n = 3, 400
    actions = np.random.default_rng(1).uniform([-1, 0], [1, 1], (n, K, 2)).astype(np.float32)
    native = gymnasium.make_vec("evosim/Robot-v0", num_envs=K, max_steps=60)
    assert isinstance(native, evosim.envs.RobotVectorEnv)
    sync = gymnasium.make_vec("evosim/Robot-v0", num_envs=K, vectorization_mode="sync",
                              max_steps=60)
    a, b = _vector_rollout(native, 7, actions), _vector_rollout(sync, 7, actions)
    assert np.array_equal(a[0], b[0]) and a[0].dtype == b[0].dtype
    ended = {"terminated": 0, "truncated": 0}
    for mine, theirs in zip(a[2], b[2], strict=True):
        for x, y in zip(mine[:4], theirs[:4], strict=True):
            assert np.array_equal(x, y) and x.dtype == y.dtype
        assert mine[4].keys() == theirs[4].keys()
        for key in mine[4]:
            assert np.array_equal(mine[4][key], theirs[4][key]), key
        ended["terminated"] += int(mine[2].sum())
        ended["truncated"] += int(mine[3].sum())
    assert ended["terminated"] > 0 and ended["truncated"] > 0
    for i in range(K):  # env i is seeded with seed + i, as a single env would be
        assert np.array_equal(a[0][i], RobotEnv(max_steps=60).reset(seed=7 + i)[0])


def test_native_vector_env_spaces_render_and_reset_without_seed():
    env = evosim.envs.RobotVectorEnv(num_envs=2, render_mode="rgb_array",
                                     render_size=(64, 48))
    assert env.observation_space.shape == (2, 32) and env.action_space.shape == (2, 2)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    frames = env.render()
    assert len(frames) == 2 and all(f.shape == (48, 64, 3) and f.dtype == np.uint8
                                    for f in frames)
    assert not np.array_equal(frames[0], frames[1])  # two different worlds
    again = evosim.envs.RobotVectorEnv(num_envs=2)
    again.reset(seed=0)
    assert np.array_equal(env.reset()[0], again.reset()[0])  # the generators continue
    env.close()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_envs": 0}, "num_envs: expected an integer from 1 to 4096, got 0"),
    ({"num_envs": True}, "num_envs: expected an integer from 1 to 4096, got True"),
    ({"num_envs": 2, "render_mode": "human"},
     "render_mode: expected None or 'rgb_array', got 'human'"),
    ({"num_envs": 2, "max_episode_steps": 0}, "max_episode_steps"),
])
def test_native_vector_env_bad_arguments_are_one_line_errors(kwargs, message):
    with pytest.raises(EvosimError) as caught:
        evosim.envs.RobotVectorEnv(**kwargs)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_native_vector_env_bad_actions_and_seeds_are_one_line_errors():
    env = evosim.envs.RobotVectorEnv(num_envs=2)
    with pytest.raises(EvosimError, match="call reset"):
        env.step(np.zeros((2, 2), np.float32))
    env.reset(seed=0)
    with pytest.raises(EvosimError, match=r"shape \[2, 2\], got shape \[3, 2\]"):
        env.step(np.zeros((3, 2), np.float32))
    with pytest.raises(EvosimError, match="expected None, an integer or 2 seeds"):
        env.reset(seed=[1, 2, 3])
