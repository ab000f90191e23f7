"""Pair stage: the train split's scored samples become chosen/rejected pairs."""

from __future__ import annotations

from prefgen.config import PairingConfig
from prefgen.pairing import PairingResult, build_pairs
from prefgen.records import Scored
from prefgen.sources.reader import PromptSet


def pair_stage(prompt_set: PromptSet, scored: list[Scored], config: PairingConfig) -> PairingResult:
    """Pairs of the train prompts only: held-out prompts stay out of training data."""
    return build_pairs(prompt_set.train, [s for s in scored if s.split == "train"], config)
