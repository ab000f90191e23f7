"""Deficiency selection: keep the examples whose ground-truth answer the policy finds hardest.

iTool measures, each round, the perplexity of every training example's ground-truth answer under
the current policy and keeps the hardest share (30%), separately for examples whose answer calls
a tool and those whose answer makes no call, so neither kind crowds the other out. Perplexity is
exp(-mean token log-probability) over the answer's tokens (from the engine's prompt
log-probabilities of prompt + answer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_HARD_FRACTION = 0.3


@dataclass(frozen=True)
class AnswerLikelihood:
    """One example: its key, whether its answer makes a call, its answer tokens' log-probabilities."""

    key: str
    has_call: bool
    answer_logprobs: Sequence[float]


@dataclass
class Selection:
    """The kept keys (hardest first within each group), every perplexity, and skipped examples."""

    kept: list[str] = field(default_factory=list)
    perplexities: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def perplexity(logprobs: Sequence[float]) -> float:
    """exp(-mean log-probability); a token with log-probability -inf makes it infinite."""
    if not logprobs:
        raise ValueError("perplexity of an empty answer is undefined")
    if any(math.isnan(lp) for lp in logprobs):
        raise ValueError("answer log-probabilities contain NaN")
    mean = sum(logprobs) / len(logprobs)
    return math.inf if mean == -math.inf else math.exp(-mean)


def select_hardest(
    examples: Sequence[AnswerLikelihood], fraction: float = DEFAULT_HARD_FRACTION
) -> Selection:
    """The ``fraction`` of highest-perplexity examples, taken separately with and without a call.

    Each group keeps ceil(fraction x its size) examples; ties go to the smaller key, so the
    result depends only on the inputs. Examples without usable log-probabilities are skipped
    with their reason.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction: expected a number in [0, 1], got {fraction}")
    selection = Selection()
    groups: dict[bool, list[str]] = {True: [], False: []}
    for example in examples:
        if example.key in selection.perplexities or example.key in selection.skipped:
            raise ValueError(f"duplicate example key {example.key!r}")
        try:
            selection.perplexities[example.key] = perplexity(example.answer_logprobs)
        except ValueError as exc:
            selection.skipped[example.key] = str(exc)
            continue
        groups[example.has_call].append(example.key)
    for has_call in (True, False):
        keys = sorted(groups[has_call], key=lambda k: (-selection.perplexities[k], k))
        # round first: 0.14 * 50 is 7.000000000000001 in floating point, which must keep 7, not 8
        selection.kept.extend(keys[: math.ceil(round(fraction * len(keys), 9))])
    return selection
