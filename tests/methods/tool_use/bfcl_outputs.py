"""Model outputs built from BFCL's own single-turn items, for the differential test against its checker.

For each sampled item of each single-turn category (the ground truths in ``possible_answer/``,
the tool docs in ``BFCL_v4_<category>.json``) the generator writes answers that BFCL's checker
should accept and answers it should reject, each labelled with the rule it exercises. Whether an
answer is right is not decided here: BFCL's checker decides, and prefgen must agree.

Each output carries the text a model would write (Python call syntax) and ``decoded``, what
BFCL's decoder makes of that text: ``[{name: {param: value}}]``, or None where the decoder
fails. For literal values the text is the ``repr`` of the decoded value, which BFCL's decoder
(``ast.parse`` and a walk over literals) reads back to the same value. Only the deliberate
differences (arithmetic, bare names, positional arguments, broken call text) write ``decoded``
by hand, as BFCL's decoder resolves them: it ``eval``s arithmetic, reads a bare name as its
string and drops positional arguments. BFCL's decoder itself cannot be imported here (its module
imports tree-sitter and tenacity, which its checker does not need).

Deterministic: items are sampled with a seeded ``random.Random``; everything else follows the
data's order.
"""

from __future__ import annotations

import json
import keyword
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefgen.methods.tool_use.bfcl import SINGLE_TURN_CATEGORIES

CATEGORIES = SINGLE_TURN_CATEGORIES  # every category the reader reads by default
ITEMS_PER_CATEGORY = 30  # sampled; items showing a rare rule (dict values, tuples, ...) are added

# Rule classes where prefgen is deliberately stricter than BFCL, with the reason.
DELIBERATE = {
    "arithmetic": "BFCL's decoder evals arithmetic (x=4 + 1); prefgen never evaluates policy text",
    "bare_name": "BFCL's decoder reads a bare name as its string (unit=cm); prefgen asks for quotes",
    "positional": "BFCL's decoder drops positional arguments; prefgen refuses them rather than lose them",
    "broken_call_text": "BFCL counts undecodable text as 'no call' (right when none is wanted); "
    "prefgen's prose_only_no_call counts broken call text as wrong",
}


@dataclass(frozen=True)
class Output:
    """One model answer to one BFCL item."""

    category: str
    item_id: str
    rule: str
    text: str
    decoded: list | None  # what BFCL's decoder returns for ``text``; None: it fails


def load_items(data_dir: Path, category: str) -> list[dict[str, Any]]:
    """BFCL's entries of a category with their ground truth (None for irrelevance categories)."""
    entries = _json_lines(data_dir / f"BFCL_v4_{category}.json")
    answer_file = data_dir / "possible_answer" / f"BFCL_v4_{category}.json"
    answers = {a["id"]: a["ground_truth"] for a in _json_lines(answer_file)} if answer_file.is_file() else {}
    return [{**entry, "ground_truth": answers.get(entry["id"])} for entry in entries]


