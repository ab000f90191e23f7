"""What kind of answer a sample is: correct, wrong, refusal, hedged or unscorable.

- ``refusal``: the detector fires and the answer does not contain a gold answer.
- ``hedged``: the detector fires but the answer also gives a gold answer ("I'm not sure, but it
  is Paris"): it neither commits nor abstains, so it is kept apart.
- ``correct`` / ``wrong``: no refusal; a gold alias is (not) in the answer on token boundaries.
  Any answer to an unanswerable question (``answerable: false``) is ``wrong``: it hallucinates.
- ``unscorable``: an empty answer, or an answerable question without gold answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from prefgen.methods.refusal.answers import answer_span, matching_alias, normalise_answer
from prefgen.methods.refusal.detector import RefusalDetector

Kind = Literal["correct", "wrong", "refusal", "hedged", "unscorable"]
KINDS: tuple[str, ...] = ("correct", "wrong", "refusal", "hedged", "unscorable")


@dataclass
class Judgement:
    """The kind of one answer and what decided it."""

    kind: Kind
    answer: str  # the judged span
    normalised: str
    matched_alias: str | None = None
    refusal_phrase: str | None = None
    reason: str | None = None  # why it is unscorable

    def details(self) -> dict[str, Any]:
        """The judgement as a reward's details (JSON-ready)."""
        out: dict[str, Any] = {"kind": self.kind, "answer": self.answer, "normalised": self.normalised}
        if self.matched_alias is not None:
            out["matched_alias"] = self.matched_alias
        if self.refusal_phrase is not None:
            out["refusal_phrase"] = self.refusal_phrase
        return out


@dataclass
class QATask:
    """A short-answer question: gold answers (aliases) and whether an answer exists at all."""

    question: str
    answers: list[str] = field(default_factory=list)
    answerable: bool = True

    @classmethod
    def from_task(cls, task: dict[str, Any]) -> QATask:
        """From a prompt's ``task`` dict (validated by :func:`prefgen.methods.refusal.qa_format.task_problem`)."""
        return cls(str(task.get("question", "")), [str(a) for a in task.get("answers") or []],
                   task.get("answerable", True) is not False)


def classify(text: str, task: QATask, detector: RefusalDetector, cut_at: Sequence[str] = ("\n",)) -> Judgement:
    """Judge one sampled answer to ``task`` (see the module docstring for the kinds)."""
    span = answer_span(text, cut_at)
    judgement = Judgement("unscorable", span, normalise_answer(span))
    if not judgement.normalised:
        judgement.reason = "empty answer"
        return judgement
    if task.answerable and not task.answers:
        judgement.reason = "answerable question without gold answers"
        return judgement
    detection = detector.detect(span, task.question)
    judgement.matched_alias = matching_alias(span, task.answers) if task.answerable else None
    if detection is not None:
        judgement.refusal_phrase = detection.phrase
        judgement.kind = "hedged" if judgement.matched_alias else "refusal"
    else:
        judgement.kind = "correct" if judgement.matched_alias else "wrong"
    return judgement
