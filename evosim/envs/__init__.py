"""Gymnasium and PettingZoo interfaces (the optional extra ``rl``).

``import evosim.envs`` registers ``evosim/Robot-v0`` with Gymnasium::

    import gymnasium
    import evosim.envs
    env = gymnasium.make("evosim/Robot-v0", scenario="classic")

(or, without the import: ``gymnasium.make("evosim.envs:evosim/Robot-v0")``).
:func:`~evosim.envs.parallel.parallel_env` builds the PettingZoo ParallelEnv, every robot an agent.
``gymnasium.make_vec("evosim/Robot-v0", num_envs=K)`` builds :class:`RobotVectorEnv`
(K worlds without per-env wrappers); ``vectorization_mode="sync"`` or ``"async"``
builds Gymnasium's own around K RobotEnvs, with the same results.
Nothing below this package imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evosim.errors import OptionalDependencyError

INSTALL_HINT = "pip install -e '.[rl]' (gymnasium and pettingzoo)"

try:
    import gymnasium
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise OptionalDependencyError(f"evosim.envs needs gymnasium: {INSTALL_HINT}") from exc

from evosim.envs.robot import RobotEnv  # noqa: E402 (after the install hint)
from evosim.envs.vector import RobotVectorEnv  # noqa: E402

if TYPE_CHECKING:
    from evosim.envs.parallel import EvosimParallelEnv, parallel_env

ENV_ID = "evosim/Robot-v0"
DEFAULT_MAX_STEPS = 1000

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="evosim.envs.robot:RobotEnv",
                       vector_entry_point="evosim.envs.vector:RobotVectorEnv",
                       max_episode_steps=DEFAULT_MAX_STEPS)

__all__ = ["ENV_ID", "EvosimParallelEnv", "RobotEnv", "RobotVectorEnv", "parallel_env"]


def __getattr__(name: str) -> Any:
    # PettingZoo is imported only when the parallel env is asked for.
    if name in ("parallel_env", "EvosimParallelEnv"):
        try:
            from evosim.envs import parallel
        except ImportError as exc:
            if exc.name != "pettingzoo":
                raise
            raise OptionalDependencyError(
                f"evosim.envs.parallel_env needs pettingzoo: {INSTALL_HINT}") from None
        value = getattr(parallel, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'evosim.envs' has no attribute {name!r}")
