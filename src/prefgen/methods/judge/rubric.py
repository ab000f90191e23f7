"""The rubric: chat templates the YAML writes, and reading a verdict out of the judge's reply.

Templates name their slots in braces: ``{prompt}`` and ``{answer}`` (pointwise), ``{prompt}``,
``{answer_a}`` and ``{answer_b}`` (pairwise), and ``{scale_min}`` / ``{scale_max}``. Only these
slots are filled, in one pass: braces in the template that are not slots stay as they are, and
braces inside a policy's answer are never read as slots (the answer is text, not a template).

The reply's verdict is its last ``[[...]]`` (or the last match of the YAML's ``verdict_pattern``,
a regex with one group, for judges that answer otherwise, e.g. a bare letter): a number on the
scale (pointwise), ``A``, ``B``, ``tie`` (or ``C``) for pairwise, ``abstain`` in either mode.
Anything else is unparseable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

SLOT = re.compile(r"\{(prompt|answer|answer_a|answer_b|scale_min|scale_max)\}")
VERDICT = re.compile(r"\[\[\s*([^\[\]\n]{1,24}?)\s*\]\]")

POINTWISE = (
    "Rate how well the answer responds to the request, on a scale from {scale_min} (useless) to "
    "{scale_max} (excellent). Judge correctness first, then helpfulness and clarity.\n\n"
    "[Request]\n{prompt}\n\n[Answer]\n{answer}\n\n"
    "Reply with your rating in double brackets, e.g. [[{scale_max}]], or [[abstain]] if you cannot judge."
)
PAIRWISE = (
    "Which answer responds better to the request? Judge correctness first, then helpfulness and "
    "clarity; the order in which they are shown does not matter.\n\n[Request]\n{prompt}\n\n"
    "[Answer A]\n{answer_a}\n\n[Answer B]\n{answer_b}\n\n"
    "Reply with [[A]], [[B]], [[tie]] if they are equally good, or [[abstain]] if you cannot judge."
)


class Rubric(BaseModel):
    """The judge's instructions: an optional system message and the user message per mode."""

    model_config = ConfigDict(extra="forbid")
    system: str | None = Field("You are a careful, impartial judge of answers.", description="System message.")
    pointwise: str = Field(POINTWISE, description="User message for one answer: {prompt}, {answer}.")
    pairwise: str = Field(PAIRWISE, description="User message for two answers: {prompt}, {answer_a}, {answer_b}.")


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with its slots replaced by ``values`` (one pass; other braces kept)."""
    return SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def messages(rubric: Rubric, template: str, values: dict[str, str]) -> list[dict[str, str]]:
    """The chat messages of one judgement."""
    system = [{"role": "system", "content": rubric.system}] if rubric.system else []
    return system + [{"role": "user", "content": fill(template, values)}]


@dataclass(frozen=True)
class Vote:
    """One reply read: ``kind`` is "score", "A", "B", "tie", "abstain", or None (unparseable)."""

    kind: str | None
    value: float | None = None
    problem: str = ""


def read_vote(reply: str, mode: str, scale: tuple[float, float], pattern: str | None = None) -> Vote:
    """The verdict in a judge's reply (its last ``[[...]]``, or last match of ``pattern``), or why there is none."""
    found = (re.compile(pattern) if pattern else VERDICT).findall(reply)
    if not found:
        return Vote(None, problem="no verdict in the reply" if pattern else "no [[verdict]] in the reply")
    token = found[-1].strip()
    lowered = token.lower()
    if lowered == "abstain":
        return Vote("abstain")
    if mode == "pairwise":
        kind = {"a": "A", "b": "B", "tie": "tie", "c": "tie"}.get(lowered)
        return Vote(kind) if kind else Vote(None, problem=f"[[{token}]] is not A, B, tie or abstain")
    try:
        value = float(token)
    except ValueError:
        return Vote(None, problem=f"[[{token}]] is not a number")
    if not scale[0] <= value <= scale[1]:  # NaN fails this too
        return Vote(None, problem=f"[[{token}]] is outside the scale {scale[0]:g}..{scale[1]:g}")
    return Vote("score", value)
