"""What kind of answer a sample is: correct, wrong, refusal, premise rejection, hedged or unscorable.

- ``refusal``: the detector fires and the answer does not give a gold answer.
- ``hedged``: the detector fires but the answer also gives a gold answer ("I'm not sure, but it
  is Paris"): it neither commits nor abstains, so it is kept apart.
- ``premise_rejection`` (unanswerable questions only, when ``premise_rejection`` is on): the
  answer says the thing asked about does not exist ("There is no such function"); it abstains
  for a reason, so the reward scores it like a refusal by default. If both a refusal and a
  premise rejection are found, the premise rejection (the more specific) is reported.
- ``correct`` / ``wrong``: no refusal; a gold alias is (not) given on token boundaries and not
  negated ("it is not Paris" is wrong for Paris; see :func:`prefgen.methods.refusal.answers.find_alias`).
  A numeric question (task ``match: number``) is correct only when the number the answer gives
  (:func:`prefgen.methods.refusal.answers.given_number`) is a gold number, and that number is
  not negated.
  Any other answer to an unanswerable question (``answerable: false``) is ``wrong``: it
  hallucinates. On an answerable question a premise rejection without a gold answer is
  ``wrong`` (the thing exists; ``details.premise_phrase`` says what was said).
- ``unscorable``: an empty answer, or an answerable question without gold answers.

Only the first ``max_chars`` characters of a sample are read (``details.truncated`` says when
more were cut): a short answer is far shorter, and hostile text cannot make judging slow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from prefgen.methods.refusal.answers import (MAX_ANSWER_CHARS, AliasMatch, answer_span, find_alias, find_number,
                                             given_number, normalise_answer)
from prefgen.methods.refusal.detector import RefusalDetector

Kind = Literal["correct", "wrong", "refusal", "premise_rejection", "hedged", "unscorable"]
KINDS: tuple[str, ...] = ("correct", "wrong", "refusal", "premise_rejection", "hedged", "unscorable")


@dataclass
class Judgement:
    """The kind of one answer and what decided it."""

    kind: Kind
    answer: str  # the judged span
    normalised: str
    matched_alias: str | None = None
    refusal_phrase: str | None = None
    premise_phrase: str | None = None
    negated_alias: str | None = None  # a gold alias the answer only denies
    truncated: bool = False
    reason: str | None = None  # why it is unscorable

    def details(self) -> dict[str, Any]:
        """The judgement as a reward's details (JSON-ready)."""
        out: dict[str, Any] = {"kind": self.kind, "answer": self.answer, "normalised": self.normalised}
        for key in ("matched_alias", "refusal_phrase", "premise_phrase", "negated_alias"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.truncated:
            out["truncated"] = True
        return out


@dataclass
class QATask:
    """A short-answer question: gold answers (aliases) and whether an answer exists at all."""

    question: str
    answers: list[str] = field(default_factory=list)
    answerable: bool = True
    match: Literal["alias", "number"] = "alias"  # number: judged by the one number the answer gives

    @classmethod
    def from_task(cls, task: dict[str, Any]) -> QATask:
        """From a prompt's ``task`` dict (validated by :func:`prefgen.methods.refusal.qa_format.task_problem`)."""
        return cls(str(task.get("question", "")), [str(a) for a in task.get("answers") or []],
                   task.get("answerable", True) is not False, "number" if task.get("match") == "number" else "alias")

    def find_answer(self, span: str) -> AliasMatch:
        """Which gold answer ``span`` gives (see the module docstring)."""
        if self.match == "alias":
            return find_alias(span, self.answers)
        number, negated = find_number(span)
        if number is None or not any(given_number(a) == number for a in self.answers):
            return AliasMatch()
        return AliasMatch(negated=number) if negated else AliasMatch(alias=number)


def classify(text: str, task: QATask, detector: RefusalDetector, cut_at: Sequence[str] = ("\n",),
             premise_rejection: bool = True, max_chars: int = MAX_ANSWER_CHARS) -> Judgement:
    """Judge one sampled answer to ``task`` (see the module docstring for the kinds)."""
    # The size limit comes before anything else reads the text (no regex sees more than this).
    span = answer_span(text[:max_chars], cut_at)
    judgement = Judgement("unscorable", span, normalise_answer(span), truncated=len(text) > max_chars)
    if not judgement.normalised:
        judgement.reason = "empty answer"
        return judgement
    if task.answerable and not task.answers:
        judgement.reason = "answerable question without gold answers"
        return judgement
    detection = detector.detect(span, task.question)
    premise = detector.premise_rejection(span, task.question) if premise_rejection or task.answerable else None
    judgement.refusal_phrase = detection.phrase if detection else None
    judgement.premise_phrase = premise.phrase if premise else None
    if not task.answerable:
        judgement.kind = "premise_rejection" if premise else "refusal" if detection else "wrong"
        return judgement
    match = task.find_answer(span)
    judgement.matched_alias, judgement.negated_alias = match.alias, match.negated
    if detection is not None:
        judgement.kind = "hedged" if match.alias else "refusal"
    else:
        judgement.kind = "correct" if match.alias else "wrong"
    return judgement
