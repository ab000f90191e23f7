"""Reward plug-ins: a lazy registry from names to classes.

A reward is one module under ``prefgen/rewards/``, one line in ``REGISTRY`` and one test. Users
can also name their own class by import path (``my_package.my_module:MyReward``).
"""

from __future__ import annotations

import difflib
import importlib

from prefgen.rewards.base import Reward, RewardParams, RewardResult

# name -> "module:Class"; modules are imported only when the reward is used.
REGISTRY: dict[str, str] = {
    "length": "prefgen.rewards.length:LengthReward",
    "regex": "prefgen.rewards.regex:RegexReward",
    "quote": "prefgen.rewards.quote:QuoteReward",
    "execution": "prefgen.rewards.execution:ExecutionReward",
    "refusal": "prefgen.rewards.refusal:RefusalReward",
}


class UnknownRewardError(ValueError):
    """The reward name is neither registered nor an importable ``module:Class`` path."""


def reward_class(name: str) -> type[Reward]:
    """The class registered under ``name``, or imported from ``module:Class``."""
    target = REGISTRY.get(name)
    if target is None:
        if ":" not in name:
            close = difflib.get_close_matches(name, REGISTRY, n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise UnknownRewardError(
                f"unknown reward {name!r}.{hint} Known: {', '.join(sorted(REGISTRY))}; "
                "or give an import path 'package.module:Class'."
            )
        target = name
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise UnknownRewardError(f"cannot import reward {target!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Reward)):
        raise UnknownRewardError(f"{target!r} is not a subclass of prefgen.rewards.Reward")
    return cls


def build_reward(name: str, params: dict) -> Reward:
    """Instantiate a reward from its name and YAML parameters (validated by its Params model)."""
    cls = reward_class(name)
    return cls(cls.Params(**params))


__all__ = ["REGISTRY", "Reward", "RewardParams", "RewardResult", "UnknownRewardError", "build_reward", "reward_class"]
