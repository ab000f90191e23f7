"""Reward ``refusal``: is a short answer correct, wrong, a refusal, a premise rejection, or hedged?

Each sample gets the score of its kind (+1 correct / 0 refusal / -1 wrong by default; hedged, a
refusal that also gives the answer, 0; a premise rejection -- "there is no such function" to an
unanswerable question -- the refusal score unless ``scores.premise_rejection`` is set) and the
kind in ``details`` (with the judged answer, the matched or only negated alias and the refusal or
premise phrase), which the ``refusal`` pairing reads. Correctness is SQuAD/TriviaQA-normalised
matching on token boundaries that keeps signs and symbols ("-1" is not "1", "C#" not "C++") and
does not count a negated answer ("it is not Paris"); the refusal detector is a phrase list by
default (see :mod:`prefgen.methods.refusal.detector` and :mod:`prefgen.methods.refusal.classify`). Only the
first ``max_answer_chars`` characters of a sample are read. A sample the reward cannot judge
(empty answer) gets no score. Beside the pairs it writes R-Tuning's SFT records (``r_tuning`` dataset), labelled by
the knowledge rule in its parameters.

Task fields (see :mod:`prefgen.methods.refusal.qa_format`): ``question``, ``answers`` (gold and aliases),
optional ``answerable: false``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from prefgen.records import Candidate, Prompt, Scored, group_by_prompt
from prefgen.rewards.base import Reward, RewardParams, RewardResult


class KindScores(BaseModel):
    """The score of each kind of answer."""

    model_config = ConfigDict(extra="forbid")
    correct: float = 1.0
    refusal: float = 0.0
    wrong: float = -1.0
    hedged: float = 0.0
    premise_rejection: float | None = Field(
        default=None, description="Score of a premise rejection on an unanswerable question (default: the refusal score).")


class RefusalParams(RewardParams):
    scores: KindScores = Field(default_factory=KindScores)
    refusal_phrases: list[str] | None = Field(
        default=None, description="Phrases that mark a refusal (default: R-Tuning's 16 and common forms).")
    refusal_patterns: list[str] = Field(default_factory=list, description="Extra refusal regexes (case-insensitive).")
    cut_at: list[str] = Field(default_factory=lambda: ["\n"], description="The answer ends at the first of these.")
    premise_rejection: bool = Field(
        default=True, description="'There is no such function' to an unanswerable question abstains (kind premise_rejection).")
    max_answer_chars: int = Field(
        default=2000, gt=0, le=20_000, description="Only this many characters of a sample are judged (hostile text stays fast).")
    knowledge_rule: Literal["sampled", "greedy", "entropy"] = "sampled"
    known_threshold: float = Field(default=0.5, gt=0, le=1, description="Sampled rule: share correct for 'known'.")
    uncertain_share: float = Field(default=0.5, ge=0, le=1, description="Entropy rule: share labelled unknown.")
    records: bool = Field(default=True, description="Write R-Tuning's SFT records beside the pairs.")

    @field_validator("refusal_phrases", "refusal_patterns")
    @classmethod
    def _detector_builds(cls, value: list[str] | None, info) -> list[str] | None:
        from prefgen.methods.refusal.detector import RefusalDetector

        if value is not None:
            RefusalDetector(**{info.field_name.removeprefix("refusal_"): value})
        return value


class RefusalReward(Reward):
    """Score = the configured score of the answer's kind (see the module docstring)."""

    name = "refusal"
    Params = RefusalParams

    def setup(self) -> None:
        from prefgen.methods.refusal.detector import RefusalDetector

        self.detector = RefusalDetector(self.params.refusal_phrases, self.params.refusal_patterns)

    def task_problem(self, task: dict[str, Any], chat: bool = False) -> str | None:
        from prefgen.methods.refusal.qa_format import task_problem

        return task_problem(task)

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        from prefgen.methods.refusal.classify import QATask, classify

        if not hasattr(self, "detector"):
            self.setup()
        results = []
        for prompt, cand in items:
            judgement = classify(cand.text, QATask.from_task(prompt.task), self.detector, self.params.cut_at,
                                 self.params.premise_rejection, self.params.max_answer_chars)
            if judgement.kind == "unscorable":
                results.append(RewardResult(None, judgement.details(), judgement.reason))
            else:
                results.append(RewardResult(self._score(judgement.kind), judgement.details()))
        return results

    def _score(self, kind: str) -> float:
        scores = self.params.scores
        if kind == "premise_rejection" and scores.premise_rejection is None:
            return scores.refusal
        return getattr(scores, kind)

    def extra_datasets(self, prompts: dict[str, Prompt], scored: Sequence[Scored]) -> dict[str, list[dict]]:
        """R-Tuning's padded and R-Tuning-R records for the train prompts (``r_tuning``)."""
        if not self.params.records:
            return {}
        from prefgen.methods.refusal.knowledge import label_prompts
        from prefgen.methods.refusal.records import r_tuning_records

        train = [p for p in prompts.values() if p.split == "train"]
        by_prompt = group_by_prompt(scored)
        labels = label_prompts(train, by_prompt, self.params.knowledge_rule,
                               self.params.known_threshold, self.params.uncertain_share)
        rows = []
        for prompt in train:
            rows.extend(r_tuning_records(prompt.id, prompt.task["question"], prompt.task.get("answers") or [],
                                         labels[prompt.id]))
        return {"r_tuning": rows}

    def loop_metrics(self, heldout) -> dict[str, float | int | None]:
        """Answer, accuracy, refusal and hallucination rates and AP of one policy on held-out questions.

        Buckets (known / unknown / unanswerable) come from policy 0's samples with this reward's
        knowledge rule; AP's confidences from the policy's engines (see :mod:`prefgen.methods.refusal.loop_eval`).
        """
        from prefgen.methods.refusal.loop_eval import policy0_labels, refusal_loop_metrics

        labels = policy0_labels(heldout, self.params.knowledge_rule, self.params.known_threshold,
                                self.params.uncertain_share)
        return refusal_loop_metrics(heldout, labels, self.continuation_scorer(heldout))

    def continuation_scorer(self, heldout):
        """Where AP's log-probabilities come from: the policy's vLLM engines (tests replace this)."""
        from prefgen.methods.refusal.loop_eval import engine_scorer

        return engine_scorer(heldout)

    def describe(self, scored: Sequence[Scored]) -> str:
        from prefgen.methods.refusal.knowledge import sample_kind

        counts = Counter(sample_kind(s) for s in scored)
        lines = ["| kind | samples |", "| --- | --- |"]
        from prefgen.methods.refusal.classify import KINDS

        lines += [f"| {kind} | {counts[kind]} |" for kind in KINDS]
        return "Answers by kind:\n\n" + "\n".join(lines) + "\n"
