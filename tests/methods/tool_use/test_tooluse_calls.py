"""Parsing tool calls from hostile policy text: literals only, nothing evaluated, never raising."""

import time

import pytest

from prefgen.methods.tool_use.calls import MAX_TEXT_CHARS, ToolCall, format_calls, parse_calls


def test_python_calls_with_literal_values():
    result = parse_calls('[f(a=1, b="x"), math.g(c=[1, 2], d={"k": (3, -4.5)}, e=None, t=True)]', "python")
    assert result.ok
    assert result.calls == [
        ToolCall("f", {"a": 1, "b": "x"}),
        ToolCall("math.g", {"c": [1, 2], "d": {"k": [3, -4.5]}, "e": None, "t": True}),
    ]


def test_single_call_without_brackets_and_code_fence():
    assert parse_calls("f(a='y')", "python").calls == [ToolCall("f", {"a": "y"})]
    assert parse_calls("```python\n[f(a=2)]\n```", "python").calls == [ToolCall("f", {"a": 2})]


def test_empty_text_is_no_call():
    result = parse_calls("   ", "python")
    assert result.ok and result.calls == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("[f(1, b=2)]", "positional"),
        ("f(**kw)", "unpacking"),
        ("f(a=x)", "bare name"),
        ("f(a=1+2)", "not a literal"),
        ("f(a=10**10**10)", "not a literal"),
        ("f(a=__import__('os').system('true'))", "not a literal"),
        ("f(a=-'s')", "sign"),
        ("f(a=1, a=2)", "repeats"),
        ("f(a={1, 2})", "not a literal"),
        ("f(a=b'x')", "bytes"),
        ("[f(a=1), 3]", "expected a function call"),
        ("(lambda: 1)()", "must be a name"),
    ],
)
def test_python_rejects_what_is_not_a_literal_call(text, message):
    result = parse_calls(text, "python")
    assert not result.ok and result.calls == []
    assert message in result.error


def test_huge_numbers_are_not_computed():
    start = time.process_time()
    for text in ["f(a=1e999999)", "f(a=10**10**10)", "f(a=9**9**9**9)", "f(a=" + "9" * 5000 + ")"]:
        result = parse_calls(text, "python")
        assert not result.ok, text
    assert (
        parse_calls('{"name": "f", "arguments": {"a": 1e999999}}', "json").error
        == "json: number out of range"
    )
    assert time.process_time() - start < 2.0


def test_deep_nesting_is_bounded_not_a_recursion_error():
    for depth in (30, 150, 1000, 5000):
        assert not parse_calls("f(a=" + "[" * depth + "]" * depth + ")", "python").ok
        assert not parse_calls(
            '{"name": "f", "arguments": {"a": ' + "[" * depth + "]" * depth + "}}", "json"
        ).ok
    assert parse_calls("f(a=" + "[" * 10 + "]" * 10 + ")", "python").ok


def test_long_text_and_non_python_give_errors_not_exceptions():
    assert "too long" in parse_calls("f(a='" + "x" * MAX_TEXT_CHARS + "')").error
    for text in ["hello, I cannot help", "def f(): pass", "f(a=1", "\x00\x01", "[" * 100000, 42]:
        result = parse_calls(text)
        assert not result.ok and result.calls == []


def test_json_single_list_and_string_arguments():
    assert parse_calls('{"name": "f", "arguments": {"a": [1, "x"]}}', "json").calls == [
        ToolCall("f", {"a": [1, "x"]})
    ]
    text = '[{"name": "f", "arguments": "{\\"a\\": 1}"}, {"name": "g"}]'
    assert parse_calls(text, "json").calls == [ToolCall("f", {"a": 1}), ToolCall("g", {})]
    assert "NaN" in parse_calls('{"name": "f", "arguments": {"a": NaN}}', "json").error
    assert "unexpected key" in parse_calls('{"name": "f", "args": {}}', "json").error
    assert not parse_calls('{"name": "f", "arguments": [1]}', "json").ok


def test_auto_reads_either_format_and_python_format_rejects_json():
    assert parse_calls('[{"name": "f", "arguments": {"a": 1}}]', "auto").calls == [ToolCall("f", {"a": 1})]
    assert parse_calls("[f(a=1)]", "auto").calls == [ToolCall("f", {"a": 1})]
    assert not parse_calls('[{"name": "f", "arguments": {"a": 1}}]', "python").ok
    assert "unknown call format" in parse_calls("f()", "yaml").error


def test_format_calls_round_trips():
    calls = [ToolCall("f", {"a": 1, "b": "it's"}), ToolCall("g", {"c": [1.5, None, {"k": True}]})]
    for fmt in ("python", "json"):
        assert parse_calls(format_calls(calls, fmt), fmt).calls == calls
    assert format_calls([]) == "[]"
    assert parse_calls("[]", "python").calls == [] and parse_calls("[]", "json").calls == []


def test_policy_text_that_makes_the_compiler_warn_prints_nothing():
    """``[f(a=1and 2)]`` makes ``ast.parse`` warn ("invalid decimal literal"); users saw it on stderr."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = parse_calls("[f(a=1and 2)]", "python")
    assert result.error
    assert [str(w.message) for w in caught] == []
