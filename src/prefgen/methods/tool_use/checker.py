"""Check tool calls against a ground truth by BFCL's AST rules, with partial credit.

A ground truth is BFCL's ``possible_answer`` layout: a list of calls, each ``{function_name:
{param: [allowed values]}}``, where ``""`` among the allowed values means the parameter may be
omitted; an empty list means the right answer makes no call. ``tools`` are the function docs the
prompt showed (``name``, ``parameters.properties`` with BFCL or JSON-schema types, ``required``).

The rules, in BFCL's order: function name; every required parameter present; no parameter outside
the schema or the answer; types (an int is accepted for a float, tuples as lists, array elements
checked one level deep); values (strings compared after normalisation, lists element-wise, dicts
key by key, everything else by membership in the allowed list); then every answer parameter
without ``""`` present. Several calls are matched in any order; their numbers must be equal.

Besides valid/invalid and the first error type, each call gets component scores: the name, the
parameter keys and the values, so a reward can give partial credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from prefgen.methods.tool_use.calls import ToolCall

_STRIP = re.compile(r"[ ,./\-_*^]")
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "int": (int,),
    "float": (float, int),
    "number": (float, int),
    "string": (str,),
    "str": (str,),
    "boolean": (bool,),
    "bool": (bool,),
    "array": (list,),
    "list": (list,),
    "tuple": (list,),
    "dict": (dict,),
    "object": (dict,),
}


@dataclass
class CallScore:
    """How one model call compares with one ground-truth call."""

    valid: bool
    error: str | None
    name: float
    keys: float
    values: float


@dataclass
class CheckResult:
    """The verdict on a whole answer: valid, the first error type, and per-component credit."""

    valid: bool
    error: str | None = None
    name: float = 0.0
    keys: float = 0.0
    values: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


def normalise_string(value: str) -> str:
    """BFCL's string normalisation: drop spaces and ``,./-_*^``, lower-case, ``'`` -> ``"``."""
    return _STRIP.sub("", value).lower().replace("'", '"')


def check_calls(calls: list[ToolCall], ground_truth: list[dict], tools: list[dict]) -> CheckResult:
    """Check ``calls`` against ``ground_truth`` (BFCL possible-answer list) given the ``tools``."""
    if not ground_truth:
        if calls:
            return CheckResult(False, "irrelevance:made_a_call", detail={"calls": len(calls)})
        return CheckResult(True, None, 1.0, 1.0, 1.0)
    if not calls:
        return CheckResult(False, "no_call")
    docs = {tool.get("name"): tool for tool in tools if isinstance(tool, dict)}
    expected = [_unpack_answer(answer) for answer in ground_truth]
    scores = _match_calls(calls, expected, docs)
    count = max(len(calls), len(expected))
    total = {part: sum(getattr(s, part) for s in scores) / count for part in ("name", "keys", "values")}
    if len(calls) != len(expected):
        return CheckResult(
            False, "wrong_count", **total, detail={"calls": len(calls), "expected": len(expected)}
        )
    errors = [s.error for s in scores if not s.valid]
    if errors:
        return CheckResult(
            False,
            errors[0] if len(expected) == 1 else "parallel:cannot_find_match",
            **total,
            detail={"errors": errors},
        )
    return CheckResult(True, None, **total)


def _unpack_answer(answer: dict) -> tuple[str, dict[str, list]]:
    if not isinstance(answer, dict) or len(answer) != 1:
        raise ValueError(
            f"ground truth: each call must be {{function_name: {{param: [values]}}}}, got {answer!r}"
        )
    ((name, params),) = answer.items()
    if not isinstance(params, dict) or not all(isinstance(v, list) for v in params.values()):
        raise ValueError(f"ground truth: parameters of {name!r} must map names to lists of allowed values")
    return name, params


def _match_calls(calls: list[ToolCall], expected: list[tuple[str, dict]], docs: dict) -> list[CallScore]:
    """Pair each expected call with the unmatched model call that scores best (valid first)."""
    free = list(range(len(calls)))
    scores = []
    for name, allowed in expected:
        if not free:
            break
        options = [(check_one(calls[i], name, allowed, docs.get(name)), i) for i in free]
        best, index = max(options, key=lambda o: (o[0].valid, _credit(o[0]), -o[1]))
        free.remove(index)
        scores.append(best)
    return scores


