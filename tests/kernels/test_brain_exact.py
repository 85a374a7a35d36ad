"""The brain kernel against plain Python floats (IEEE float64 and libm's exp, as
the kernel): bit for bit, on any observations, zeros of either sign, NaN and all."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evosim.kernels.brain import decide_all
from evosim.kernels.step import prepare
from evosim.world.kernel_args import make_params, make_schedule, make_scratch
from evosim.world.state import WorldState
from tests.helpers import examples, small_scenario


def _tanh(x: float) -> float:
    """The kernel's tanh, as brain.py documents it."""
    if x > 20.0:
        return 1.0
    if x < -20.0:
        return -1.0
    return 1.0 - 2.0 / (math.exp(2.0 * x) + 1.0)


def _reference(layout, genome: np.ndarray, obs: np.ndarray) -> tuple[np.float32, np.float32]:
    """(turn, throttle): every sum in float64 in input order, zero inputs skipped."""
    H, n_in = layout.hidden, layout.inputs
    g = [float(v) for v in genome]
    x = [float(v) for v in obs.ravel()]
    hid = []
    for h in range(H):
        acc = g[layout.b1 + h]
        for j in range(n_in):
            if x[j] != 0.0:
                acc += g[layout.w1 + h * n_in + j] * x[j]
        hid.append(_tanh(acc))
    z0, z1 = g[layout.b2], g[layout.b2 + 1]
    for h in range(H):
        z0 += g[layout.w2 + h] * hid[h]
        z1 += g[layout.w2 + H + h] * hid[h]
    return np.float32(_tanh(z0)), np.float32(1.0 / (1.0 + math.exp(-z1)))


VALUES = st.one_of(
    st.just(0.0), st.just(-0.0), st.just(float("nan")), st.just(1.0),
    st.floats(-1.0, 1.0, width=32), st.floats(-1e6, 1e6, width=32))


@settings(max_examples=examples(60))
@given(data=st.data(), rays=st.integers(1, 12), hidden=st.integers(1, 20),
       all_nonzero=st.booleans(), scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_brain_is_bit_exact(data, rays, hidden, all_nonzero, scale):
    scenario = small_scenario(robots={"count": 3}, vision={"rays": rays},
                              brain={"hidden": hidden})
    layout = scenario.genome_layout
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    state = WorldState.empty(scenario)
    state.genome[:] = (rng.standard_normal(state.genome.shape) * scale).astype(np.float32)
    params = make_params(scenario)
    scratch = make_scratch(scenario, params)
    prepare(state, params, make_schedule(scenario), scratch, False)
    shape = scratch.obs.shape
    if all_nonzero:  # every input on: the input list at its full length R*C
        obs = rng.uniform(0.01, 1.0, size=shape).astype(np.float32)
    else:
        obs = np.array(data.draw(st.lists(VALUES, min_size=int(np.prod(shape)),
                                          max_size=int(np.prod(shape)))),
                       np.float32).reshape(shape)
    scratch.obs[:] = obs
    decide_all(state, params, scratch)
    for i in range(shape[0]):
        turn, throttle = _reference(layout, state.genome[i], obs[i])
        got = scratch.actions[i]
        assert np.array([turn, throttle], np.float32).tobytes() == got.tobytes(), (i, got)
