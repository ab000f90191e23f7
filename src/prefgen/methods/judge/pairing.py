"""``judge`` pairing: pairs from the pairwise judge's agreed verdicts only.

A pair is made from a comparison both orders agreed on (``win``), that no verifiable reward
vetoed, with a confidence of at least ``min_confidence``; its ``details["label_confidence"]`` is
that confidence (the share of the judge's votes, over both orders, that chose it). Ties, flips,
abstentions and failures make no pair. Strongest first, at most ``pairs_per_prompt`` per prompt.
"""

from __future__ import annotations

from pydantic import Field

from prefgen.methods.judge.figures import judge_details
from prefgen.pairing import PairingParams, PerPromptStrategy, make_pair
from prefgen.records import PreferencePair, Prompt, Scored


class JudgePairingParams(PairingParams):
    min_margin: float = Field(0.0, ge=0, description="Unused: the judge's verdict decides, not a score gap.")
    min_confidence: float = Field(0.5, ge=0, le=1, description="Least label confidence a pair may have.")
    pairs_per_prompt: int | None = Field(1, ge=1, description="Most pairs per prompt (None: every agreed verdict).")


class JudgePairing(PerPromptStrategy):
    """Pairs from agreed, unvetoed pairwise verdicts."""

    name = "judge"
    Params = JudgePairingParams

    def pair_prompt(self, prompt: Prompt, samples: list[Scored]) -> list[PreferencePair] | str:
        by_id = {s.id: s for s in samples}
        found = []
        for sample in samples:
            for judge in judge_details(sample):
                for comp in judge.get("comparisons", []):
                    if comp["verdict"] in ("win", "loss") and not comp.get("vetoed") and comp["primary"]:
                        other = by_id.get(comp["opponent"])
                        if other is not None:
                            winner, loser = (sample, other) if comp["verdict"] == "win" else (other, sample)
                            found.append((comp["confidence"], winner, loser))
        if not found:
            return "no agreed judge verdict"
        found.sort(key=lambda f: (-f[0], f[1].sample_index, f[2].sample_index))
        pairs = []
        for confidence, winner, loser in found:
            usable = winner.score is not None and loser.score is not None and winner.text != loser.text
            if confidence >= self.params.min_confidence and usable:
                pair = make_pair(prompt, winner, loser, self.name)
                pair.details["label_confidence"] = confidence
                pairs.append(pair)
        if not pairs:
            return "judge verdicts below min_confidence"
        return pairs[: self.params.pairs_per_prompt] if self.params.pairs_per_prompt else pairs
