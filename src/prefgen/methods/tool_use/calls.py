"""Parse a model's tool calls without ever evaluating them.

Two formats are read:

* Python call syntax, as BFCL prompts models to answer: ``[f(a=1, b="x"), g(c=[1, 2])]`` (or a
  single ``f(a=1)``). The text goes through :func:`ast.parse` and a walker that accepts literals
  only: strings, numbers (with a sign), booleans, ``None``, lists, tuples and dicts. A tuple
  becomes a :class:`TupleValue`: a list to everything that writes JSON or compares with a list,
  but still a tuple to the checker, which (as BFCL's) accepts it for a ``tuple`` parameter and
  rejects it for an ``array``. Arithmetic, names, attribute access on values and positional
  arguments are errors, never evaluated or silently dropped (BFCL's decoder ``eval``s arithmetic,
  reads a bare name as its string and drops positional arguments). Only when asked
  (``positional=True``) are positional literals kept, for :func:`bind_positional` to name them
  from the tool's schema (``math.sqrt(60)`` as ``math.sqrt(x=60)``).
* Chat tool-call JSON: ``{"name": ..., "arguments": {...}}`` or a list of them; ``arguments`` may
  also be a JSON-encoded string, as OpenAI-style APIs return it.

Policy output is hostile: text length is checked before anything else reads the text (no regex
or parser sees more than ``MAX_TEXT_CHARS``), nesting depth is bounded, numbers must be finite
and integers at most ``MAX_INT_DIGITS`` digits (Python refuses to print longer ones), and every
failure becomes a :class:`ParseResult` with an error, never an exception.
"""

from __future__ import annotations

import ast
import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

CallFormat = Literal["python", "json", "auto"]

MAX_TEXT_CHARS = 20_000
MAX_DEPTH = 24
MAX_INT_DIGITS = 4300  # Python's own limit for converting an int to text (sys.int_info)
_MAX_INT = 10**MAX_INT_DIGITS
_FENCE_CHARS = 32  # room beyond MAX_TEXT_CHARS for a code fence and its language tag
_PARSE_FAILURES = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError, TypeError)


class CallSyntaxError(ValueError):
    """The text is not a tool call in the expected format (the message says why)."""


class TupleValue(list):
    """A tuple the policy wrote: equal to the list of its items, printed as a tuple."""

    def __repr__(self) -> str:
        return repr(tuple(self))


