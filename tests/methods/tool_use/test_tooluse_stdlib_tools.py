"""``builtin:stdlib_tools``: deterministic requests whose ground truths pass the checker."""

from collections import Counter

import pytest

from prefgen.methods.tool_use.calls import ToolCall, format_calls
from prefgen.methods.tool_use.stdlib_tools import TOOLS, difficulty, load_rows
from prefgen.methods.tool_use.task import reference_answer, reference_calls, task_problem
from prefgen.records import Candidate, Prompt
from prefgen.registry import prompt_sources, rewards


@pytest.fixture(scope="module")
def rows():
    return load_rows()


def score(reward, row, text):
    prompt = Prompt(id="p", prompt=row["prompt"], task=row["task"])
    return reward.score_safely([(prompt, Candidate(id="c", prompt_id="p", sample_index=0, text=text))])[0]


def test_registered_and_deterministic(rows):
    assert prompt_sources.entries["stdlib_tools"] == "prefgen.methods.tool_use.sources:StdlibToolsSource"
    assert load_rows() == rows
    assert load_rows(seed=1) != rows
    assert load_rows(limit=10) == rows[:10]


def test_every_kind_of_request_is_there(rows):
    buckets = Counter(row["task"]["difficulty"] for row in rows)
    assert set(buckets) == {"easy", "medium", "hard", "no_call"} and min(buckets.values()) >= 5
    assert any(len(row["task"]["ground_truth"]) == 2 for row in rows)
    assert any(
        len(row["task"]["tools"]) > len(row["task"]["ground_truth"]) + 1 for row in rows
    )  # distractors
    assert any(
        "" in values
        for row in rows
        for call in row["task"]["ground_truth"]
        for values in next(iter(call.values())).values()
    )  # optional parameters
    assert len({row["prompt"] for row in rows}) == len(rows)
    assert all(row["prompt"].endswith("Calls:") and row["task"]["request"] in row["prompt"] for row in rows)


def test_every_ground_truth_passes_the_reward_and_wrong_answers_do_not(rows):
    reward = rewards.build("tool_call", {"format": "python"})
    for row in rows:
        assert task_problem(row["task"]) is None
        assert score(reward, row, " " + reference_answer(row["task"]["ground_truth"])).score == 1.0
        calls = reference_calls(row["task"]["ground_truth"])
        if len(calls) == 2:
            assert score(reward, row, format_calls(calls[::-1])).score == 1.0  # any order
        wrong = "[]" if calls else format_calls([ToolCall(row["task"]["tools"][0]["name"], {})])
        assert score(reward, row, wrong).score < 1.0


def test_split_follows_the_request_whatever_the_seed():
    by_seed = [{row["task"]["request"]: row["split"] for row in load_rows(seed=seed)} for seed in (0, 1)]
    shared = by_seed[0].keys() & by_seed[1].keys()
    assert shared and all(by_seed[0][r] == by_seed[1][r] for r in shared)
    splits = Counter(row["split"] for row in load_rows(heldout_fraction=0.5))
    assert splits["heldout"] > 0.3 * splits.total() and splits["train"] > 0.3 * splits.total()
    assert {row["split"] for row in load_rows(heldout_fraction=0.0)} == {"train"}


def test_difficulty_buckets_and_bad_options():
    assert difficulty(set()) == "easy"
    assert difficulty({"convert"}) == "medium"
    assert difficulty({"convert", "distractors"}) == "hard" == difficulty({"two_calls"})
    assert difficulty({"no_call", "distractors"}) == "no_call"
    assert all(tool["parameters"]["required"] for tool in TOOLS.values())
    with pytest.raises(TypeError, match="no option"):
        load_rows(colour="red")
    with pytest.raises(ValueError, match="heldout_fraction"):
        load_rows(heldout_fraction=2)


def test_chat_prompt_styles_keep_the_tasks_and_differ_in_the_example(rows):
    from prefgen.methods.tool_use.stdlib_tools import EXAMPLE_ANSWER

    chat, calls = load_rows(prompt_style="chat"), load_rows(prompt_style="chat_calls")
    assert [r["task"] for r in chat] == [r["task"] for r in calls] == [r["task"] for r in rows]
    row = next(i for i, r in enumerate(rows) if r["task"]["request"].startswith("Round "))
    with_example, templates = chat[row]["prompt"], calls[row]["prompt"]
    assert [m["role"] for m in with_example] == ["system", "user", "assistant", "user"]
    assert with_example[2]["content"] == EXAMPLE_ANSWER
    assert [m["role"] for m in templates] == ["system", "user"]  # no example to copy a function from
    assert templates[1]["content"] == rows[row]["task"]["request"]
    assert "- round(number=<float>, ndigits=<integer, optional>): " in templates[0]["content"]
    assert "string.capwords" not in templates[0]["content"]
    with pytest.raises(ValueError, match="prompt_style"):
        load_rows(prompt_style="chatty")
