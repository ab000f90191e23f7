"""Problems in MBPP's jsonl layout, as prompt rows for the execution reward.

MBPP files (``mbpp.jsonl``, ``sanitized-mbpp.json``) hold one problem per record with ``text``
(or ``prompt``), ``code``, ``test_list``, ``test_setup_code`` and ``task_id``. Each becomes
``{"prompt": ..., "task": {"tests": test_list, "setup": test_setup_code, "format": "full",
"canonical_solution": code}, "source": "mbpp:<task_id>"}``; the prompt is LeTI's / the MBPP
paper's: the description and the first test in a docstring, so that the model learns the
function's name and signature.

Your own problems need no converter: a jsonl whose rows are ``{"prompt": ..., "task": {"tests":
[...], ...}}`` (keys documented in :mod:`prefgen.methods.execution.reward`) is read as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_rows(path: str, limit: int | None = None, **options: Any) -> list[dict[str, Any]]:
    """Rows from an MBPP-layout ``.jsonl`` (one object a line) or ``.json`` (a list) at ``path``."""
    if options:
        raise TypeError(f"mbpp rows take no option(s) {sorted(options)}; known: path, limit")
    text = Path(path).read_text(encoding="utf-8")
    records = json.loads(text) if text.lstrip().startswith("[") else [
        json.loads(line) for line in text.splitlines() if line.strip()]
    rows = []
    for record in records:
        rows.append(mbpp_to_row(record))
        if limit is not None and len(rows) >= limit:
            break
    return rows


def mbpp_to_row(record: dict[str, Any]) -> dict[str, Any]:
    """One MBPP record as a prompt row (see the module docstring)."""
    description = record.get("text") or record.get("prompt") or ""
    tests = list(record.get("test_list") or [])
    example = f"\n{tests[0]}" if tests else ""
    task: dict[str, Any] = {"tests": tests, "format": "full"}
    if record.get("test_setup_code"):
        task["setup"] = record["test_setup_code"]
    if record.get("code"):
        task["canonical_solution"] = record["code"]
    return {"prompt": f'"""\n{description.strip()}{example}\n"""\n', "task": task,
            "source": f"mbpp:{record.get('task_id', '')}"}