@dataclass(frozen=True)
class ToolCall:
    """One call: a function name, its keyword arguments (plain JSON-like values) and, only when
    the parser was asked to keep them, its positional ones (not yet bound to names)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    positional: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ParseResult:
    """The calls found in a text, or why none could be read.

    ``calls == []`` with no error means the text is empty: an answer that makes no call.
    """

    calls: list[ToolCall] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_calls(text: str, fmt: CallFormat = "auto", positional: bool = False) -> ParseResult:
    """The tool calls in ``text`` in format ``python``, ``json`` or ``auto`` (Python, then JSON).

    ``positional``: keep Python positional arguments in :attr:`ToolCall.positional` instead of
    refusing the text (see :func:`bind_positional`).
    """
    if not isinstance(text, str):
        return ParseResult(error=f"expected text, got {type(text).__name__}")
    stripped = text.strip()
    if len(stripped) > MAX_TEXT_CHARS + _FENCE_CHARS:  # before the fence is looked for
        return ParseResult(error=f"text too long: {len(stripped)} characters (limit {MAX_TEXT_CHARS})")
    body = _strip_fence(stripped)
    if len(body) > MAX_TEXT_CHARS:
        return ParseResult(error=f"text too long: {len(body)} characters (limit {MAX_TEXT_CHARS})")
    if not body:
        return ParseResult()
    python = _parse_python_positional if positional else _parse_python
    readers = {"python": [python], "json": [_parse_json], "auto": [python, _parse_json]}
    if fmt not in readers:
        return ParseResult(error=f"unknown call format {fmt!r}; expected python, json or auto")
    errors = []
    for reader in readers[fmt]:
        try:
            return ParseResult(calls=reader(body))
        except CallSyntaxError as exc:
            errors.append(str(exc))
        except _PARSE_FAILURES as exc:
            errors.append(f"{reader.__name__.removeprefix('_parse_')}: {type(exc).__name__}: {exc}"[:300])
    return ParseResult(error="; ".join(errors))


def _strip_fence(text: str) -> str:
    """The inside of a ```lang ... ``` fence around the whole text, else the text.

    String slicing, not a regex: a lazy pattern over whitespace inside a fence backtracks in
    time quadratic in the text's length.
    """
    if len(text) < 6 or not (text.startswith("```") and text.endswith("```")):
        return text
    inner = text[3:-3]
    tag = 0
    while tag < len(inner) and inner[tag].isascii() and inner[tag].isalpha():
        tag += 1
    return inner[tag:].strip()


# --- Python call syntax ---------------------------------------------------------------------


def _parse_python(text: str, positional: bool = False) -> list[ToolCall]:
    try:
        # Policy text like ``1st`` makes the compiler warn on stderr; the text is data, not code,
        # so a warning is noise on the user's console (and becomes an error under -W error).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise CallSyntaxError(f"python: not a call expression ({exc.msg})") from None
    node = tree.body
    items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
    return [_call_from_node(item, positional) for item in items]


def _parse_python_positional(text: str) -> list[ToolCall]:
    return _parse_python(text, positional=True)


def _call_from_node(node: ast.AST, positional: bool = False) -> ToolCall:
    if not isinstance(node, ast.Call):
        raise CallSyntaxError(f"python: expected a function call, got {type(node).__name__}")
    name = _dotted_name(node.func)
    if node.args and not positional:
        raise CallSyntaxError(
            f"python: {name}() has positional arguments; tool calls take keyword arguments only"
        )
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        raise CallSyntaxError(f"python: {name}() uses * unpacking; give each argument as a literal")
    values = tuple(literal_value(arg) for arg in node.args)
    arguments: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise CallSyntaxError(f"python: {name}() uses ** unpacking; give each argument by name")
        if keyword.arg in arguments:
            raise CallSyntaxError(f"python: {name}() repeats argument {keyword.arg!r}")
        arguments[keyword.arg] = literal_value(keyword.value)
    return ToolCall(name, arguments, values)


def bind_positional(calls: list[ToolCall], tools: list[dict[str, Any]]) -> list[ToolCall]:
    """Each call with its positional arguments named after its tool's parameters: the required
    ones in the order ``required`` lists them, then the optional one (as Python binds
    ``math.sqrt(60)`` to ``x``).

    The order of ``required`` is kept wherever a task is stored; the order of ``properties`` is
    not (a JSON object's keys may come back sorted), so a positional argument that would have to
    choose among several optional parameters is refused as ambiguous. A call of a function that is
    not among ``tools`` keeps only its keyword arguments (the checker then reports the wrong
    name). Too many positional arguments, or a parameter given both ways, is a
    :class:`CallSyntaxError`.
    """
    bound = []
    for call in calls:
        tool = next((t for t in tools if t.get("name") == call.name), None)
        if not call.positional or tool is None:
            bound.append(ToolCall(call.name, dict(call.arguments)))
            continue
        names = _positional_order(call, tool)
        arguments = dict(zip(names, call.positional))
        twice = sorted(set(arguments) & set(call.arguments))
        if twice:
            raise CallSyntaxError(f"python: {call.name}() gets {twice[0]!r} both by position and by name")
        bound.append(ToolCall(call.name, {**arguments, **call.arguments}))
    return bound


def _positional_order(call: ToolCall, tool: dict[str, Any]) -> list[str]:
    """The parameter names ``call``'s positional arguments take, in order (or why none can be chosen)."""
    parameters = tool.get("parameters") or {}
    required = [name for name in parameters.get("required") or [] if isinstance(name, str)]
    optional = [name for name in parameters.get("properties") or {} if name not in required]
    count = len(call.positional)
    if count > len(required) + len(optional):
        raise CallSyntaxError(
            f"python: {call.name}() takes at most {len(required) + len(optional)} arguments, {count} given by position"
        )
    if count > len(required) and len(optional) > 1:
        raise CallSyntaxError(
            f"python: {call.name}() has optional parameters {sorted(optional)}; give them by name"
        )
    return (required + optional)[:count]


def _dotted_name(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute) and len(parts) < MAX_DEPTH:
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise CallSyntaxError("python: a called function must be a name such as f or math.sqrt")
    parts.append(node.id)
    return ".".join(reversed(parts))


def literal_value(node: ast.AST, depth: int = 0) -> Any:
    """The plain value of a literal-only expression node; anything else is a CallSyntaxError.

    Tuples become :class:`TupleValue` (a list that remembers it was a tuple); nesting deeper
    than ``MAX_DEPTH`` is refused.
    """
    if depth > MAX_DEPTH:
        raise CallSyntaxError(f"python: values nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        if isinstance(node.operand, ast.Constant) and _is_number(node.operand.value):
            value = _constant(node.operand.value)
            return -value if isinstance(node.op, ast.USub) else value
        raise CallSyntaxError("python: a sign may only precede a number")
    if isinstance(node, ast.List):
        return [literal_value(element, depth + 1) for element in node.elts]
    if isinstance(node, ast.Tuple):
        return TupleValue(literal_value(element, depth + 1) for element in node.elts)
    if isinstance(node, ast.Dict):
        return _dict_value(node, depth)
    if isinstance(node, ast.Name):
        raise CallSyntaxError(f"python: bare name {node.id!r} is not a value (quote strings)")
    raise CallSyntaxError(f"python: {type(node).__name__} is not a literal value (nothing is evaluated)")


def _dict_value(node: ast.Dict, depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in zip(node.keys, node.values):
        if key_node is None:
            raise CallSyntaxError("python: ** unpacking inside a dict is not a literal")
        key = literal_value(key_node, depth + 1)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise CallSyntaxError("python: dict keys must be strings or numbers")
        result[key] = literal_value(value_node, depth + 1)
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _constant(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if _is_number(value):
        if isinstance(value, float) and not math.isfinite(value):
            raise CallSyntaxError("python: number out of range")
        if isinstance(value, int) and abs(value) >= _MAX_INT:  # e.g. a long hex literal
            raise CallSyntaxError(f"python: integer of more than {MAX_INT_DIGITS} digits")
        return value
    raise CallSyntaxError(f"python: {type(value).__name__} constants are not allowed")


# --- chat JSON ------------------------------------------------------------------------------


def _parse_json(text: str) -> list[ToolCall]:
    data = json.loads(text, parse_constant=_reject_constant)
    items = data if isinstance(data, list) else [data]
    return [_call_from_json(item) for item in items]


def _reject_constant(name: str) -> Any:
    raise CallSyntaxError(f"json: {name} is not a finite number")


def _call_from_json(item: Any) -> ToolCall:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise CallSyntaxError('json: each call must be an object with a string "name"')
    unknown = set(item) - {"name", "arguments"}
    if unknown:
        raise CallSyntaxError(
            f"json: unexpected key(s) {sorted(unknown)} in a call; expected name and arguments"
        )
    arguments = item.get("arguments", {})
    if isinstance(arguments, str):
        arguments = json.loads(arguments, parse_constant=_reject_constant) if arguments.strip() else {}
    if not isinstance(arguments, dict):
        raise CallSyntaxError(f'json: "arguments" of {item["name"]} must be an object')
    _check_json_value(arguments, 0)
    return ToolCall(item["name"], arguments)


def _check_json_value(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CallSyntaxError(f"json: values nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise CallSyntaxError("json: number out of range")
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        _check_json_value(child, depth + 1)


# --- writing calls --------------------------------------------------------------------------


def format_calls(calls: list[ToolCall], fmt: Literal["python", "json"] = "python") -> str:
    """The canonical text of ``calls``: what a policy should answer (``[]``: no call)."""
    if not calls:
        return "[]"
    if fmt == "json":
        items = [{"name": c.name, "arguments": c.arguments} for c in calls]
        return json.dumps(items[0] if len(items) == 1 else items, ensure_ascii=False)
    rendered = (f"{c.name}({', '.join(f'{k}={v!r}' for k, v in c.arguments.items())})" for c in calls)
    return "[" + ", ".join(rendered) + "]"
