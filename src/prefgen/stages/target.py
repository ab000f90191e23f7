"""Target stage (``target_pairs``): exactly N pairs, within a budget.

After the first sampling, the train prompts left without a pair are sampled again with fresh
seeds, and only them, round after round, until N pairs are made or the budget (rounds and/or
samples) is spent. Each round's samples are pooled with the earlier rounds' before pairing, so
a prompt whose first samples all tied may pair with a later round's. A round's samples are keyed
by (prompt, round) like any generation shard, so a rerun or a killed run reuses them; which
prompts a round samples follows from the earlier rounds' scores alone, so it is deterministic.

When more than N pairs are made, the first N in pairing order (prompt order) are published and
the rest counted as dropped. A run that cannot reach N publishes what it made and says so.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

from prefgen.card import key_value_table
from prefgen.config import PairingConfig, TargetPairsConfig
from prefgen.pairing import PairingResult
from prefgen.records import Prompt, Scored
from prefgen.sources.reader import PromptSet
from prefgen.stages.pair import pair_stage

log = logging.getLogger("prefgen")

# (round, prompts to sample again) -> their scored samples
SampleRound = Callable[[int, list[Prompt]], list[Scored]]

DROPPED_REASON = "pairs beyond target_pairs.pairs"


@dataclass
class TargetOutcome:
    """What the card, version.json and the summary say about the target."""

    pairs: int  # asked for
    made: int  # published (at most ``pairs``)
    reached: bool
    rounds: int  # re-sampling rounds run after the first sampling
    samples: int  # samples the re-sampling rounds drew (prompts re-sampled x samples per prompt)
    prompts_resampled: int  # prompt-rounds: a prompt sampled again in two rounds counts twice
    dropped: int  # pairs made beyond ``pairs``, not published
    stopped_by: str  # "reached", "max_rounds", "max_samples" or "no unpaired prompt left"

    def as_dict(self) -> dict:
        return asdict(self)

    def message(self) -> str:
        if self.reached:
            return f"target reached: {self.made} of {self.pairs} pairs"
        return f"target not reached: {self.made} of {self.pairs} pairs (stopped by {self.stopped_by})"


@dataclass
class TargetResult:
    scored: list[Scored]  # every round's samples, pooled in prompt order
    pairing: PairingResult  # exactly ``pairs`` pairs when reached
    outcome: TargetOutcome


def target_stage(
    prompt_set: PromptSet,
    first: list[Scored],
    pairing_config: PairingConfig,
    target: TargetPairsConfig,
    sample_round: SampleRound,
    samples_per_prompt: int,
) -> TargetResult:
    """Sample unpaired train prompts again until ``target.pairs`` pairs or the budget is spent."""
    order = {p.id: i for i, p in enumerate(prompt_set.prompts)}
    pooled = list(first)
    pairing = pair_stage(prompt_set, pooled, pairing_config)
    rounds = samples = prompt_rounds = 0
    stopped_by = "reached"
    while len(pairing.pairs) < target.pairs:
        prompts, stopped_by = _next_round(prompt_set.train, pairing, target, rounds, samples, samples_per_prompt)
        if not prompts:
            break
        rounds += 1
        samples += len(prompts) * samples_per_prompt
        prompt_rounds += len(prompts)
        log.info("target_pairs: %d of %d pairs; round %d samples %d prompts again", len(pairing.pairs), target.pairs, rounds, len(prompts))
        pooled = _pool(pooled, sample_round(rounds, prompts), order)
        pairing = pair_stage(prompt_set, pooled, pairing_config)
    if len(pairing.pairs) >= target.pairs:
        stopped_by = "reached"
    published, dropped = exactly(pairing, target.pairs)
    outcome = TargetOutcome(
        pairs=target.pairs, made=len(published.pairs), reached=len(published.pairs) == target.pairs, rounds=rounds,
        samples=samples, prompts_resampled=prompt_rounds, dropped=dropped, stopped_by=stopped_by,
    )
    log.info("target_pairs: %s after %d re-sampling round(s), %d samples", outcome.message(), rounds, samples)
    return TargetResult(pooled, published, outcome)


def _next_round(
    train: list[Prompt], pairing: PairingResult, target: TargetPairsConfig, rounds: int, samples: int, per_prompt: int
) -> tuple[list[Prompt], str]:
    """The prompts the next round samples again (in prompt order), or none and why not."""
    paired = {p.prompt_id for p in pairing.pairs}
    unpaired = [p for p in train if p.id not in paired]
    if not unpaired:
        return [], "no unpaired prompt left"
    if target.max_rounds is not None and rounds >= target.max_rounds:
        return [], "max_rounds"
    if target.max_samples is not None:
        # the last round may sample only the first prompts the remaining budget affords
        unpaired = unpaired[: (target.max_samples - samples) // per_prompt]
        if not unpaired:
            return [], "max_samples"
    return unpaired, ""


def _pool(pooled: list[Scored], new: list[Scored], order: dict[str, int]) -> list[Scored]:
    """Earlier and new samples together, in prompt order then sample index (as generation gives)."""
    return sorted(pooled + new, key=lambda s: (order[s.prompt_id], s.sample_index))


def exactly(pairing: PairingResult, wanted: int) -> tuple[PairingResult, int]:
    """The first ``wanted`` pairs (pairing order), and how many were dropped.

    A prompt whose every pair was dropped is counted as unpaired, with that reason."""
    if len(pairing.pairs) <= wanted:
        return pairing, 0
    kept = pairing.pairs[:wanted]
    kept_prompts = {p.prompt_id for p in kept}
    dropped_prompts = {p.prompt_id for p in pairing.pairs[wanted:]} - kept_prompts
    unpaired = Counter(pairing.unpaired)
    if dropped_prompts:
        unpaired[DROPPED_REASON] += len(dropped_prompts)
    return PairingResult(pairs=kept, unpaired=unpaired), len(pairing.pairs) - wanted


def render_target(outcome: TargetOutcome) -> str:
    """The card's section on the target."""
    rows = [
        ("pairs asked for (target_pairs.pairs)", outcome.pairs),
        ("pairs published", outcome.made),
        ("reached", "yes" if outcome.reached else "no"),
        ("re-sampling rounds", outcome.rounds),
        ("re-sampling samples", outcome.samples),
        ("prompts sampled again (over all rounds)", outcome.prompts_resampled),
        ("pairs made beyond the target, dropped", outcome.dropped),
        ("stopped by", outcome.stopped_by),
    ]
    headline = outcome.message() + "." if outcome.reached else f"**{outcome.message()}.**"
    note = (
        "Prompts left without a pair were sampled again with fresh seeds (only them), each round's "
        "samples pooled with the earlier ones before pairing; the first pairs in prompt order are published."
    )
    return "\n\n".join(["## Target pairs", headline, note, key_value_table(rows)])