def _credit(score: CallScore) -> float:
    return score.name + score.keys + score.values


def check_one(call: ToolCall, name: str, allowed: dict[str, list], doc: dict | None) -> CallScore:
    """One model call against one ground-truth call, by BFCL's single-call rules."""
    if call.name != name:
        return CallScore(False, "wrong_func_name", 0.0, 0.0, 0.0)
    properties, required = _schema(doc)
    given, needed = set(call.arguments), {k for k, v in allowed.items() if "" not in v} | set(required)
    keys = len(given & set(allowed)) / max(1, len(given | needed))
    checks = {
        key: _check_value(value, allowed.get(key), properties.get(key, {}))
        for key, value in call.arguments.items()
    }
    good_values = sum(1 for error in checks.values() if error is None)
    values = good_values / max(1, len(given | needed))
    error = _first_error(call, allowed, required, properties, checks)
    return CallScore(error is None, error, 1.0, keys, values)


def _first_error(call, allowed, required, properties, checks) -> str | None:
    if any(param not in call.arguments for param in required):
        return "missing_required"
    for key in call.arguments:
        if key not in allowed or (properties and key not in properties):
            return "unexpected_param"
    for error in checks.values():
        if error is not None:
            return error
    if any(key not in call.arguments and "" not in values for key, values in allowed.items()):
        return "missing_optional"
    return None


def _schema(doc: dict | None) -> tuple[dict, list]:
    parameters = (doc or {}).get("parameters") or {}
    return parameters.get("properties") or {}, list(parameters.get("required") or [])


def _check_value(value: Any, allowed: list | None, prop: dict) -> str | None:
    """The error type of one argument value, or None when it is acceptable."""
    if allowed is None:
        return "unexpected_param"
    type_error = _type_error(value, prop)
    if type_error:
        return type_error
    candidates = [a for a in allowed if a != ""]
    if isinstance(value, str):
        ok = normalise_string(value) in {normalise_string(a) for a in candidates if isinstance(a, str)}
        return None if ok else "value_error:string"
    if isinstance(value, list):
        return (
            None
            if any(_same_list(value, a) for a in candidates if isinstance(a, list))
            else "value_error:list"
        )
    if isinstance(value, dict):
        return (
            None
            if any(_dict_matches(value, a) for a in candidates if isinstance(a, dict))
            else "value_error:dict"
        )
    return None if any(_same_scalar(value, a) for a in candidates) else "value_error:others"


def _type_error(value: Any, prop: dict) -> str | None:
    expected = _PY_TYPES.get(str(prop.get("type", "")).lower())
    if expected is None:
        return None
    if not _is_type(value, expected):
        return "type_error:simple"
    item_types = _PY_TYPES.get(str((prop.get("items") or {}).get("type", "")).lower())
    if isinstance(value, list) and item_types and not all(_is_type(v, item_types) for v in value):
        return "type_error:nested"
    return None


def _is_type(value: Any, types: tuple[type, ...]) -> bool:
    # bool is a subclass of int in Python; a boolean is never a number here.
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _same_scalar(value: Any, allowed: Any) -> bool:
    if isinstance(value, bool) or isinstance(allowed, bool):
        return type(value) is type(allowed) and value == allowed
    if isinstance(value, str) and isinstance(allowed, str):
        return normalise_string(value) == normalise_string(allowed)
    return type(value) in (int, float) and type(allowed) in (int, float) and value == allowed


def _same_list(value: list, allowed: list) -> bool:
    return len(value) == len(allowed) and all(_same_element(v, a) for v, a in zip(value, allowed))


def _same_element(value: Any, allowed: Any) -> bool:
    if isinstance(value, list) and isinstance(allowed, list):
        return _same_list(value, allowed)
    if isinstance(value, dict) and isinstance(allowed, dict):
        return value.keys() == allowed.keys() and all(_same_element(value[k], allowed[k]) for k in value)
    return _same_scalar(value, allowed)


def _dict_matches(value: dict, allowed: dict) -> bool:
    """Key by key: each given key allowed, its value among the key's allowed values."""
    for key, item in value.items():
        options = allowed.get(key)
        if not isinstance(options, list):
            return False
        if not any(_same_element(item, option) for option in options if option != ""):
            return False
    return all(key in value or "" in options for key, options in allowed.items() if isinstance(options, list))
