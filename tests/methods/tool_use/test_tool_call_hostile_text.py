"""The tool_call reward scores a megabyte of adversarial text quickly, with a reason, never raising.

Policy text is hostile: a run of one character, whitespace inside a code fence, unclosed brackets,
repeated call openers, deep nesting, huge integers and mixed Unicode must each be scored (0 or 1,
with an error in details) in linear time. Size limits come before any regex or parser.
"""

from __future__ import annotations

import time

import pytest

from prefgen.methods.tool_use.calls import MAX_TEXT_CHARS, ToolCall, format_calls, parse_calls
from prefgen.registry import rewards

MB = 1_000_000
TOOLS = [{
    "name": "f",
    "parameters": {"type": "dict", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
}]
WANTS_CALL = {"tools": TOOLS, "ground_truth": [{"f": {"x": [1]}}]}
WANTS_NONE = {"tools": TOOLS, "ground_truth": []}

HOSTILE = {
    "run_of_one_char": "a" * MB,
    "run_of_dotted_name": "a." * (MB // 2),
    "whitespace_in_fence": "```" + " " * MB + "```",
    "whitespace_in_unclosed_fence": "```" + " " * MB + "x",
    "newlines_in_fence": "```python\n" + "\n" * MB + "f(x=1)\n```",
    "unclosed_brackets": "[" * MB,
    "call_openers": "f(" * 100_000,
    "list_call_openers": "[f(" * 100_000,
    "deep_nesting": "(" * MB,
    "integer_100k_digits": "[f(x=" + "9" * 100_000 + ")]",
    "mixed_unicode": ("é中🙂\u202e\x00" + "ß(") * (MB // 7),
}
# Within the parser's size limit the same shapes reach the parser and the checker.
BELOW_LIMIT = {
    "hex_integer": "[f(x=0x" + "f" * (MAX_TEXT_CHARS - 20) + ")]",
    "decimal_integer": "[f(x=" + "9" * (MAX_TEXT_CHARS - 20) + ")]",
    "deep_list": "[f(x=" + "[" * (MAX_TEXT_CHARS // 3) + "]" * (MAX_TEXT_CHARS // 3) + ")]",
    "many_calls": "[" + "f(x=1), " * (MAX_TEXT_CHARS // 9) + "]",
    "name_run_then_call": "a" * (MAX_TEXT_CHARS - 10) + "(",
    "fence_whitespace": "```" + " " * (MAX_TEXT_CHARS - 10) + "```",
    "unclosed_fence_whitespace": "```" + " " * (MAX_TEXT_CHARS - 10) + "x",
}


@pytest.fixture(scope="module")
def reward():
    return rewards.build("tool_call", {"format": "python"})


# The bound is a generous 1 s per text on a shared 2-core machine (the issue's requirement); the
# quadratic paths this guards against took minutes on a megabyte, linear ones take milliseconds.
# Timed in this process's CPU time, which other processes do not inflate.
@pytest.mark.parametrize("name", sorted(HOSTILE) + sorted(BELOW_LIMIT))
@pytest.mark.parametrize("task", [WANTS_CALL, WANTS_NONE], ids=["wants_call", "wants_none"])
def test_hostile_text_is_scored_in_under_a_second(reward, name, task):
    text = HOSTILE.get(name) or BELOW_LIMIT[name]
    start = time.process_time()
    result = reward.score_text(text, task)
    elapsed = time.process_time() - start
    assert elapsed < 1.0, (name, elapsed)
    assert result.score is not None and 0.0 <= result.score <= 1.0
    if task is WANTS_CALL and name != "many_calls":
        assert result.score < 1.0 and result.details["error"], name


def test_json_format_is_as_safe(reward):
    json_reward = rewards.build("tool_call", {"format": "auto"})
    for name, text in HOSTILE.items():
        start = time.process_time()
        json_reward.score_text(text, WANTS_CALL)
        assert time.process_time() - start < 1.0, name  # generous bound, as above


def test_too_long_text_is_refused_before_it_is_read():
    result = parse_calls("   " + "a" * MB + "   ")
    assert not result.ok and "too long" in result.error


def test_a_long_integer_never_reaches_format_calls():
    result = parse_calls(BELOW_LIMIT["hex_integer"], "python")
    assert not result.ok and "digits" in result.error
    big = parse_calls("[f(x=" + "9" * 4000 + ")]", "python")  # within Python's 4,300 digits
    assert big.ok and format_calls(big.calls).startswith("[f(x=9999")


def test_broken_call_text_over_the_limit_is_judged_on_its_start(reward):
    # the call-likeness of a no-call answer is read from its first MAX_TEXT_CHARS characters only
    assert reward.score_text("[f(" * 100_000, WANTS_NONE).details["error"] == "irrelevance:broken_call"
    prose = "word " * (MB // 5)
    assert reward.score_text(prose, WANTS_NONE).score == 1.0


def test_a_tuple_stays_a_tuple_through_format_calls():
    calls = parse_calls("[f(x=(1, 2), y=[(3,)])]", "python").calls
    assert calls == [ToolCall("f", {"x": [1, 2], "y": [[3]]})]  # equal to the lists JSON would give
    assert format_calls(calls) == "[f(x=(1, 2), y=[(3,)])]"
