"""Split a sampled continuation into steps at call punctuation, on token boundaries.

iTool's search grows a tree whose edges are steps: a continuation is cut into fragments after
``. ``, ``, ``, ``=`` and ``(``, and a fixed number of fragments (2 in the reference code) make a
step. Here cuts fall only between tokens, so a step's text is exactly the concatenation of the
tokens that produced it and its probability is the mean of *those* tokens' log-probabilities.
A fragment ends at the token whose text contains the punctuation; for ``. `` and ``, `` the space
may be the first character of the next token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

DEFAULT_MARKS = (". ", ", ", "=", "(")
DEFAULT_FRAGMENTS_PER_STEP = 2


@dataclass(frozen=True)
class Step:
    """Tokens ``[start, end)`` of a continuation, their text and mean token log-probability."""

    start: int
    end: int
    text: str
    mean_logprob: float

    @property
    def prior(self) -> float:
        """The step's probability as the tree's prior: exp(mean token log-probability)."""
        return math.exp(self.mean_logprob)


def fragment_ends(token_texts: Sequence[str], marks: Sequence[str] = DEFAULT_MARKS) -> list[int]:
    """Indices (exclusive) where fragments end: after each token that completes a mark."""
    ends = []
    for i, text in enumerate(token_texts):
        following = token_texts[i + 1][:1] if i + 1 < len(token_texts) else ""
        if any(_ends_here(text, following, mark) for mark in marks):
            ends.append(i + 1)
    if token_texts and (not ends or ends[-1] != len(token_texts)):
        ends.append(len(token_texts))
    return ends


def _ends_here(text: str, following: str, mark: str) -> bool:
    """Whether ``mark`` occurs in ``text``, counting a trailing space that opens the next token."""
    if mark in text:
        return True
    head, tail = mark[:-1], mark[-1]
    return bool(head) and tail.isspace() and text.endswith(head) and following[:1].isspace()


def split_steps(
    token_texts: Sequence[str],
    logprobs: Sequence[float],
    fragments_per_step: int = DEFAULT_FRAGMENTS_PER_STEP,
    marks: Sequence[str] = DEFAULT_MARKS,
) -> list[Step]:
    """The steps of a continuation given each token's decoded text and log-probability.

    The last step may hold fewer fragments (the continuation's tail).
    """
    if len(token_texts) != len(logprobs):
        raise ValueError(f"split_steps: {len(token_texts)} token texts but {len(logprobs)} log-probabilities")
    if fragments_per_step < 1:
        raise ValueError(f"split_steps: fragments_per_step must be at least 1, got {fragments_per_step}")
    ends = fragment_ends(token_texts, marks)[fragments_per_step - 1 :: fragments_per_step]
    if token_texts and (not ends or ends[-1] != len(token_texts)):
        ends.append(len(token_texts))
    steps, start = [], 0
    for end in ends:
        chosen = logprobs[start:end]
        steps.append(Step(start, end, "".join(token_texts[start:end]), sum(chosen) / len(chosen)))
        start = end
    return steps


def token_texts_from_offsets(text: str, offsets: Sequence[int]) -> list[str]:
    """Per-token texts from the character offset at which each token starts in ``text``."""
    bounds = list(offsets) + [len(text)]
    if any(end < start for start, end in pairwise(bounds)) or (offsets and offsets[0] != 0):
        raise ValueError("token offsets must start at 0 and not decrease")
    return [text[start:end] for start, end in pairwise(bounds)]
