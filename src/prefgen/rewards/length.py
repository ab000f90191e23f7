"""A built-in toy reward: closeness of a response's length to a target.

It exists to exercise the pipeline end to end and as the smallest example of a reward plug-in;
it says nothing about quality.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from prefgen.records import Candidate, Prompt
from prefgen.rewards.base import Reward, RewardParams, RewardResult


class LengthParams(RewardParams):
    target_chars: int = Field(200, gt=0, description="Length (in characters) that scores 1.0.")


class LengthReward(Reward):
    """Score = 1 - |len - target| / max(len, target), in [0, 1]."""

    name = "length"
    Params = LengthParams

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        target = self.params.target_chars
        results = []
        for _, cand in items:
            length = len(cand.text)
            score = 1.0 - abs(length - target) / max(length, target)
            results.append(RewardResult(score, {"chars": length}))
        return results
