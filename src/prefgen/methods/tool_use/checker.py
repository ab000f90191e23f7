"""Check tool calls against a ground truth by BFCL's AST rules, with partial credit.

A ground truth is BFCL's ``possible_answer`` layout: a list of calls, each ``{function_name:
{param: [allowed values]}}``, where ``""`` among the allowed values means the parameter may be
omitted; an empty list means the right answer makes no call. A ``dict`` parameter's allowed
value is itself a dict of allowed-value lists (``{"min": [500000]}``), and an array of dicts is
a list of such dicts. ``tools`` are the function docs the prompt showed (``name``,
``parameters.properties`` with BFCL or JSON-schema types, ``required``).

The rules are those of BFCL's Python AST checker (``bfcl_eval.eval_checker.ast_eval``), in its
order, and ``tests/test_bfcl_differential.py`` holds this module to that checker:

1. the function name;
2. every required parameter present;
3. for each given parameter, in the answer's order: known to the schema and to the answer;
   its type (an int is accepted for a ``float`` at the top level only, a tuple only for a
   ``tuple``; array elements checked one level deep; a value of the ground truth's own type is
   accepted where it differs from the schema's, BFCL's "variable"); its value (strings compared
   after removing spaces and ``,./-_*^``, lower-casing and ``'`` -> ``"``; lists element-wise;
   dicts key by key; lists of dicts dict by dict; anything else by membership);
4. every answer parameter without ``""`` present.

So a parameter that may be omitted can also be given as ``''`` (a string) or ``[]`` (an array),
as BFCL allows. Several calls are matched in any order (each ground-truth call to the first
unmatched model call it accepts); their numbers must be equal.

Error types. ``CheckResult.bfcl_error`` is BFCL's own ``error_type`` (checker prefix included,
chosen by the task's BFCL ``category`` as BFCL chooses it); ``CheckResult.error`` is prefgen's
shorter name for it (:data:`BFCL_ERROR_TYPES` maps one to the other):

=============================  ==================================================================
prefgen ``error``              BFCL ``error_type``
=============================  ==================================================================
wrong_func_name                simple_function_checker:wrong_func_name
missing_required               simple_function_checker:missing_required
unexpected_param               simple_function_checker:unexpected_param
missing_optional               simple_function_checker:missing_optional
type_error:simple / :nested    the same
value_error:string / :others   the same
value_error:list               value_error:list/tuple
value_error:dict               value_error:dict_key, value_error:dict_value,
                               value_error:list_dict_count, dict_checker:unclear,
                               list_dict_checker:unclear
wrong_count, no_call           <checker>:wrong_count (simple_function_checker,
                               multiple_function_checker or parallel_function_checker_no_order)
parallel:cannot_find_match     parallel_function_checker_no_order:cannot_find_match
irrelevance:made_a_call        irrelevance_error:decoder_success
=============================  ==================================================================

Besides valid/invalid and the error type, each call gets component scores: the name, the
parameter keys and the values, so a reward can give partial credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from prefgen.methods.tool_use.calls import ToolCall, TupleValue

_STRIP = re.compile(r"[ ,./\-_*^]")
# BFCL's Python type of each schema type (its PYTHON_TYPE_MAPPING), plus JSON-schema spellings.
_PY_TYPES: dict[str, type] = {
    "string": str,
    "str": str,
    "any": str,  # BFCL's choice: "any" is checked as a string
    "integer": int,
    "int": int,
    "float": float,
    "number": float,
    "boolean": bool,
    "bool": bool,
    "array": list,
    "list": list,
    "tuple": list,  # BFCL reads tuples back from JSON as lists
    "dict": dict,
    "object": dict,
}
_NESTED = ("array", "tuple", "list")  # schema types whose items BFCL checks one level deep

# prefgen's short error name -> BFCL's error_type ("<checker>" is the checker BFCL dispatches to).
BFCL_ERROR_TYPES: dict[str, tuple[str, ...]] = {
    "wrong_func_name": ("simple_function_checker:wrong_func_name",),
    "missing_required": ("simple_function_checker:missing_required",),
    "unexpected_param": ("simple_function_checker:unexpected_param",),
    "missing_optional": ("simple_function_checker:missing_optional",),
    "type_error:simple": ("type_error:simple",),
    "type_error:nested": ("type_error:nested",),
    "value_error:string": ("value_error:string",),
    "value_error:others": ("value_error:others",),
    "value_error:list": ("value_error:list/tuple",),
    "value_error:dict": (
        "value_error:dict_key",
        "value_error:dict_value",
        "value_error:list_dict_count",
        "dict_checker:unclear",
        "list_dict_checker:unclear",
    ),
    "wrong_count": ("<checker>:wrong_count",),
    "no_call": ("<checker>:wrong_count",),
    "parallel:cannot_find_match": ("parallel_function_checker_no_order:cannot_find_match",),
    "irrelevance:made_a_call": ("irrelevance_error:decoder_success",),
}
_SHORT = {bfcl: short for short, names in BFCL_ERROR_TYPES.items() for bfcl in names if "<" not in bfcl}


@dataclass
class CallScore:
    """How one model call compares with one ground-truth call (``error`` in BFCL's naming)."""

    valid: bool
    error: str | None
    name: float
    keys: float
    values: float


@dataclass
class CheckResult:
    """The verdict on a whole answer: valid, the error type (prefgen's and BFCL's), component credit."""

    valid: bool
    error: str | None = None
    name: float = 0.0
    keys: float = 0.0
    values: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)
    bfcl_error: str | None = None


