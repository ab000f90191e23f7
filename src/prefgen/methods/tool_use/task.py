"""The tool-use task format shared by every tool-calling prompt source.

A prompt's task holds ``tools`` (function docs: ``name``, ``description``, ``parameters`` with
``properties``, their ``type`` and ``required``, in BFCL's or JSON-schema spelling) and
``ground_truth`` in BFCL's possible-answer layout: a list of calls ``{function_name: {param:
[allowed values]}}`` where ``""`` among the values means the parameter may be omitted; several
calls may come in any order; an empty list means the right answer makes no call. Chat tool-call
JSON ground truths (``{"name", "arguments"}``) convert with :func:`ground_truth_from_calls`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefgen.methods.tool_use.calls import CallFormat, ToolCall, format_calls, parse_calls
from prefgen.methods.tool_use.checker import check_calls

ANSWER_MARK = "Calls:"


def ground_truth_from_calls(calls: list[dict[str, Any]]) -> list[dict[str, dict[str, list]]]:
    """BFCL layout from chat-JSON calls: each argument's value becomes its only allowed value."""
    truth = []
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise TypeError(f'ground truth: expected {{"name": ..., "arguments": {{...}}}}, got {call!r}')
        arguments = call.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise TypeError(f'ground truth: "arguments" of {call["name"]} must be an object')
        truth.append({call["name"]: {key: [value] for key, value in arguments.items()}})
    return truth


def reference_calls(ground_truth: list[dict[str, dict[str, list]]]) -> list[ToolCall]:
    """One correct answer: each parameter's first allowed value, omitted when that is ``""``."""
    calls = []
    for answer in ground_truth:
        ((name, params),) = answer.items()
        calls.append(ToolCall(name, {k: v[0] for k, v in params.items() if v and v[0] != ""}))
    return calls


def reference_answer(ground_truth: list[dict], fmt: CallFormat = "python") -> str:
    """The text of :func:`reference_calls` (``[]`` when no call is right)."""
    return format_calls(reference_calls(ground_truth), "json" if fmt == "json" else "python")


def task_problem(task: dict[str, Any]) -> str | None:
    """Why ``task`` is not a valid tool-use task, or None. Also checks the reference answer passes."""
    tools = task.get("tools")
    if not isinstance(tools, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) for t in tools
    ):
        return "task.tools: expected a list of function docs, each with a string 'name'"
    truth = task.get("ground_truth")
    if not isinstance(truth, list):
        return "task.ground_truth: expected a list of {function_name: {param: [allowed values]}}"
    try:
        reference = reference_calls(truth)
        if not check_calls(reference, truth, tools).valid:
            return "task.ground_truth: its own first allowed values do not pass the checker"
    except (ValueError, AttributeError, TypeError) as exc:
        return f"task.ground_truth: {exc}"
    return None


def render_tools(tools: list[dict]) -> str:
    """One line per tool: ``name(param: type, optional?: type): description``."""
    return _render(tools, lambda name, kind, required: f"{name}{'' if required else '?'}: {kind}")


def render_call_templates(tools: list[dict]) -> str:
    """One line per tool, written as the call to make: ``name(param=<type>, opt=<type, optional>): description``."""
    return _render(tools, lambda name, kind, required: f"{name}=<{kind}{'' if required else ', optional'}>")


def _render(tools: list[dict], parameter: Callable[[str, str, bool], str]) -> str:
    lines = []
    for tool in tools:
        parameters = tool.get("parameters") or {}
        required = set(parameters.get("required") or [])
        params = ", ".join(
            parameter(name, spec.get("type", "any"), name in required)
            for name, spec in (parameters.get("properties") or {}).items()
        )
        lines.append(f"- {tool['name']}({params}): {tool.get('description', '').strip()}")
    return "\n".join(lines)


def render_prompt(tools: list[dict], request: str) -> str:
    """The plain-text prompt: the tools, the request, then the answer mark to continue from."""
    return f"Tools:\n{render_tools(tools)}\nRequest: {request.strip()}\n{ANSWER_MARK}"


def is_reference_valid(task: dict[str, Any], fmt: CallFormat = "python") -> bool:
    """Whether the rendered reference answer parses and passes the checker (a self-test)."""
    parsed = parse_calls(reference_answer(task["ground_truth"], fmt), fmt)
    return parsed.ok and check_calls(parsed.calls, task["ground_truth"], task["tools"]).valid
