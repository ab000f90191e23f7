"""Rewards: the base class every reward derives from, and the rewards every method shares.

A reward is built by name through :data:`prefgen.registry.rewards` (``rewards.build(name,
params)``); the methods' own rewards live in ``prefgen.methods.<method>``. Users can name their
own class by import path (``my_package.my_module:MyReward``).
"""

from __future__ import annotations

from prefgen.rewards.base import Reward, RewardParams, RewardResult

__all__ = ["Reward", "RewardParams", "RewardResult"]