def normalise_string(value: str) -> str:
    """BFCL's string normalisation: drop spaces and ``,./-_*^``, lower-case, ``'`` -> ``"``."""
    return _STRIP.sub("", value).lower().replace("'", '"')


def short_error(bfcl_error: str | None) -> str | None:
    """prefgen's name for BFCL's ``error_type`` (see :data:`BFCL_ERROR_TYPES`)."""
    if bfcl_error is None:
        return None
    if bfcl_error.endswith(":wrong_count"):
        return "wrong_count"
    return _SHORT.get(bfcl_error, bfcl_error)


def checker_kind(category: str | None, expected_calls: int) -> str:
    """The BFCL checker for a category, as BFCL picks it (by name); without one, by call count."""
    if category:
        if "parallel" in category:
            return "parallel_function_checker_no_order"
        if "multiple" in category:
            return "multiple_function_checker"
        return "simple_function_checker"
    return "parallel_function_checker_no_order" if expected_calls > 1 else "simple_function_checker"


def check_calls(
    calls: list[ToolCall], ground_truth: list[dict], tools: list[dict], category: str | None = None
) -> CheckResult:
    """Check ``calls`` against ``ground_truth`` (BFCL possible-answer list) given the ``tools``.

    ``category`` (a BFCL category such as ``parallel_multiple``) only picks BFCL's checker name
    for ``bfcl_error``; the verdict is the same for every category.
    """
    if not ground_truth:
        if calls:
            return _result(False, "irrelevance_error:decoder_success", detail={"calls": len(calls)})
        return CheckResult(True, None, 1.0, 1.0, 1.0)
    expected = [_unpack_answer(answer) for answer in ground_truth]
    kind = checker_kind(category, len(expected))
    if not calls:
        return _result(False, f"{kind}:wrong_count", short="no_call")
    docs = {tool.get("name"): tool for tool in tools if isinstance(tool, dict)}
    scores = _match_calls(calls, expected, docs)
    count = max(len(calls), len(expected))
    total = {part: sum(getattr(s, part) for s in scores) / count for part in ("name", "keys", "values")}
    if len(calls) != len(expected):
        return _result(False, f"{kind}:wrong_count", **total,
                       detail={"calls": len(calls), "expected": len(expected)})
    errors = [s.error for s in scores if not s.valid]
    if errors:
        error = errors[0] if kind != "parallel_function_checker_no_order" else f"{kind}:cannot_find_match"
        return _result(False, error, **total, detail={"errors": [short_error(e) for e in errors]})
    return CheckResult(True, None, **total)


def _result(valid: bool, bfcl_error: str, short: str | None = None, **fields: Any) -> CheckResult:
    return CheckResult(valid, short or short_error(bfcl_error), bfcl_error=bfcl_error, **fields)


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
    """Pair each expected call with the first unmatched model call it accepts, as BFCL does;
    failing that (the answer is invalid), with the one that earns the most partial credit."""
    free = list(range(len(calls)))
    scores = []
    for name, allowed in expected:
        if not free:
            break
        options = [(check_one(calls[i], name, allowed, docs.get(name)), i) for i in free]
        valid = [option for option in options if option[0].valid]
        best, index = valid[0] if valid else max(options, key=lambda o: (_credit(o[0]), -o[1]))
        free.remove(index)
        scores.append(best)
    return scores


def _credit(score: CallScore) -> float:
    return score.name + score.keys + score.values


