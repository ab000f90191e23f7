"""Hostile answers: every text reward scores a megabyte of adversarial text quickly, and the
execution reward turns a too-long answer away before any pattern, parser or sandbox sees it.

The timing bound is the point of these tests (a policy's text is hostile, and one answer that
stalls its reward stalls the whole run: a fence followed by a megabyte of spaces once took minutes
in code extraction). The bound, 1 s, is generous -- each input takes milliseconds -- so that a
loaded, shared machine does not make the tests flaky, while a super-linear step over a megabyte
(seconds to minutes) still fails them. What is timed is this process's CPU time, which other
processes on the machine do not inflate as they do wall time.
"""

from __future__ import annotations

import time

import pytest

from prefgen.methods.execution.reward import ExecutionReward, extract_code
from prefgen.records import Candidate, Prompt
from prefgen.rewards.combined import CombinedReward
from prefgen.rewards.length import LengthReward
from prefgen.rewards.regex import RegexReward

MB = 1 << 20
BOUND_S = 1.0  # generous on purpose: see the module docstring


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def hostile_inputs(size: int) -> dict[str, str]:
    """Adversarial answers of about ``size`` characters, by name."""
    return {
        "one_char_run": "a" * size,
        "spaces_after_fence": "```" + " " * size,            # no newline: the fence opens nothing
        "whitespace_in_fence": "```python\n" + _repeat(" \t \n", size) + "```\n",
        "unclosed_fence_of_spaces": "```\n" + " " * size,
        "unclosed_brackets_and_quotes": "def f(x):\n    return ([{'\"" + _repeat("x, (['\"", size),
        "nested_parens": "(" * size,
        "nested_brackets": "[" * size,
        "huge_integer": "x = " + "9" * min(size, 100_000) + "\n" + " " * max(0, size - 100_000),
        "unicode_mix": _repeat("a\u200b\u0301\u00e9\U0001d518\u202e\u200d\u0663 ", size),
        "repeated_fence_openers": _repeat("```python\n", size),
        "repeated_bare_fences": _repeat("```\n", size),
    }


ADD_TASK = {"tests": ["assert add(1, 2) == 3", "assert add(2, 2) == 4"], "format": "full"}
ADD = Prompt(id=Prompt.make_id("Write add(a, b).", ADD_TASK), prompt="Write add(a, b).", task=ADD_TASK)
REGEX = {"require": [r"(?m)^def \w+\(", r"return\s+\w+"], "forbid": [r"(?i)as an ai\b", r"```\s*$"]}


def _build(name: str):
    if name == "execution":
        return ExecutionReward(timeout_s=2.0)
    if name == "length":
        return LengthReward()
    if name == "regex":
        return RegexReward(**REGEX)
    return CombinedReward(components=[{"name": "execution", "timeout_s": 2.0}, {"name": "length", "weight": 0.2},
                                      {"name": "regex", "weight": 0.5, **REGEX}])


@pytest.fixture(scope="module")
def rewards():
    """One of each reward, warmed up (the sandbox's probe and fork server start before timing)."""
    built = {name: _build(name) for name in ("execution", "length", "regex", "combined")}
    for reward in built.values():
        reward.score_safely([(ADD, _candidate("def add(a, b):\n    return a + b\n"))])
    return built


def _candidate(text: str) -> Candidate:
    return Candidate(id="c0", prompt_id=ADD.id, sample_index=0, text=text)


def _timed(reward, text: str):
    started = time.process_time()
    result = reward.score_safely([(ADD, _candidate(text))])[0]
    return result, time.process_time() - started


@pytest.mark.parametrize("kind", sorted(hostile_inputs(10)))
@pytest.mark.parametrize("name", ["execution", "length", "regex", "combined"])
def test_a_megabyte_of_hostile_text_is_scored_within_a_second(rewards, name, kind):
    text = hostile_inputs(MB)[kind]
    result, elapsed = _timed(rewards[name], text)
    assert elapsed < BOUND_S, f"{name} took {elapsed:.2f} s on {kind}"
    assert result.score is None or 0.0 <= result.score <= 1.2  # combined: weights sum to 1.7 at most
    assert not (result.reason or "").startswith("reward_error"), result.reason
    if name == "execution":
        assert (result.score, result.reason) == (0.0, "too_long")
        assert result.details["chars"] == len(text) and "too long" in result.details["feedback"]
    if name == "regex":
        assert (result.score, result.reason) == (None, "too_long")


@pytest.mark.parametrize("kind", sorted(hostile_inputs(10)))
def test_hostile_text_under_the_limit_is_parsed_and_run_within_a_second(rewards, kind):
    # 90,000 characters: under max_chars, so extraction, compilation and (for what compiles) a
    # sandbox run all happen; each must stay bounded too.
    text = hostile_inputs(90_000)[kind]
    for name in ("execution", "regex", "combined"):
        result, elapsed = _timed(rewards[name], text)
        assert elapsed < BOUND_S, f"{name} took {elapsed:.2f} s on {kind}"
        assert result.reason != "too_long"
        assert not (result.reason or "").startswith("reward_error"), result.reason
    assert rewards["execution"].score_safely([(ADD, _candidate(text))])[0].score == 0.0


@pytest.mark.parametrize("kind", sorted(hostile_inputs(10)))
def test_code_extraction_is_linear_on_hostile_text(kind):
    # Extraction alone, on a megabyte (no size limit in front of it): a backtracking pattern
    # here is what once stalled the reward.
    text = hostile_inputs(MB)[kind]
    started = time.process_time()
    extract_code(text)
    assert time.process_time() - started < BOUND_S


def test_a_too_long_answer_starts_no_sandbox(monkeypatch):
    from prefgen.sandbox import testing

    def no_sandbox(*args, **kwargs):
        raise AssertionError("the sandbox was started for a too-long answer")

    monkeypatch.setattr(testing, "run_test_program", no_sandbox)
    reward = ExecutionReward(timeout_s=2.0, max_chars=1_000)
    long_answer = "```python\ndef add(a, b):\n    return a + b\n```\n" + "#" * 2_000
    result = reward.score_safely([(ADD, _candidate(long_answer))])[0]
    assert (result.score, result.reason) == (0.0, "too_long")
    assert result.details["max_chars"] == 1_000


def test_answers_up_to_the_limit_are_still_run():
    reward = ExecutionReward(timeout_s=5.0, max_chars=1_000)
    answer = "```python\ndef add(a, b):\n    return a + b\n```\n"
    answer += "#" * (1_000 - len(answer))
    assert len(answer) == 1_000
    result = reward.score_safely([(ADD, _candidate(answer))])[0]
    assert (result.score, result.reason) == (1.0, "passed")


def test_the_fence_finder_agrees_with_the_documented_rules():
    text = ("Intro\n```text\nnot code\n```\n  ```python  \n\n```\n```py3 extra words\nx = 1\n"
            "```python\ny = 2\n```  \ntail")
    # The text block is skipped, the blank python block too; the py3 block runs to its closer and
    # the ```python line inside it is code, not an opener.
    assert extract_code(text) == ("x = 1\n```python\ny = 2\n", 9, True)
    assert extract_code("```python\nx = 1") == ("x = 1", 2, True)   # unclosed: to the end
    assert extract_code("x = 1\n```python") == ("x = 1\n```python", 1, False)  # last-line fence opens nothing
