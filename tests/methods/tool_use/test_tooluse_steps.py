"""Splitting continuations into steps at call punctuation, on token boundaries."""

import math

import pytest

from prefgen.methods.tool_use.steps import fragment_ends, split_steps, token_texts_from_offsets

CALL_TOKENS = ["[get", "_weather", "(", "city", '="', "SF", '",', " days", "=", "3", ")]"]


def test_fragments_end_at_the_token_holding_the_mark():
    assert fragment_ends(CALL_TOKENS) == [3, 5, 7, 9, 11]
    # ". " and ", " across a token boundary: the space opens the next token.
    assert fragment_ends(["Sure", ".", " I", " will", ",", " then", "x.y"]) == [2, 5, 7]
    # A dot inside a name (no space after) is not a mark.
    assert fragment_ends(["math", ".", "sqrt", "(", "x"]) == [4, 5]


def test_two_fragments_per_step_and_exact_text():
    steps = split_steps(CALL_TOKENS, [-0.5] * len(CALL_TOKENS))
    assert [s.text for s in steps] == ['[get_weather(city="', 'SF", days=', "3)]"]
    assert "".join(s.text for s in steps) == "".join(CALL_TOKENS)
    assert [(s.start, s.end) for s in steps] == [(0, 5), (5, 9), (9, 11)]
    one = split_steps(CALL_TOKENS, [-0.5] * len(CALL_TOKENS), fragments_per_step=1)
    assert [s.end for s in one] == [3, 5, 7, 9, 11]


def test_prior_is_exp_of_mean_logprob_of_the_steps_own_tokens():
    logprobs = [-1.0, -3.0, -2.0, 0.0, -1.0, -0.2, -0.2, -0.2, -0.2, -4.0, -4.0]
    first, second, third = split_steps(CALL_TOKENS, logprobs)
    assert first.mean_logprob == pytest.approx(-7.0 / 5)
    assert first.prior == pytest.approx(math.exp(-1.4))
    assert second.prior == pytest.approx(math.exp(-0.2))
    assert third.prior == pytest.approx(math.exp(-4.0))


def test_tail_without_punctuation_and_empty_input():
    steps = split_steps(["hello", " world"], [-1.0, -1.0])
    assert [s.text for s in steps] == ["hello world"]
    assert split_steps([], []) == []


def test_mismatched_inputs_are_errors():
    with pytest.raises(ValueError, match="log-probabilities"):
        split_steps(["a"], [])
    with pytest.raises(ValueError, match="fragments_per_step"):
        split_steps(["a"], [0.0], fragments_per_step=0)


def test_token_texts_from_offsets():
    assert token_texts_from_offsets("f(a=1)", [0, 1, 2, 4]) == ["f", "(", "a=", "1)"]
    with pytest.raises(ValueError):
        token_texts_from_offsets("f(a=1)", [0, 3, 2])
