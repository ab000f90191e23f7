"""Deciding whether a short answer is correct, as the SQuAD and TriviaQA scripts do.

Both sides are normalised (lower case; TriviaQA's ``_`` and quote-like characters become spaces;
other punctuation is removed as in SQuAD; the articles a/an/the dropped; whitespace collapsed),
then an answer *has* a gold answer when one alias's tokens occur as a contiguous token run in
the answer's tokens (DPR's "has answer"): "1" does not match "1990", "Paris" matches "It is
Paris".
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence

# TriviaQA maps these to spaces before anything else; SQuAD's punctuation set lacks the curly ones.
_SPACE_CHARS = "_\u2018\u2019\u00b4`\u201c\u201d"
_SPACE_TABLE = str.maketrans({ch: " " for ch in _SPACE_CHARS})
_DROP_TABLE = str.maketrans("", "", "".join(ch for ch in string.punctuation if ch not in _SPACE_CHARS))
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalise_answer(text: str) -> str:
    """SQuAD/TriviaQA normalisation of a short answer (see the module docstring)."""
    text = text.translate(_SPACE_TABLE).lower().translate(_DROP_TABLE)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    """The normalised answer split into tokens."""
    return normalise_answer(text).split()


def _contains_run(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    if not needle or len(needle) > len(haystack):
        return False
    width = len(needle)
    return any(list(haystack[i : i + width]) == list(needle) for i in range(len(haystack) - width + 1))


def matching_alias(answer: str, aliases: Iterable[str]) -> str | None:
    """The first gold alias the answer contains on token boundaries, or None."""
    tokens = answer_tokens(answer)
    for alias in aliases:
        if _contains_run(tokens, answer_tokens(alias)):
            return alias
    return None


def has_answer(answer: str, aliases: Iterable[str]) -> bool:
    """DPR's rule: some alias's normalised tokens form a contiguous run in the answer's."""
    return matching_alias(answer, aliases) is not None


def exact_match(answer: str, aliases: Iterable[str]) -> bool:
    """SQuAD's exact match: the normalised answer equals some normalised alias."""
    normalised = normalise_answer(answer)
    return any(normalised == normalise_answer(alias) for alias in aliases)


def answer_span(text: str, cut_at: Sequence[str] = ("\n",)) -> str:
    """The answer part of a sample: the text up to the first of ``cut_at`` (after leading space).

    A short-answer sample often goes on with a new question or an explanation; only its first
    line is the answer that is judged.
    """
    span = text.lstrip()
    for marker in cut_at:
        if marker and marker in span:
            span = span.split(marker, 1)[0]
    return span.strip()
