"""A built-in reward: the share of configured regular expressions a response matches.

Useful for format constraints ("ends with a citation", "no apologies"); patterns listed under
``forbid`` count as satisfied when they do *not* match. A response longer than ``max_chars``
(100,000 characters by default) is not matched at all: score None, reason ``too_long``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import Field, field_validator

from prefgen.records import Candidate, Prompt
from prefgen.rewards.base import Reward, RewardParams, RewardResult


class RegexParams(RewardParams):
    require: list[str] = Field(default_factory=list, description="Patterns a good response matches.")
    forbid: list[str] = Field(default_factory=list, description="Patterns a good response avoids.")
    max_chars: int = Field(100_000, ge=1, description="Longest response matched, in characters; a longer one "
                                                      "gets score None (reason too_long) without any pattern run.")

    @field_validator("require", "forbid")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return patterns


class RegexReward(Reward):
    """Score = (required patterns matched + forbidden patterns absent) / number of patterns."""

    name = "regex"
    Params = RegexParams

    def check(self) -> list[str]:
        if not (self.params.require or self.params.forbid):
            return ["reward: regex needs at least one pattern in 'require' or 'forbid'"]
        return []

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        require = [re.compile(p) for p in self.params.require]
        forbid = [re.compile(p) for p in self.params.forbid]
        total = len(require) + len(forbid)
        results = []
        for _, cand in items:
            if len(cand.text) > self.params.max_chars:
                # A pattern's cost can grow faster than the text (backtracking): bound the text first.
                results.append(RewardResult(None, {"chars": len(cand.text), "max_chars": self.params.max_chars},
                                            "too_long"))
                continue
            hits = {p.pattern: bool(p.search(cand.text)) for p in require}
            misses = {p.pattern: not p.search(cand.text) for p in forbid}
            satisfied = sum(hits.values()) + sum(misses.values())
            results.append(RewardResult(satisfied / total, {"required": hits, "forbidden_absent": misses}))
        return results
