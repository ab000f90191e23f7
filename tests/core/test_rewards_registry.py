import math

import pytest

from prefgen.records import Candidate, Prompt
from prefgen.registry import UnknownPluginError, rewards
from prefgen.rewards import Reward, RewardResult


class FlakyReward(Reward):
    """Raises for candidates containing 'boom', returns NaN for 'nan'."""

    name = "flaky"

    def score_batch(self, items):
        results = []
        for _, cand in items:
            if "boom" in cand.text:
                raise ValueError("cannot score this one")
            results.append(RewardResult(math.nan if cand.text == "nan" else float(len(cand.text))))
        return results


def cand(i, text, error=None):
    return Candidate(id=str(i), prompt_id="p", sample_index=i, text=text, error=error)


def test_unknown_reward_suggests_names():
    with pytest.raises(UnknownPluginError, match="Did you mean: length"):
        rewards.load("lenth")


def test_user_reward_by_import_path():
    assert rewards.load("test_rewards_registry:FlakyReward") is FlakyReward
    with pytest.raises(UnknownPluginError, match="not a subclass"):
        rewards.load("math:sqrt")
    with pytest.raises(UnknownPluginError, match="cannot import"):
        rewards.load("no_such_module_xyz:Thing")


def test_one_bad_candidate_never_fails_the_batch():
    prompt = Prompt(id="p", prompt="q")
    items = [(prompt, cand(0, "good")), (prompt, cand(1, "boom")), (prompt, cand(2, "nan")), (prompt, cand(3, "", "prompt_too_long"))]
    results = FlakyReward().score_safely(items)
    assert results[0].score == 4.0
    assert results[1].score is None and "cannot score this one" in results[1].reason
    assert results[2].score is None and "non-finite" in results[2].reason
    assert results[3].score is None and results[3].reason.startswith("generation_error")


def test_builtin_rewards_score():
    prompt = Prompt(id="p", prompt="q")
    length = rewards.build("length", {"target_chars": 10})
    assert [r.score for r in length.score_safely([(prompt, cand(0, "x" * 10)), (prompt, cand(1, "x" * 20))])] == [1.0, 0.5]
    regex = rewards.build("regex", {"require": [r"\d"], "forbid": ["sorry"]})
    scores = [r.score for r in regex.score_safely([(prompt, cand(0, "42")), (prompt, cand(1, "sorry"))])]
    assert scores == [1.0, 0.0]
    with pytest.raises(ValueError, match="invalid regular expression"):
        rewards.build("regex", {"require": ["("]})


def test_fingerprint_changes_with_params():
    assert rewards.build("length", {"target_chars": 10}).fingerprint() != rewards.build("length", {"target_chars": 11}).fingerprint()
