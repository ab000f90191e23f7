"""Reward plug-ins: a lazy registry from names to classes.

A reward is one module under ``prefgen/rewards/``, one line in ``prefgen.registry.rewards`` and one test. Users
can also name their own class by import path (``my_package.my_module:MyReward``).
"""

from __future__ import annotations

from prefgen.registry import UnknownPluginError, rewards
from prefgen.rewards.base import Reward, RewardParams, RewardResult

# name -> "module:Class"; modules are imported only when the reward is used.
REGISTRY: dict[str, str] = rewards.entries


class UnknownRewardError(UnknownPluginError):
    """The reward name is neither registered nor an importable ``module:Class`` path."""


def reward_class(name: str) -> type[Reward]:
    """The class registered under ``name``, or imported from ``module:Class``."""
    try:
        return rewards.load(name)
    except UnknownPluginError as exc:
        raise UnknownRewardError(str(exc)) from None


def build_reward(name: str, params: dict) -> Reward:
    """Instantiate a reward from its name and YAML parameters (validated by its Params model)."""
    cls = reward_class(name)
    return cls(cls.Params(**params))


__all__ = ["REGISTRY", "Reward", "RewardParams", "RewardResult", "UnknownRewardError", "build_reward", "reward_class"]
