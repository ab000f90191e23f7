"""Selecting the hardest examples by ground-truth perplexity, per group, deterministically."""

import math

import pytest

from prefgen.methods.tool_use.deficiency import AnswerLikelihood, perplexity, select_hardest


def example(key, has_call, mean_logprob, tokens=4):
    return AnswerLikelihood(key, has_call, [mean_logprob] * tokens)


def test_perplexity():
    assert perplexity([-1.0, -3.0]) == pytest.approx(math.exp(2.0))
    assert perplexity([0.0]) == 1.0
    assert perplexity([-1.0, -math.inf]) == math.inf
    with pytest.raises(ValueError, match="empty"):
        perplexity([])


def test_hardest_share_is_kept_separately_for_calls_and_no_calls():
    calls = [example(f"c{i}", True, -0.1 * i) for i in range(10)]  # c9 hardest
    no_calls = [example(f"n{i}", False, -5.0 - i) for i in range(4)]  # all harder than any call
    selection = select_hardest(calls + no_calls, fraction=0.3)
    assert selection.kept == ["c9", "c8", "c7", "n3", "n2"]  # ceil(3.0) calls, ceil(1.2) no-calls
    assert selection.perplexities["c9"] == pytest.approx(math.exp(0.9))


def test_ties_are_broken_by_key_whatever_the_input_order():
    rows = [example(k, True, -1.0) for k in ("b", "d", "a", "c")]
    assert select_hardest(rows, 0.5).kept == ["a", "b"]
    assert select_hardest(list(reversed(rows)), 0.5).kept == ["a", "b"]


def test_unusable_examples_are_skipped_with_a_reason():
    rows = [
        example("ok", True, -1.0),
        AnswerLikelihood("empty", True, []),
        AnswerLikelihood("nan", False, [math.nan]),
    ]
    selection = select_hardest(rows, 1.0)
    assert selection.kept == ["ok"]
    assert set(selection.skipped) == {"empty", "nan"} and "NaN" in selection.skipped["nan"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="fraction"):
        select_hardest([], 1.5)
    with pytest.raises(ValueError, match="duplicate"):
        select_hardest([example("a", True, -1.0), example("a", False, -1.0)])
    assert select_hardest([], 0.3).kept == []


def test_share_is_not_inflated_by_floating_point():
    rows = [example(f"c{i:02d}", True, -0.01 * i) for i in range(50)]
    assert len(select_hardest(rows, 0.14).kept) == 7  # 0.14 * 50 == 7.000000000000001
