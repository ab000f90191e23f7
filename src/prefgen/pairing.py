"""Pairing strategies: from a prompt's scored samples to chosen/rejected pairs.

A strategy is a plug-in (see :mod:`prefgen.registry`): a class with a ``Params`` model and
``pair(prompts, scored) -> PairingResult``. Most strategies look at one prompt at a time; they
derive from :class:`PerPromptStrategy` and implement ``pair_prompt``, returning the prompt's pairs
or the reason it has none. A pair's side need not be one of the samples (a synthetic refusal, say):
its id is then ``"synthetic:<hash>"`` and ``details["synthetic"]`` names the side.

Rules the built-in strategies keep (:class:`RankedStrategy`): candidates without a score are left
out, tied scores never form a pair, chosen and rejected never have the same text, and every prompt
left without a pair is counted with the reason.

- ``best_worst``: the highest against the lowest score, if the gap is at least ``min_margin``.
- ``all_pairs``: every pair whose gap is at least ``min_margin``, widest gaps first.

Methods add their own (``quote_tuning``, ``refusal``, ``tree``) from ``prefgen.methods``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from prefgen.hashing import content_hash
from prefgen.plugin import PluginParams
from prefgen.records import Message, PreferencePair, Prompt, Scored, group_by_prompt


@dataclass
class PairingResult:
    pairs: list[PreferencePair] = field(default_factory=list)
    unpaired: Counter = field(default_factory=Counter)  # reason -> number of prompts

    @property
    def prompts_without_pair(self) -> int:
        return sum(self.unpaired.values())


class PairingParams(PluginParams):
    """A strategy's keys from the YAML's ``pairing:`` block (minus ``strategy``)."""

    min_margin: float = Field(0.1, ge=0, description="Smallest score gap a pair may have.")


class PairingStrategy:
    """Base class of every pairing strategy."""

    name: ClassVar[str] = "pairing"
    Params: ClassVar[type[BaseModel]] = PairingParams

    def __init__(self, params: BaseModel | None = None):
        self.params = params if params is not None else self.Params()

    def check(self) -> list[str]:
        """Cheap checks before any heavy work (files the params name exist, ...). Default: none."""
        return []

    def pair(self, prompts: Sequence[Prompt], scored: Sequence[Scored]) -> PairingResult:
        """Pairs for every prompt, in prompt order; prompts without a pair counted by reason."""
        raise NotImplementedError


class PerPromptStrategy(PairingStrategy):
    """A strategy deciding each prompt's pairs from that prompt's samples alone."""

    def pair_prompt(self, prompt: Prompt, samples: list[Scored]) -> list[PreferencePair] | str:
        """The prompt's pairs, or the reason (a short phrase, counted in the card) it has none."""
        raise NotImplementedError

    def pair(self, prompts: Sequence[Prompt], scored: Sequence[Scored]) -> PairingResult:
        by_prompt = group_by_prompt(scored)
        result = PairingResult()
        for prompt in prompts:
            outcome = self.pair_prompt(prompt, by_prompt.get(prompt.id, []))
            if isinstance(outcome, str):
                result.unpaired[outcome] += 1
            elif not outcome:
                result.unpaired["no pair met the strategy's constraints"] += 1
            else:
                result.pairs.extend(outcome)
        return result


Match = tuple[Scored, Scored]


class RankedStrategy(PerPromptStrategy):
    """Pairs chosen among a prompt's scored samples ranked best first; subclasses pick matches."""

    def matches(self, ranked: list[Scored], prompt_id: str) -> list[Match]:
        raise NotImplementedError

    def pair_prompt(self, prompt: Prompt, samples: list[Scored]) -> list[PreferencePair] | str:
        ranked = _ranked(samples)
        if len(ranked) < 2:
            return "fewer than 2 scored samples"
        if ranked[0].score == ranked[-1].score:
            return "all scores tied"
        return [make_pair(prompt, chosen, rejected, self.name) for chosen, rejected in self.matches(ranked, prompt.id)]


def _ranked(samples: Sequence[Scored]) -> list[Scored]:
    """Scorable samples, best first; ties keep sample order so results are deterministic."""
    valid = [s for s in samples if s.score is not None]
    return sorted(valid, key=lambda s: (-s.score, s.sample_index))


def gap_ok(winner: Scored, loser: Scored, min_margin: float, strict: bool = False) -> bool:
    """Whether ``winner`` may be chosen over ``loser``: a positive score gap of at least
    ``min_margin`` (more than it when ``strict``) and different texts."""
    gap = winner.score - loser.score
    if gap <= 0 or winner.text == loser.text:
        return False
    return gap > min_margin if strict else gap >= min_margin


class BestWorst(RankedStrategy):
    """The highest against the lowest score, if the gap is at least ``min_margin``."""

    name = "best_worst"

    def matches(self, ranked: list[Scored], prompt_id: str) -> list[Match]:
        if gap_ok(ranked[0], ranked[-1], self.params.min_margin):
            return [(ranked[0], ranked[-1])]
        return []


class AllPairsParams(PairingParams):
    pairs_per_prompt: int | None = Field(None, ge=1, description="Most pairs per prompt (default: no limit).")


class AllPairs(RankedStrategy):
    """Every pair whose gap is at least ``min_margin``, widest gaps first."""

    name = "all_pairs"
    Params = AllPairsParams

    def matches(self, ranked: list[Scored], prompt_id: str) -> list[Match]:
        matches, seen_texts = [], set()
        for i, winner in enumerate(ranked):
            for loser in ranked[i + 1 :]:
                if gap_ok(winner, loser, self.params.min_margin) and (winner.text, loser.text) not in seen_texts:
                    seen_texts.add((winner.text, loser.text))
                    matches.append((winner, loser))
        matches.sort(key=lambda m: -(m[0].score - m[1].score))
        return matches[: self.params.pairs_per_prompt] if self.params.pairs_per_prompt else matches


def build_strategy(name: str, params: dict[str, Any]) -> PairingStrategy:
    """The strategy registered (or importable) as ``name``, with its validated params."""
    from prefgen.registry import pairing_strategies

    return pairing_strategies.build(name, params)


def build_pairs(prompts: Sequence[Prompt], scored: Sequence[Scored], config: Any) -> PairingResult:
    """Pairs for every prompt by the strategy a ``PairingConfig`` names."""
    return build_strategy(config.strategy, config.params).pair(prompts, scored)


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


def synthetic_id(text: str) -> str:
    """The id of a pair side that is not a sample (e.g. a written refusal)."""
    return "synthetic:" + content_hash(text)[:16]
