"""``quote_tuning``: Algorithm 1 of Quote-Tuning.

Samples sorted by score; for each winner in that order, losers below it; the first pair whose
score gap exceeds ``min_margin`` and whose relative token-length gap is under
``max_length_ratio``. It keeps pairs of similar length so the policy cannot learn "shorter is
better" from them. ``strict: false`` gives the released code's >=/<= with shuffled losers.
"""

from __future__ import annotations

import random

from pydantic import Field

from prefgen.hashing import content_hash
from prefgen.pairing import Match, PairingParams, RankedStrategy, gap_ok
from prefgen.records import Scored


class QuoteTuningParams(PairingParams):
    max_length_ratio: float = Field(0.1, gt=0, description="Largest |len_w - len_l| / min(len_w, len_l) in tokens.")
    strict: bool = Field(True, description="The paper's strict '>' / '<' (false: the released code's '>=' / '<=').")
    pairs_per_prompt: int = Field(1, ge=1, description="Most pairs per prompt.")
    seed: int = Field(0, description="Shuffles the losers when strict is false.")


class QuoteTuning(RankedStrategy):
    """Algorithm 1 of Quote-Tuning (see the module docstring)."""

    name = "quote_tuning"
    Params = QuoteTuningParams

    def matches(self, ranked: list[Scored], prompt_id: str) -> list[Match]:
        params = self.params
        rng = random.Random(content_hash([params.seed, prompt_id]))
        used: set[str] = set()
        matches = []
        for i, winner in enumerate(ranked):
            if winner.id in used:
                continue
            losers = [c for c in ranked[i + 1 :] if c.id not in used]
            if not params.strict:
                rng.shuffle(losers)  # the released code's variant
            for loser in losers:
                if gap_ok(winner, loser, params.min_margin, params.strict) and self._lengths_close(winner, loser):
                    matches.append((winner, loser))
                    used.update((winner.id, loser.id))
                    break
            if len(matches) >= params.pairs_per_prompt:
                break
        return matches

    def _lengths_close(self, winner: Scored, loser: Scored) -> bool:
        shorter = min(winner.num_tokens, loser.num_tokens)
        if shorter <= 0:
            return False
        ratio = abs(winner.num_tokens - loser.num_tokens) / shorter
        limit = self.params.max_length_ratio
        return ratio < limit if self.params.strict else ratio <= limit