def _json_lines(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def generate(data_dir: Path, seed: int = 0, per_category: int = ITEMS_PER_CATEGORY) -> list[Output]:
    """Every output for the sampled items of every single-turn category in ``data_dir``."""
    rng = random.Random(seed)
    outputs: list[Output] = []
    for category in CATEGORIES:
        if not (data_dir / f"BFCL_v4_{category}.json").is_file():
            continue
        items = load_items(data_dir, category)
        chosen = sorted(rng.sample(range(len(items)), min(per_category, len(items))))
        chosen = sorted(set(chosen) | {i for i, item in enumerate(items) if _is_rare(item)})
        for index in chosen:
            outputs.extend(item_outputs(category, items[index]))
    return outputs


def item_outputs(category: str, item: dict[str, Any]) -> list[Output]:
    """The outputs for one item: its accepting and rejecting variants."""
    if item["ground_truth"] is None:
        variants = _no_call_variants(item)
    else:
        variants = _call_variants(item)
    return [Output(category, item["id"], rule, text, decoded) for rule, text, decoded in variants]


# --- what an item's schema and ground truth hold --------------------------------------------


def _docs(item: dict) -> dict[str, dict]:
    return {doc["name"]: doc for doc in item["function"]}


def _props(doc: dict | None) -> tuple[dict, list]:
    parameters = (doc or {}).get("parameters") or {}
    return parameters.get("properties") or {}, list(parameters.get("required") or [])


def _params(item: dict):
    """(call index, function name, param, allowed values, schema of the param or None, required)."""
    docs = _docs(item)
    for index, call in enumerate(item["ground_truth"]):
        ((name, allowed),) = call.items()
        props, required = _props(docs.get(name))
        for param, options in allowed.items():
            yield index, name, param, options, props.get(param), param in required


def _is_rare(item: dict) -> bool:
    """Whether an item shows a rule few items show (they are all added to the sample)."""
    if item["ground_truth"] is None:
        return False
    for _, _, _, options, spec, _ in _params(item):
        kind = (spec or {}).get("type")
        items = ((spec or {}).get("items") or {}).get("type")
        if spec is None or kind in ("dict", "tuple") or items == "dict":
            return True
        if kind == "array" and items == "float":
            return True
        if kind == "array" and "" in options:
            return True
    return False


def _schema_type(spec: dict | None) -> str | None:
    return (spec or {}).get("type")


# --- answers --------------------------------------------------------------------------------


def _first(options: list) -> Any:
    return next(option for option in options if option != "")


def _plain(option: Any) -> Any:
    """A plain value from an allowed value (dicts of allowed lists, lists of such dicts)."""
    if isinstance(option, dict) and all(isinstance(v, list) for v in option.values()):
        return {k: _plain(_first(v)) for k, v in option.items() if v and "" not in v}
    if isinstance(option, list) and option and all(isinstance(o, dict) for o in option):
        return [_plain(o) for o in option]
    return option


def _reference(item: dict) -> list[tuple[str, dict]]:
    """One answer: each parameter's first allowed value; optional ones left out."""
    docs = _docs(item)
    calls = []
    for call in item["ground_truth"]:
        ((name, allowed),) = call.items()
        props, required = _props(docs.get(name))
        args = {}
        for param, options in allowed.items():
            values = [o for o in options if o != ""]
            if "" in options and param not in required:
                continue
            if values:
                args[param] = _plain(values[0])
            elif param in required and _schema_type(props.get(param)) == "string":
                args[param] = ""
        calls.append((name, args))
    return calls


def _text(calls: list[tuple[str, dict]]) -> str:
    return "[" + ", ".join(f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})" for name, args in calls) + "]"


def _decoded(calls: list[tuple[str, dict]]) -> list[dict]:
    return [{name: dict(args)} for name, args in calls]


def _variant(rule: str, calls: list[tuple[str, dict]]):
    return rule, _text(calls), _decoded(calls)


def _with_arg(calls, index: int, param: str, value: Any, drop: bool = False):
    changed = [(name, dict(args)) for name, args in calls]
    if drop:
        changed[index][1].pop(param, None)
    else:
        changed[index][1][param] = value
    return changed


def _call_variants(item: dict) -> list[tuple[str, str, list | None]]:
    calls = _reference(item)
    out = [_variant("reference", calls)]
    out += _value_variants(item, calls)
    out += _shape_variants(item, calls)
    out += _deliberate_variants(item, calls)
    return out


def _value_variants(item: dict, calls) -> list:
    out = []
    for index, _, param, options, spec, required in _params(item):
        kind = _schema_type(spec)
        items = ((spec or {}).get("items") or {}).get("type")
        values = [o for o in options if o != ""]
        if spec is None:
            out.append(_variant("param_missing_from_schema", calls))
            if values:
                out.append(_variant("param_missing_from_schema", _with_arg(calls, index, param, _plain(values[0]))))
            continue
        for option in values[1:3]:
            out.append(_variant("each_allowed_value", _with_arg(calls, index, param, _plain(option))))
        if "" in options and values and not required:
            out.append(_variant("optional_given", _with_arg(calls, index, param, _plain(values[0]))))
        if "" in options and kind in ("string", "array", "dict"):
            empty = {"string": "", "array": [], "dict": {}}[kind]
            out.append(_variant("empty_for_omissible", _with_arg(calls, index, param, empty)))
        if not values:
            continue
        value = _plain(values[0])
        expected = {"string": str, "integer": int, "float": float, "boolean": bool, "array": list, "dict": dict}
        if kind in expected and type(values[0]) is not expected[kind] and not (kind == "float" and type(values[0]) is int):
            out.append(_variant("answer_type_not_schema", _with_arg(calls, index, param, value)))
        if kind == "float" and isinstance(value, float) and value.is_integer():
            out.append(_variant("int_for_float", _with_arg(calls, index, param, int(value))))
        if kind == "string" and isinstance(value, str) and value:
            out.append(_variant("normalised_string", _with_arg(calls, index, param, value.upper() + " ")))
        if kind == "array" and isinstance(value, list):
            out.append(_variant("tuple_for_array", _with_arg(calls, index, param, tuple(value))))
            if items == "float" and any(isinstance(v, float) and v.is_integer() for v in value):
                ints = [int(v) if isinstance(v, float) and v.is_integer() else v for v in value]
                out.append(_variant("int_in_float_array", _with_arg(calls, index, param, ints)))
            if items == "dict" and value and isinstance(value[0], dict) and value[0]:
                out.append(_variant("list_of_dicts", calls))
                first = dict(value[0])
                key = next(iter(first))
                first[key] = _wrong(first[key])
                out.append(_variant("list_of_dicts", _with_arg(calls, index, param, [first, *value[1:]])))
        if kind == "tuple" and isinstance(value, list):
            out.append(_variant("tuple_for_tuple", _with_arg(calls, index, param, tuple(value))))
        if kind == "dict" and isinstance(value, dict):
            out.append(_variant("nested_dict_truth", calls))
            out.append(_variant("nested_dict_truth", _with_arg(calls, index, param, {**value, "zz_extra": 1})))
            if value:
                key = next(iter(value))
                out.append(_variant("nested_dict_truth", _with_arg(calls, index, param, {**value, key: _wrong(value[key])})))
        out.append(_variant("wrong_value", _with_arg(calls, index, param, _wrong(value))))
        wrong_type = {"string": 12345, "integer": "7", "float": "7.5", "boolean": "true", "array": "x", "dict": "x"}
        if kind in wrong_type:
            out.append(_variant("wrong_type", _with_arg(calls, index, param, wrong_type[kind])))
    return out


