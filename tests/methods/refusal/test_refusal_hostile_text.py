"""Hostile policy text: the ``refusal`` reward judges 1 MB of adversarial text quickly and safely.

The reward cuts a sample to ``max_answer_chars`` before any regular expression or Unicode
normalisation reads it, and the judge's regular expressions have no nested quantifiers, so time
does not depend on what the policy wrote past the limit.
"""

from __future__ import annotations

import re
import time

import pytest

from prefgen.methods.refusal import answers, classify, detector
from prefgen.records import Candidate, Prompt
from prefgen.registry import rewards

MB = 1_000_000
HOSTILE = {
    "one character": "a" * MB,
    "whitespace in a fence": "```\n" + " " * MB + "\n```",
    "whitespace in a one-line fence": "```" + " " * MB + "Paris```",
    "unclosed brackets": "([{<" * (MB // 4),
    "repeated refusal phrase": "I don't know " * (MB // 13),
    "repeated negation": "it is not Paris, " * (MB // 17),
    "zero-width and combining": ("e\u0301\u200b\u200d\u2019\ufb01\uff23\uff0b\u0300\u0327" * (MB // 10)),
    "plus signs": "C" + "+" * MB,
    "digits and dots": "1." * (MB // 2),
    "minus signs": "-" * MB,
    "premise phrase": "There is no such function " * (MB // 26),
}


def _prompt(answerable: bool) -> Prompt:
    if answerable:
        task = {"question": "What is the capital of France?", "answers": ["Paris"]}
    else:
        task = {"question": "Which standard-library module defines `frob_quux`?", "answers": [], "answerable": False}
    return Prompt(id=Prompt.make_id("q", task), prompt="Question: q\nAnswer:", task=task)


@pytest.mark.parametrize("answerable", [True, False])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_megabyte_of_hostile_text_is_judged_in_under_a_second(name, answerable):
    reward = rewards.build("refusal", {})
    prompt = _prompt(answerable)
    candidate = Candidate(id="c", prompt_id=prompt.id, sample_index=0, text=HOSTILE[name])
    started = time.process_time()
    (result,) = reward.score_safely([(prompt, candidate)])
    elapsed = time.process_time() - started
    # Generous bound (measured: well under 0.1 s here): the judge reads at most 2000 characters,
    # so only a catastrophic regex (time growing with the 1 MB) or a reading of the whole text
    # could come near it, even on a loaded shared machine.
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"
    assert result.details["truncated"] is True
    assert len(result.details["answer"]) <= 2000
    assert result.score is not None or result.reason  # a result, never an exception


def test_the_size_limit_comes_first_and_is_a_parameter():
    prompt = _prompt(True)
    text = " I don't know " + "x" * MB + " Paris"
    (result,) = rewards.build("refusal", {}).score_safely(
        [(prompt, Candidate(id="c", prompt_id=prompt.id, sample_index=0, text=text))])
    assert result.details["kind"] == "refusal"  # "Paris" lies beyond the limit: never read
    short = rewards.build("refusal", {"max_answer_chars": 10})
    (cut,) = short.score_safely([(prompt, Candidate(id="c", prompt_id=prompt.id, sample_index=0,
                                                    text="Lyon, or maybe Paris"))])
    assert cut.details["kind"] == "wrong" and cut.details["answer"] == "Lyon, or m"


def _repeats(pattern: str):
    """Every repeat node of a regular expression's parse tree, with the repeats nested in it."""
    parser = re._parser  # the standard library's own parser: what the engine will run

    def walk(items, inside):
        for op, arg in items:
            if op in (parser.MAX_REPEAT, parser.MIN_REPEAT, parser.POSSESSIVE_REPEAT):
                yield inside
                yield from walk(arg[2], True)
            elif op in (parser.SUBPATTERN,):
                yield from walk(arg[-1], inside)
            elif op is parser.BRANCH:
                for branch in arg[1]:
                    yield from walk(branch, inside)
            elif op in (parser.ASSERT, parser.ASSERT_NOT):
                yield from walk(arg[1], inside)

    return list(walk(parser.parse(pattern).data, False))


@pytest.mark.parametrize("module", [answers, detector, classify])
def test_no_regex_of_the_judge_nests_quantifiers(module):
    patterns = [v for v in vars(module).values() if isinstance(v, re.Pattern)]
    assert patterns or module is classify
    for pattern in patterns:
        assert not any(_repeats(pattern.pattern)), pattern.pattern
    assert any(_repeats(r"(?:a+)*b"))  # the check itself finds a nested quantifier


def test_a_user_pattern_that_nests_quantifiers_is_refused_when_the_config_is_read():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"refusal_patterns[\s\S]*exponential time"):
        rewards.build("refusal", {"refusal_patterns": [r"^(\w+\s?)*$"]})
    assert rewards.build("refusal", {"refusal_patterns": [r"^\s*pass\b", r"(ab)+"]})  # plain ones are fine
