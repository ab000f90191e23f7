"""Short-answer questions in the refusal task format, from the common QA layouts.

The task format (what the ``refusal`` reward and pairing read)::

    {"question": "What is the capital of France?", "answers": ["Paris", "City of Paris"]}
    {"question": "What colour is the number 7?", "answers": [], "answerable": false}

``answers`` holds the gold answer and its aliases; ``answerable: false`` marks a question with no
answer (any answer to it is a hallucination). Layouts mapped here (``layout`` option, or a dict
of dotted paths): ``plain`` (the format above), ``triviaqa`` (``question``, ``answer.value`` and
``answer.aliases``), ``nq`` (``question``, ``answers``) and ``selfaware`` (``question``,
``answer`` as a list or null, ``answerable``). Rows are mapped as found; :func:`task_problem`
(which the reward uses to reject rows) names what is wrong with a bad one -- including a gold
answer that normalises to nothing ("the", "."), which no answer could match.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROMPT_TEMPLATE = "Question: {question}\nAnswer:"
LAYOUTS: dict[str, dict[str, str]] = {
    "plain": {"question": "question", "answers": "answers", "answerable": "answerable"},
    "triviaqa": {"question": "question", "answers": "answer.aliases", "gold": "answer.value"},
    "nq": {"question": "question", "answers": "answers"},
    "selfaware": {"question": "question", "answers": "answer", "answerable": "answerable"},
}
_MISSING = object()


def _lookup(record: dict[str, Any], path: str) -> Any:
    """``record["a"]["b"]`` for ``"a.b"``; ``_MISSING`` when any step is absent."""
    value: Any = record
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def layout_paths(layout: str | dict[str, str]) -> dict[str, str]:
    """The dotted paths of a named layout, or a custom mapping checked for known keys."""
    if isinstance(layout, str):
        if layout not in LAYOUTS:
            raise ValueError(f"prompts.options.layout: unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
        return LAYOUTS[layout]
    unknown = set(layout) - {"question", "answers", "answerable", "gold"}
    if unknown or "question" not in layout:
        raise ValueError("prompts.options.layout: expected a layout name or a mapping with 'question' and "
                         f"optionally 'answers', 'answerable', 'gold'; got keys {sorted(layout)}")
    return layout


def map_record(record: dict[str, Any], layout: str | dict[str, str] = "plain",
               template: str = PROMPT_TEMPLATE) -> dict[str, Any]:
    """One record as a prompt row ``{"prompt", "task", ...}``; bad values are kept for rejection."""
    paths = layout_paths(layout)
    question = _lookup(record, paths["question"])
    answers = _lookup(record, paths["answers"]) if "answers" in paths else _MISSING
    answers = [] if answers is None else answers  # SelfAware: null for unanswerable questions
    gold = _lookup(record, paths["gold"]) if "gold" in paths else _MISSING
    if isinstance(gold, str) and isinstance(answers, list) and gold not in answers:
        answers = [gold, *answers]
    task: dict[str, Any] = {}
    if question is not _MISSING:
        task["question"] = question
    if answers is not _MISSING:
        task["answers"] = answers
    answerable = _lookup(record, paths["answerable"]) if "answerable" in paths else _MISSING
    if answerable is not _MISSING and answerable is not None:
        task["answerable"] = answerable
    text = question.strip() if isinstance(question, str) else ""
    row = {"prompt": template.format(question=text), "task": task}
    for key in ("split", "source"):
        if key in record:
            row[key] = record[key]
    return row


def task_problem(task: dict[str, Any]) -> str | None:
    """What makes ``task`` unusable as a short-answer question, or None."""
    if "unreadable" in task:
        return str(task["unreadable"])
    question = task.get("question")
    if not isinstance(question, str) or not question.strip():
        return "task.question: missing or empty (expected the question text)"
    answerable = task.get("answerable", True)
    if not isinstance(answerable, bool):
        return f"task.answerable: expected true or false, got {answerable!r}"
    if task.get("match", "alias") not in ("alias", "number"):
        return f"task.match: expected alias or number, got {task['match']!r}"
    if "answers" not in task and answerable:
        return "task.answers: missing (expected a list of gold answers)"
    answers = task.get("answers", [])
    if not isinstance(answers, list):
        return f"task.answers: expected a list of gold answers, got {type(answers).__name__}"
    if not all(isinstance(a, str) and a.strip() for a in answers):
        return "task.answers: every gold answer must be a non-empty string"
    if answerable and not answers:
        return "task.answers: empty; an answerable question needs a gold answer (or set answerable: false)"
    from prefgen.methods.refusal.answers import given_number, normalise_answer

    for alias in answers:
        if not normalise_answer(alias):
            return (f"task.answers: gold answer {alias[:100]!r} normalises to nothing (only articles, punctuation "
                    "or spaces), so no answer could ever match it")
        if task.get("match") == "number" and given_number(alias) is None:
            return f"task.answers: gold answer {alias[:100]!r} of a numeric question (match: number) is not a number"
    return None


def load_rows(path: str, layout: str | dict[str, str] = "plain", template: str = PROMPT_TEMPLATE,
              split: str = "train", limit: int | None = None) -> list[dict[str, Any]]:
    """Rows from a ``.jsonl``, ``.json`` list, ``.parquet`` file or ``hf:NAME`` dataset at ``path``."""
    records = _read_records(path, split)
    rows = []
    for i, record in enumerate(records):
        if isinstance(record, dict):
            row = map_record(record, layout, template)
        else:  # kept so the reward rejects it with this reason
            row = {"prompt": template.format(question=""), "task": {"unreadable": f"not a JSON object: {record!r}"[:200]}}
        row.setdefault("source", f"{path}#{i}")
        rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    return rows


def _read_records(path: str, split: str) -> list[Any]:
    if path.startswith("hf:"):
        from datasets import load_dataset

        return [dict(r) for r in load_dataset(path[3:], split=split)]
    file = Path(path)
    if file.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(file).to_pylist()
    text = file.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [_parse_line(line) for line in text.splitlines() if line.strip()]


def _parse_line(line: str) -> Any:
    """A JSON line, or the text of the line when it is not JSON (rejected later, with why)."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return f"{line[:100]} ({exc.msg})"