def check_one(call: ToolCall, name: str, allowed: dict[str, list], doc: dict | None) -> CallScore:
    """One model call against one ground-truth call, by BFCL's single-call rules."""
    if call.name != name:
        return CallScore(False, "simple_function_checker:wrong_func_name", 0.0, 0.0, 0.0)
    properties, required = _schema(doc)
    given, needed = set(call.arguments), {k for k, v in allowed.items() if "" not in v} | set(required)
    keys = len(given & set(allowed)) / max(1, len(given | needed))
    checks = {
        key: _check_argument(value, allowed.get(key), properties, key)
        for key, value in call.arguments.items()
    }
    good_values = sum(1 for error in checks.values() if error is None)
    values = good_values / max(1, len(given | needed))
    error = _first_error(call, allowed, required, checks)
    return CallScore(error is None, error, 1.0, keys, values)


def _first_error(call: ToolCall, allowed: dict, required: list, checks: dict) -> str | None:
    if any(param not in call.arguments for param in required):
        return "simple_function_checker:missing_required"
    for error in checks.values():  # the answer's order, as BFCL checks them
        if error is not None:
            return error
    if any(key not in call.arguments and "" not in values for key, values in allowed.items()):
        return "simple_function_checker:missing_optional"
    return None


def _schema(doc: dict | None) -> tuple[dict, list]:
    parameters = (doc or {}).get("parameters") or {}
    return parameters.get("properties") or {}, list(parameters.get("required") or [])


def _check_argument(value: Any, allowed: list | None, properties: dict, key: str) -> str | None:
    """BFCL's error type for one given argument, or None when it is acceptable.

    A tool without a schema (no ``properties``) is checked against the answer alone.
    """
    if allowed is None or (properties and key not in properties):
        return "simple_function_checker:unexpected_param"
    value = _python_value(value)
    prop = properties.get(key) or {}
    schema_type = str(prop.get("type", "")).lower()
    expected = _PY_TYPES.get(schema_type)
    if expected is None:  # a type BFCL does not know: compare the value only
        return _check_value(value, allowed, _value_kind(value), None)
    if schema_type == "tuple" and type(value) is tuple:
        value = list(value)
    if schema_type == "float" and type(value) is int:  # BFCL: int for float, top level only
        value = float(value)
    item_type = None
    if schema_type in _NESTED:
        item_type = _PY_TYPES.get(str((prop.get("items") or {}).get("type", "")).lower())
    type_error, is_variable = _type_check(value, allowed, expected, item_type)
    if type_error:
        return type_error
    if is_variable:  # BFCL compares a "variable" by plain membership
        return None if _member(value, allowed) else "value_error:others"
    return _check_value(value, allowed, expected, item_type)


