"""R-Tuning's own SFT records, written beside the preference pairs.

- ``padding`` (R-Tuning): ``Question: {q} Answer: {gold}. Are you sure you accurately answered
  the question based on your internal knowledge?`` followed by `` I am sure.`` (known) or
  `` I am unsure.`` (unknown). The gold answer is always kept.
- ``replacement`` (R-Tuning-R): known -> ``Question: {q} Answer: {gold}.``; unknown and
  unanswerable -> the answer is replaced by one of R-Tuning's "I don't know" phrases, chosen by a
  hash of the prompt id so the records are deterministic.

Each row has ``text`` (the whole record), ``prompt`` / ``completion`` (TRL's prompt-completion
format: the paper trains on the answer and the uncertainty part only), the knowledge label and
the rule that decided it. Borderline and undecided questions get no record; unanswerable ones get
no padding record (there is no gold answer to pad).
"""

from __future__ import annotations

from typing import Any

from prefgen.hashing import content_hash
from prefgen.methods.refusal.detector import R_TUNING_PHRASES
from prefgen.methods.refusal.knowledge import Knowledge

SURE_QUESTION = "Are you sure you accurately answered the question based on your internal knowledge?"
SURE, UNSURE = " I am sure.", " I am unsure."


def question_prefix(question: str) -> str:
    """The prompt part of every record: ``Question: {q} Answer:``."""
    return f"Question: {question} Answer:"


def padded_record(question: str, gold: str, knowledge: Knowledge) -> dict[str, Any] | None:
    """R-Tuning's padded record, or None when the label gives none."""
    if knowledge.label not in ("known", "unknown"):
        return None
    completion = f" {gold}. {SURE_QUESTION}" + (SURE if knowledge.label == "known" else UNSURE)
    return _row("padding", question, completion, knowledge)


def replacement_record(question: str, gold: str | None, knowledge: Knowledge, prompt_id: str) -> dict[str, Any] | None:
    """R-Tuning-R's record: the gold answer if known, else an "I don't know" phrase."""
    if knowledge.label == "known" and gold:
        return _row("replacement", question, f" {gold}.", knowledge)
    if knowledge.label in ("unknown", "unanswerable"):
        phrase = R_TUNING_PHRASES[int(content_hash(prompt_id)[:8], 16) % len(R_TUNING_PHRASES)]
        return _row("replacement", question, f" {phrase}", knowledge)
    return None


def r_tuning_records(prompt_id: str, question: str, answers: list[str], knowledge: Knowledge) -> list[dict[str, Any]]:
    """Both variants' records for one question (zero, one or two rows)."""
    gold = answers[0] if answers else None
    rows = [replacement_record(question, gold, knowledge, prompt_id)]
    if gold:
        rows.insert(0, padded_record(question, gold, knowledge))
    return [dict(row, prompt_id=prompt_id) for row in rows if row is not None]


def _row(variant: str, question: str, completion: str, knowledge: Knowledge) -> dict[str, Any]:
    prompt = question_prefix(question)
    return {
        "variant": variant,
        "text": prompt + completion,
        "prompt": prompt,
        "completion": completion,
        "knowledge": knowledge.label,
        "knowledge_rule": knowledge.rule,
    }
