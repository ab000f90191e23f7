"""Pairing strategies: from a prompt's scored samples to chosen/rejected pairs.

Rules every strategy keeps: candidates without a score are left out, tied scores never form a
pair, chosen and rejected never have the same text, and every prompt left without a pair is
counted with the reason.

- ``best_worst``: the highest against the lowest score, if the gap is at least ``min_margin``.
- ``all_pairs``: every pair whose gap is at least ``min_margin``, widest gaps first.
- ``quote_tuning``: Algorithm 1 of Quote-Tuning: samples sorted by score; for each winner in
  that order, losers below it; the first pair whose score gap exceeds ``min_margin`` and whose
  relative token-length gap is under ``max_length_ratio``. It keeps pairs of similar length so
  the policy cannot learn "shorter is better" from them.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from prefgen.config import PairingConfig
from prefgen.hashing import content_hash
from prefgen.records import Message, PreferencePair, Prompt, Scored


@dataclass
class PairingResult:
    pairs: list[PreferencePair] = field(default_factory=list)
    unpaired: Counter = field(default_factory=Counter)  # reason -> number of prompts

    @property
    def prompts_without_pair(self) -> int:
        return sum(self.unpaired.values())


Match = tuple[Scored, Scored]


def _ranked(samples: Sequence[Scored]) -> list[Scored]:
    """Scorable samples, best first; ties keep sample order so results are deterministic."""
    valid = [s for s in samples if s.score is not None]
    return sorted(valid, key=lambda s: (-s.score, s.sample_index))


def _gap_ok(winner: Scored, loser: Scored, min_margin: float, strict: bool = False) -> bool:
    gap = winner.score - loser.score
    if gap <= 0 or winner.text == loser.text:
        return False
    return gap > min_margin if strict else gap >= min_margin


def best_worst(ranked: list[Scored], config: PairingConfig, seed_key: str) -> list[Match]:
    if len(ranked) >= 2 and _gap_ok(ranked[0], ranked[-1], config.min_margin):
        return [(ranked[0], ranked[-1])]
    return []


def all_pairs(ranked: list[Scored], config: PairingConfig, seed_key: str) -> list[Match]:
    matches, seen_texts = [], set()
    for i, winner in enumerate(ranked):
        for loser in ranked[i + 1 :]:
            if _gap_ok(winner, loser, config.min_margin) and (winner.text, loser.text) not in seen_texts:
                seen_texts.add((winner.text, loser.text))
                matches.append((winner, loser))
    matches.sort(key=lambda m: -(m[0].score - m[1].score))
    return matches[: config.pairs_per_prompt] if config.pairs_per_prompt else matches


def quote_tuning(ranked: list[Scored], config: PairingConfig, seed_key: str) -> list[Match]:
    rng = random.Random(content_hash([config.seed, seed_key]))
    used: set[str] = set()
    matches = []
    for i, winner in enumerate(ranked):
        if winner.id in used:
            continue
        losers = [c for c in ranked[i + 1 :] if c.id not in used]
        if not config.strict:
            rng.shuffle(losers)  # the released code's variant
        for loser in losers:
            if _gap_ok(winner, loser, config.min_margin, config.strict) and _lengths_close(winner, loser, config):
                matches.append((winner, loser))
                used.update((winner.id, loser.id))
                break
        if len(matches) >= (config.pairs_per_prompt or 1):
            break
    return matches


def _lengths_close(winner: Scored, loser: Scored, config: PairingConfig) -> bool:
    shorter = min(winner.num_tokens, loser.num_tokens)
    if shorter <= 0:
        return False
    ratio = abs(winner.num_tokens - loser.num_tokens) / shorter
    return ratio < config.max_length_ratio if config.strict else ratio <= config.max_length_ratio


STRATEGIES: dict[str, Callable[[list[Scored], PairingConfig, str], list[Match]]] = {
    "best_worst": best_worst,
    "all_pairs": all_pairs,
    "quote_tuning": quote_tuning,
}


def build_pairs(prompts: Sequence[Prompt], scored: Sequence[Scored], config: PairingConfig) -> PairingResult:
    """Pairs for every prompt, in prompt order; prompts without a pair are counted by reason."""
    by_prompt: dict[str, list[Scored]] = {}
    for sample in scored:
        by_prompt.setdefault(sample.prompt_id, []).append(sample)
    strategy = STRATEGIES[config.strategy]
    result = PairingResult()
    for prompt in prompts:
        ranked = _ranked(by_prompt.get(prompt.id, []))
        if len(ranked) < 2:
            result.unpaired["fewer than 2 scored samples"] += 1
            continue
        if ranked[0].score == ranked[-1].score:
            result.unpaired["all scores tied"] += 1
            continue
        matches = strategy(ranked, config, prompt.id)
        if not matches:
            result.unpaired["no pair met the strategy's constraints"] += 1
        result.pairs.extend(make_pair(prompt, chosen, rejected, config.strategy) for chosen, rejected in matches)
    return result


def make_pair(prompt: Prompt, chosen: Scored, rejected: Scored, strategy: str) -> PreferencePair:
    """A pair in TRL's format: strings, or message lists when the prompt is chat."""

    def side(text: str) -> str | list[Message]:
        return [Message(role="assistant", content=text)] if prompt.is_chat else text

    return PreferencePair(
        prompt_id=prompt.id,
        prompt=prompt.prompt,
        chosen=side(chosen.text),
        rejected=side(rejected.text),
        chosen_score=chosen.score,
        rejected_score=rejected.score,
        margin=chosen.score - rejected.score,
        strategy=strategy,
        chosen_id=chosen.id,
        rejected_id=rejected.id,
        details={
            "chosen": chosen.details,
            "rejected": rejected.details,
            "chosen_tokens": chosen.num_tokens,
            "rejected_tokens": rejected.num_tokens,
        },
    )
