"""``builtin:bfcl``: read the Berkeley Function Calling Leaderboard's data files where a user has them.

BFCL ships its data as JSON lines: ``BFCL_v4_<category>.json`` (``id``, ``question`` as a list of
turns each a list of messages, ``function`` as the tool docs) and, for categories with a right
call, ``possible_answer/BFCL_v4_<category>.json`` (``id``, ``ground_truth`` in the layout of
:mod:`prefgen.methods.tool_use.task`). Categories without an answer file whose name says ``irrelevance``
are "no call is right" sets. Nothing is installed or downloaded: point ``data_dir`` at a copy,
e.g. the ``bfcl_eval/data`` folder of an installed ``bfcl-eval`` package.

``categories`` defaults to every single-turn category BFCL's Python AST checker scores
(:data:`SINGLE_TURN_CATEGORIES`: simple_python, multiple, parallel, parallel_multiple,
irrelevance and their ``live_`` versions), those of them present in ``data_dir``; categories
named explicitly must be there. Not read by default: ``live_relevance`` (any call is right,
which a ground truth cannot say), ``simple_java`` / ``simple_javascript`` (BFCL converts their
string values by Java/JavaScript rules) and the multi-turn and agentic ones.

Rows that cannot become a single-turn task (multi-turn entries, broken lines, a missing answer)
carry ``task.problem``; the ``tool_call`` reward rejects them with that reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from prefgen.methods.tool_use.task import render_prompt, render_tools

SINGLE_TURN_CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
)
SYSTEM_PROMPT = (
    "You can call these functions. Answer with the calls only, in Python syntax, e.g. "
    "[func1(a=1, b='x'), func2(c=[1, 2])]; answer [] if none of them fits.\n"
)


def load_rows(
    data_dir: str,
    categories: list[str] | tuple[str, ...] | None = None,
    limit: int | None = None,
    prompt_style: Literal["chat", "text"] = "chat",
    version: str = "v4",
    **options: Any,
) -> list[dict[str, Any]]:
    """Tool-use rows from BFCL files, category by category, in file order.

    ``categories`` None: every one of :data:`SINGLE_TURN_CATEGORIES` whose file is in ``data_dir``.
    """
    if options:
        raise TypeError(
            f"builtin:bfcl has no option(s) {sorted(options)}; known: data_dir, categories, "
            "limit, prompt_style, version"
        )
    if prompt_style not in ("chat", "text"):
        raise ValueError(f"builtin:bfcl: prompt_style must be 'chat' or 'text', got {prompt_style!r}")
    root = Path(data_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"builtin:bfcl: data_dir {str(root)!r} is not a directory")
    if categories is None:
        categories = [c for c in SINGLE_TURN_CATEGORIES if (root / f"BFCL_{version}_{c}.json").is_file()]
        if not categories:
            raise FileNotFoundError(
                f"builtin:bfcl: no BFCL_{version}_<category>.json of a single-turn category in {str(root)!r}"
            )
    rows: list[dict[str, Any]] = []
    for category in categories:
        rows.extend(_category_rows(root, category, version, prompt_style))
        if limit is not None and len(rows) >= limit:
            return rows[:limit]
    return rows


def _category_rows(root: Path, category: str, version: str, style: str) -> list[dict[str, Any]]:
    name = f"BFCL_{version}_{category}.json"
    path = root / name
    if not path.is_file():
        raise FileNotFoundError(f"builtin:bfcl: no file {name} in {str(root)!r} (category {category!r})")
    answers = _answers(root / "possible_answer" / name, category)
    rows = []
    for number, entry in _json_lines(path):
        source = f"bfcl:{category}:{entry.get('id', number) if isinstance(entry, dict) else number}"
        rows.append(_entry_row(entry, answers, category, style, source))
    return rows


def _answers(path: Path, category: str) -> dict[str, Any] | None:
    """Ground truths by id; None for an irrelevance category (no call is right)."""
    if not path.is_file():
        if "irrelevance" in category:
            return None
        raise FileNotFoundError(
            f"builtin:bfcl: category {category!r} needs its answers in possible_answer/{path.name}"
        )
    return {
        entry["id"]: entry.get("ground_truth")
        for _, entry in _json_lines(path)
        if isinstance(entry, dict) and "id" in entry
    }


def _json_lines(path: Path):
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, {"problem": f"{path.name}:{number}: not JSON: {exc.msg}"}


def _entry_row(entry: Any, answers: dict | None, category: str, style: str, source: str) -> dict[str, Any]:
    problem = _entry_problem(entry, answers)
    if problem:
        return {
            "prompt": f"(unreadable BFCL entry {source})",
            "source": source,
            "task": {"tools": [], "ground_truth": [], "problem": problem},
        }
    tools, messages = entry["function"], entry["question"][0]
    truth = [] if answers is None else answers[entry["id"]]
    task = {"tools": tools, "ground_truth": truth, "bfcl_id": entry["id"], "category": category}
    if style == "chat":
        prompt: Any = [{"role": "system", "content": SYSTEM_PROMPT + render_tools(tools)}, *messages]
    else:
        prompt = render_prompt(
            tools, "\n".join(m.get("content", "") for m in messages if m.get("role") == "user")
        )
    return {"prompt": prompt, "task": task, "source": source}


def _entry_problem(entry: Any, answers: dict | None) -> str | None:
    if not isinstance(entry, dict) or "problem" in entry:
        return entry.get("problem") if isinstance(entry, dict) else "entry is not a JSON object"
    if not isinstance(entry.get("function"), list) or not isinstance(entry.get("question"), list):
        return "BFCL entry needs 'question' (list of turns) and 'function' (list of tool docs)"
    if len(entry["question"]) != 1 or not isinstance(entry["question"][0], list):
        return "multi-turn BFCL entries are not supported (one turn of messages expected)"
    if answers is not None and entry.get("id") not in answers:
        return f"no ground truth for {entry.get('id')!r} in possible_answer/"
    return None
