"""The ``tool_call`` reward: BFCL's structural check of a policy's tool calls, with partial credit.

The prompt's task holds ``tools`` (function docs) and ``ground_truth`` (BFCL possible-answer
list; empty when the right answer makes no call). A valid answer scores 1; an invalid one scores
the weighted share of its components (function name, parameter keys, values). Keep the weights'
sum below 1 so that any valid answer outranks every invalid one. The error type is in details:
``error`` (prefgen's name) and ``bfcl_error`` (BFCL's ``error_type``; the mapping is in
:mod:`prefgen.methods.tool_use.checker`).

By default answers are read as BFCL's Python format (``[f(a=1), g(b="x")]``); chat tool-call
JSON only with ``format: json`` or ``auto``. The verdict is BFCL's AST checker's (held to it by
``tests/test_bfcl_differential.py``) except where prefgen is deliberately stricter:

* BFCL's decoder ``eval``s arithmetic (``x=2*3``), reads a bare name as its string (``unit=cm``)
  and silently drops positional arguments (``f(1, b=2)``); policy text is never evaluated here,
  so those answers do not parse (``parse_error``); ``positional_arguments: bind`` is the
  one opt-in exception, for policies that write ``math.sqrt(60)``: positional literals are named
  as Python names them, required parameters in ``required``'s order, then the one optional
  parameter (see :func:`~prefgen.methods.tool_use.calls.bind_positional`; BFCL would drop them
  and report a missing parameter);
* when no call is wanted, prose or ``[]`` is right; BFCL counts any answer it cannot decode as
  "no call", broken call text here is not (``prose_only_no_call``), so that a pair never prefers
  ``[round(number==.`` as the answer to "Summarise the rules of chess".

In a training loop (:meth:`ToolCallReward.loop_metrics`) each policy's held-out samples give
``accuracy`` (share of samples the checker accepts; unscorable ones count as invalid),
``accuracy.<bucket>`` per difficulty bucket (the task's ``difficulty``: ``easy``, ``medium``,
``hard``, ``no_call`` for ``builtin:stdlib_tools``; else its ``category``, as BFCL rows have),
and per error type ``errors.<type>`` (samples) and ``error_share.<type>`` (share of samples).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from prefgen.methods.tool_use.calls import (
    MAX_TEXT_CHARS,
    CallSyntaxError,
    ParseResult,
    bind_positional,
    parse_calls,
)
from prefgen.methods.tool_use.checker import check_calls, ground_truth_problem
from prefgen.methods.tool_use.task import task_problem as tool_task_problem
from prefgen.records import Candidate, Prompt, Scored
from prefgen.rewards.base import Reward, RewardParams, RewardResult

if TYPE_CHECKING:
    from prefgen.method_metrics import HeldoutRound


class ToolCallParams(RewardParams):
    format: Literal["python", "json", "auto"] = Field(
        "python",
        description="How answers write calls: Python call syntax (BFCL's format), chat JSON, or either.",
    )
    name_weight: float = Field(0.2, ge=0, description="Credit for the right function name(s).")
    keys_weight: float = Field(0.3, ge=0, description="Credit for the right parameter names.")
    values_weight: float = Field(0.3, ge=0, description="Credit for acceptable parameter values.")
    positional_arguments: Literal["reject", "bind"] = Field(
        "reject",
        description="Python positional arguments: 'reject' (BFCL's format names every argument) or 'bind' "
        "(named as Python would: the required parameters in the order 'required' lists them, then the one "
        "optional parameter; for small models that write math.sqrt(60), see pipelines/smollm2/tool_use.yaml).",
    )
    prose_only_no_call: bool = Field(
        True,
        description="A request that needs no call is answered by prose or '[]'; call text that does not parse "
        "is wrong. False: BFCL's rule, any answer that does not parse counts as no call.",
    )

    @model_validator(mode="after")
    def _weights_below_one(self) -> ToolCallParams:
        total = self.name_weight + self.keys_weight + self.values_weight
        if total >= 1:
            raise ValueError(
                f"name_weight + keys_weight + values_weight must be below 1 (a valid call scores 1), got {total}"
            )
        return self


class ToolCallReward(Reward):
    """Score = 1 for a call BFCL's AST checker accepts, else partial credit by component."""

    name = "tool_call"
    Params = ToolCallParams

    def task_problem(self, task: dict[str, Any], chat: bool = False) -> str | None:
        """Why ``task`` cannot be scored: a bad layout, or a ground truth no answer can pass."""
        if task.get("problem"):
            return str(task["problem"])  # a source could not convert this row (e.g. a BFCL file)
        problem = tool_task_problem({"tools": task.get("tools"), "ground_truth": []})  # the tools
        if problem:
            return problem
        truth = task.get("ground_truth")
        if not isinstance(truth, list):
            return "task.ground_truth: expected a list of {function_name: {param: [allowed values]}}"
        try:
            # the checker's own reference answer: it knows dict-valued ground truths and schemas
            return ground_truth_problem(truth, task["tools"])
        except (ValueError, AttributeError, TypeError) as exc:
            return f"task.ground_truth: {exc}"

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        return [self.score_text(cand.text, prompt.task) for prompt, cand in items]

    def score_text(self, text: str, task: dict[str, Any]) -> RewardResult:
        """The reward of one answer text for one task (used by the tree search's leaves too)."""
        parsed = self._parse(text, task)
        truth = task["ground_truth"]
        if not parsed.ok:
            return self._unparsed(text, truth, parsed.error)
        result = check_calls(parsed.calls, truth, task["tools"], task.get("category"))
        p = self.params
        partial = p.name_weight * result.name + p.keys_weight * result.keys + p.values_weight * result.values
        details = {
            "valid": result.valid,
            "error": result.error,
            "bfcl_error": result.bfcl_error,
            "calls": len(parsed.calls),
            "components": {"name": result.name, "keys": result.keys, "values": result.values},
        }
        return RewardResult(1.0 if result.valid else partial, details)

    def _parse(self, text: str, task: dict[str, Any]) -> ParseResult:
        """The answer's calls; positional arguments named from the task's tools when configured."""
        if self.params.positional_arguments == "reject":
            return parse_calls(text, self.params.format)
        parsed = parse_calls(text, self.params.format, positional=True)
        if not parsed.ok:
            return parsed
        try:
            return ParseResult(calls=bind_positional(parsed.calls, task.get("tools") or []))
        except CallSyntaxError as exc:
            return ParseResult(error=str(exc))

    def _unparsed(self, text: str, truth: list, parse_error: str | None) -> RewardResult:
        """Text that is not a call list: right only when no call is wanted (and, by default, it is prose)."""
        bfcl_error = None
        if truth:
            error, bfcl_error = "parse_error", "ast_decoder:decoder_failed"
        elif self.params.prose_only_no_call and looks_like_a_call(text):
            # BFCL would count it as "no call"; as a chosen answer it would teach broken call text
            error = "irrelevance:broken_call"  # prefgen's own: BFCL accepts this answer
        else:
            error = None
        return RewardResult(1.0 if error is None else 0.0, {
            "valid": error is None, "error": error, "bfcl_error": bfcl_error, "parse_error": parse_error,
        })

    def loop_metrics(self, heldout: HeldoutRound) -> dict[str, float | int | None]:
        """Held-out call accuracy, overall and per difficulty bucket, and error-type counts and shares."""
        samples = [s for s in heldout.scored if s.prompt_id in heldout.prompts]
        valid, total, errors = Counter(), Counter(), Counter()
        for sample in samples:
            bucket = _bucket(heldout.prompts[sample.prompt_id].task)
            ok = _valid(sample)
            total[bucket] += 1
            valid[bucket] += ok
            if not ok:
                errors[_error(sample)] += 1
        if heldout.first is not None:  # error types policy 0 made show as 0 when a later policy stops making them
            errors.update({_error(s): 0 for s in heldout.first.scored if not _valid(s)})
        metrics: dict[str, float | int | None] = {
            "samples": len(samples),
            "accuracy": sum(valid.values()) / len(samples) if samples else None,
        }
        metrics.update({f"accuracy.{b}": valid[b] / total[b] for b in sorted(total) if b is not None})
        for error, count in sorted(errors.items()):
            metrics[f"errors.{error}"] = count
            metrics[f"error_share.{error}"] = count / len(samples)
        return metrics


# A name can only start where no name character precedes it, so the scan is linear: without the
# look-behind, a long run of letters is re-read from every position (quadratic time).
_CALL_SYNTAX = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*\(")


def looks_like_a_call(text: str) -> bool:
    """Whether ``text`` starts a call list or a JSON call, or writes ``name(`` in its first
    ``MAX_TEXT_CHARS`` characters (the parser's own limit; nothing reads further)."""
    head = text.lstrip()[:MAX_TEXT_CHARS]  # the limit before any regex
    return head.startswith(("[", "{")) or _CALL_SYNTAX.search(head) is not None


def _valid(sample: Scored) -> bool:
    return sample.score is not None and bool(sample.details.get("valid"))


def _error(sample: Scored) -> str:
    return sample.details.get("error") or ("unscorable" if sample.score is None else "invalid")


def _bucket(task: dict[str, Any]) -> str | None:
    """A request's difficulty bucket: its ``difficulty`` (stdlib_tools) or ``category`` (BFCL)."""
    bucket = task.get("difficulty") or task.get("category")
    return str(bucket) if bucket else None
