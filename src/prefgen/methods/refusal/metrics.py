"""Refusal-awareness metrics on held-out questions, and R-Tuning's AP.

For each evaluated answer: its kind (:mod:`prefgen.methods.refusal.classify`) and the question's knowledge
label (``known`` / ``unknown`` / ``unanswerable``; others are counted but not split out).
A hedged answer counts as a refusal (the user was told "I don't know"), and so does a premise
rejection ("there is no such function", the kind the judge gives only on unanswerable questions:
it abstains from the answer the question asks for); unscorable answers are left out of every rate
and counted.

- ``answer_rate``: share of answers that commit (correct or wrong).
- ``accuracy_answered``: correct / committed answers.
- ``refusal_rate_<label>``: refusals (incl. hedged and premise rejections) / answers to questions
  with that label; ``premise_rejections`` counts the premise rejections among them.
- ``hallucination_rate`` and ``hallucination_rate_<label>``: wrong answers / answers.
- ``accuracy_<label>``: correct / answers to questions with that label.
- ``ap``: average precision of correctness against confidence (:func:`average_precision`).

R-Tuning's confidence of an answer: 0.5 x the geometric mean of the answer tokens'
probabilities + 0.5 x p(sure), where p(sure) = P(" sure") / (P(" sure") + P(" unsure")) after
the question, the answer and "Are you sure ...? I am" (here from the full continuations'
log-probabilities, not first sub-tokens).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

LABELS = ("known", "unknown", "unanswerable")


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def refusal_metrics(kinds: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Answer, accuracy, refusal and hallucination rates (see the module docstring)."""
    if len(kinds) != len(labels):
        raise ValueError(f"kinds and labels differ in length: {len(kinds)} vs {len(labels)}")
    pairs = [(k, lab) for k, lab in zip(kinds, labels) if k != "unscorable"]
    counts = Counter(k for k, _ in pairs)
    committed = counts["correct"] + counts["wrong"]
    out: dict[str, Any] = {
        "answers": len(pairs),
        "unscorable": len(kinds) - len(pairs),
        "hedged": counts["hedged"],
        "premise_rejections": counts["premise_rejection"],
        "answer_rate": _rate(committed, len(pairs)),
        "accuracy_answered": _rate(counts["correct"], committed),
        "hallucination_rate": _rate(counts["wrong"], len(pairs)),
    }
    for label in LABELS:
        group = Counter(k for k, lab in pairs if lab == label)
        size = sum(group.values())
        out[f"answers_{label}"] = size
        out[f"refusal_rate_{label}"] = _rate(group["refusal"] + group["hedged"] + group["premise_rejection"], size)
        out[f"hallucination_rate_{label}"] = _rate(group["wrong"], size)
        out[f"accuracy_{label}"] = _rate(group["correct"], size)
    return out


def average_precision(correct: Sequence[bool], confidence: Sequence[float]) -> float | None:
    """Average precision of ``correct`` ranked by ``confidence``, as scikit-learn defines it.

    AP = sum over distinct thresholds (highest first) of (recall gain) x (precision there); tied
    confidences form one threshold. None when there is no correct answer (undefined).
    """
    if len(correct) != len(confidence):
        raise ValueError(f"correct and confidence differ in length: {len(correct)} vs {len(confidence)}")
    positives = sum(bool(c) for c in correct)
    if positives == 0:
        return None
    order = sorted(range(len(correct)), key=lambda i: -confidence[i])
    ap, true_pos, previous_recall = 0.0, 0, 0.0
    for position, i in enumerate(order):
        true_pos += bool(correct[i])
        last_of_tie = position + 1 == len(order) or confidence[order[position + 1]] != confidence[i]
        if last_of_tie:
            recall = true_pos / positives
            ap += (recall - previous_recall) * (true_pos / (position + 1))
            previous_recall = recall
    return ap


def answer_confidence(token_logprobs: Sequence[float]) -> float:
    """Geometric mean of the answer tokens' probabilities (0 for an empty answer)."""
    if not token_logprobs:
        return 0.0
    return math.exp(sum(token_logprobs) / len(token_logprobs))


def p_sure(logprob_sure: float, logprob_unsure: float) -> float:
    """P(sure) / (P(sure) + P(unsure)) from the two continuations' total log-probabilities."""
    gap = logprob_sure - logprob_unsure  # a logistic of the gap, written not to overflow
    if gap >= 0:
        return 1.0 / (1.0 + math.exp(-gap))
    return math.exp(gap) / (1.0 + math.exp(gap))


def r_tuning_confidence(token_logprobs: Sequence[float], logprob_sure: float, logprob_unsure: float) -> float:
    """R-Tuning's confidence: the mean of answer confidence and p(sure)."""
    return 0.5 * answer_confidence(token_logprobs) + 0.5 * p_sure(logprob_sure, logprob_unsure)


def heldout_report(
    prompts: Sequence[Any],
    scored: Sequence[Any],
    labels: dict[str, Any],
    confidences: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Refusal metrics of one policy's answers to held-out questions.

    ``labels``: each prompt's :class:`~prefgen.methods.refusal.knowledge.Knowledge`, decided from the
    *initial* policy's samples (what it knew before training), so policies are compared on the
    same questions. ``confidences`` (sample id -> R-Tuning confidence) adds ``ap`` over the
    committed and hedged answers.
    """
    from prefgen.methods.refusal.knowledge import sample_kind

    heldout = {p.id for p in prompts if p.split == "heldout"}
    samples = [s for s in scored if s.prompt_id in heldout]
    kinds = [sample_kind(s) for s in samples]
    report = refusal_metrics(kinds, [labels[s.prompt_id].label for s in samples])
    if confidences is not None:
        judged = [(kind in ("correct", "hedged"), confidences[s.id]) for s, kind in zip(samples, kinds)
                  if kind in ("correct", "wrong", "hedged") and s.id in confidences]
        report["ap"] = average_precision([c for c, _ in judged], [v for _, v in judged]) if judged else None
    return report