def _wrong(value: Any) -> Any:
    """A value of the same type that no ground truth allows."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 9973
    if isinstance(value, float):
        return value + 9973.5
    if isinstance(value, str):
        return value + " zzqx"
    if isinstance(value, list):
        return [*value, value[-1]] if value else ["zzqx"]
    if isinstance(value, dict):
        return {**value, "zzqx": 1}
    return "zzqx"


def _shape_variants(item: dict, calls) -> list:
    docs = _docs(item)
    out = []
    name, args = calls[0]
    out.append(_variant("wrong_name", [(name + "_v2", args), *calls[1:]]))
    _, required = _props(docs.get(name))
    present = [p for p in required if p in args]
    if present:
        out.append(_variant("missing_required", _with_arg(calls, 0, present[0], None, drop=True)))
    ((_, allowed),) = item["ground_truth"][0].items()
    needed = [p for p in args if p not in required and "" not in allowed.get(p, [""])]
    if needed:  # an answer parameter the schema calls optional but the answer needs
        out.append(_variant("missing_answer_param", _with_arg(calls, 0, needed[0], None, drop=True)))
    out.append(_variant("extra_param", _with_arg(calls, 0, "zz_extra_param", 1)))
    if len(args) >= 2:
        out.append(_variant("reordered_kwargs", [(name, dict(reversed(list(args.items())))), *calls[1:]]))
    if len(calls) >= 2:
        out.append(_variant("parallel_reordered", calls[::-1]))
        out.append(_variant("wrong_call_count", calls[:-1]))
    else:
        out.append(_variant("wrong_call_count", calls + calls))
    out.append(("no_call", "[]", []))
    chat = [{"name": n, "arguments": a} for n, a in calls]
    out.append(("chat_json", json.dumps(chat), None))  # BFCL's Python decoder fails on it
    return out


def _deliberate_variants(item: dict, calls) -> list:
    """Answers BFCL's decoder lets through and prefgen refuses (see DELIBERATE)."""
    out = []
    name, args = calls[0]
    for param, value in args.items():
        if type(value) is int:
            text = _text([(name, {**args, param: _Raw(f"{value - 1} + 1")}), *calls[1:]])
            out.append(("arithmetic", text, _decoded(calls)))
            break
    for param, value in args.items():
        if isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value) and value not in ("True", "False", "None"):
            text = _text([(name, {**args, param: _Raw(value)}), *calls[1:]])
            out.append(("bare_name", text, _decoded(calls)))
            break
    positional = _text(calls).replace(f"{name}(", f"{name}('extra', ", 1).replace(", )", ")", 1)
    out.append(("positional", positional, _decoded(calls)))
    return out


class _Raw(str):
    """Text written into a call as is (its repr is itself)."""

    def __repr__(self) -> str:
        return str(self)


def _no_call_variants(item: dict) -> list[tuple[str, str, list | None]]:
    doc = item["function"][0]
    props, required = _props(doc)
    dummy = {"string": "x", "integer": 1, "float": 1.0, "boolean": True, "array": [], "dict": {}}
    args = {p: dummy.get(_schema_type(props.get(p)), "x") for p in required}
    call = [(doc["name"], args)]
    return [
        ("no_call_empty_list", "[]", []),
        ("no_call_prose", "None of these functions can answer that; I would need another tool.", None),
        _variant("made_a_call", call),
        ("broken_call_text", f"[{doc['name']}(", None),
    ]