def _python_value(value: Any, depth: int = 0) -> Any:
    """The value as BFCL's decoder gives it: a tuple the policy wrote is a tuple again."""
    if depth > 64:  # parsed values are bounded far below this; a cap keeps any input safe
        return value
    if isinstance(value, TupleValue):
        return tuple(_python_value(item, depth + 1) for item in value)
    if isinstance(value, list):
        return [_python_value(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: _python_value(item, depth + 1) for key, item in value.items()}
    return value


def _answer_type(allowed: list) -> type | None:
    """The type of the first allowed value that is not ``""`` (BFCL's possible-answer type)."""
    for option in allowed:
        if option != "":
            return type(option)
    return None


def _type_check(value: Any, allowed: list, expected: type, item_type: type | None) -> tuple[str | None, bool]:
    """(error type or None, whether BFCL treats the value as a "variable") for one argument."""
    answer_type = _answer_type(allowed)
    is_variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if item_type is None or any(_items_typed(value, option, item_type) for option in allowed):
            return None, is_variable
        return "type_error:nested", is_variable
    if answer_type is not None and type(value) is answer_type:
        return None, True
    return "type_error:simple", is_variable


def _items_typed(value: list, option: Any, item_type: type) -> bool:
    """BFCL's one-level check of an array against one allowed value (non-lists pass, as there)."""
    if not isinstance(option, list):
        return True
    option_type = _answer_type(option)
    return all(type(item) is item_type or type(item) is option_type for item in value)


def _value_kind(value: Any) -> type:
    return list if isinstance(value, list) else type(value)


def _check_value(value: Any, allowed: list, expected: type, item_type: type | None) -> str | None:
    """BFCL's value check for a value whose type passed."""
    if expected is dict:
        return _dict_error(value, allowed)
    if expected is list and item_type is dict:
        return _list_dict_error(value, allowed)
    if expected is str:
        ok = normalise_string(value) in {normalise_string(a) for a in allowed if type(a) is str}
        return None if ok else "value_error:string"
    if expected is list:
        given = _standard_list(value)
        ok = any(given == _standard_list(option) for option in allowed if isinstance(option, (list, str)))
        return None if ok else "value_error:list/tuple"
    return None if _member(value, allowed) else "value_error:others"


def _member(value: Any, allowed: list) -> bool:
    """Python's ``in`` (so ``1 == 1.0``), as BFCL compares; safe for any values."""
    return any(value == option for option in allowed)


def _standard_list(items: list | str) -> list:
    """Strings in a list normalised (an allowed ``""`` becomes ``[]``: an omissible array)."""
    return [normalise_string(item) if type(item) is str else item for item in items]


def _dict_error(value: dict, allowed: list) -> str | None:
    """Key by key against each allowed dict; BFCL's error of the last one tried."""
    error = "dict_checker:unclear"
    for option in allowed:
        if option == "":
            continue
        error = _one_dict_error(value, option)
        if error is None:
            return None
    return error


def _one_dict_error(value: Any, option: Any) -> str | None:
    if not isinstance(value, dict) or not isinstance(option, dict):
        return "value_error:dict_key"
    for key, item in value.items():
        if key not in option:
            return "value_error:dict_key"
        options = option[key] if isinstance(option[key], list) else []
        given = normalise_string(item) if type(item) is str else item
        if not _member(given, _standard_list(options)):
            return "value_error:dict_value"
    for key, options in option.items():
        if key not in value and (not isinstance(options, list) or "" not in options):
            return "value_error:dict_key"
    return None


def _list_dict_error(value: list, allowed: list) -> str | None:
    """A list of dicts against each allowed list of dicts, dict by dict in order."""
    error = "list_dict_checker:unclear"
    for option in allowed:
        if not isinstance(option, (list, str)) or len(value) != len(option):
            error = "value_error:list_dict_count"
            continue
        errors = (_one_dict_error(item, wanted) for item, wanted in zip(value, option))
        error = next((e for e in errors if e is not None), None)
        if error is None:
            return None
    return error


def reference_value(allowed: list, required: bool = True) -> tuple[bool, Any]:
    """One acceptable value from an allowed-value list: (give it?, value).

    An optional parameter (``""`` allowed, not ``required``) is left out; a dict's allowed value
    (a dict of allowed-value lists) and a list of such dicts become plain values key by key.
    """
    options = [option for option in allowed if option != ""]
    if not options or (not required and "" in allowed):
        return False, None
    return True, _plain(options[0])


def _plain(option: Any) -> Any:
    if isinstance(option, dict) and all(isinstance(v, list) for v in option.values()):
        plain = {}
        for key, allowed in option.items():
            give, value = reference_value(allowed, required=False)
            if give:
                plain[key] = value
        return plain
    if isinstance(option, list) and option and all(isinstance(o, dict) for o in option):
        return [_plain(item) for item in option]
    return option


def reference_call(name: str, allowed: dict[str, list], doc: dict | None) -> ToolCall:
    """A call the checker accepts for one ground-truth call, where one exists.

    A required parameter whose only allowed value is ``""`` is given empty (``''`` or ``[]``
    by its schema type), which BFCL accepts.
    """
    properties, required = _schema(doc)
    arguments = {}
    for key, options in allowed.items():
        give, value = reference_value(options, required=key in required)
        if give:
            arguments[key] = value
        elif key in required and "" in options:
            empty = _PY_TYPES.get(str((properties.get(key) or {}).get("type", "")).lower(), str)()
            if isinstance(empty, (str, list)):
                arguments[key] = empty
    return ToolCall(name, arguments)


def ground_truth_problem(ground_truth: list, tools: list[dict]) -> str | None:
    """Why no answer can pass ``ground_truth`` by these rules, or None when one does.

    The answer tried is :func:`reference_call`'s for each call (optional parameters left out,
    dict-valued ground truths made plain). A ground truth that needs a parameter the tool's
    schema lacks can never pass, in BFCL's checker as here; one that lists such a parameter
    as optional (``""`` allowed) passes without it.
    """
    docs = {tool.get("name"): tool for tool in tools if isinstance(tool, dict)}
    calls = []
    for answer in ground_truth:
        name, allowed = _unpack_answer(answer)
        properties, _ = _schema(docs.get(name))
        unknown = sorted(k for k, v in allowed.items() if properties and k not in properties and "" not in v)
        empty = sorted(k for k, v in allowed.items() if not v)
        if empty:
            return f"task.ground_truth: {name} allows no value for {empty} (an empty list), so no answer can pass"
        if unknown:
            return (
                f"task.ground_truth: {name} needs parameter(s) {unknown} that its schema lacks, "
                "so no answer can pass (BFCL's checker rejects every one too)"
            )
        calls.append(reference_call(name, allowed, docs.get(name)))
    if not check_calls(calls, ground_truth, tools).valid:
        return "task.ground_truth: its own first allowed values do not pass the checker"
    return None
