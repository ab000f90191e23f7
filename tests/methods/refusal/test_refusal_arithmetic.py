"""``builtin:arithmetic``: every gold answer is the result, unanswerable questions state no quantity."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from prefgen.config import PromptsConfig
from prefgen.methods.refusal.arithmetic import OPERATIONS, UNSTATED, load_rows
from prefgen.registry import rewards
from prefgen.sources.reader import read_prompts

ROWS = load_rows()
SYMBOLS = {symbol: apply for symbol, _, apply in OPERATIONS.values()}
ANSWERABLE = re.compile(r"What is (\d+) (\S) (\d+)\?")


def test_every_answer_is_the_result_and_levels_are_complete():
    counts = Counter(r["task"]["fact"] for r in ROWS)
    assert all(counts[f"{name}{d}"] == 81 for name in OPERATIONS for d in (1, 2, 3))
    for row in ROWS:
        task = row["task"]
        assert task["match"] == "number"
        if not task["answerable"]:
            assert task["answers"] == [] and any(q in task["question"] for q in UNSTATED)
            continue
        a, symbol, b = ANSWERABLE.fullmatch(task["question"]).groups()
        assert task["answers"][0] == str(SYMBOLS[symbol](int(a), int(b)))
        digits = int(task["fact"][-1])
        assert len(a) == len(b) == digits
    assert 0.1 < counts["unanswerable"] / len(ROWS) < 0.2
    assert len({r["task"]["question"] for r in ROWS}) == len(ROWS)


def test_order_split_limit_and_seed():
    assert load_rows(limit=40) == ROWS[:40]
    assert Counter(r["split"] for r in ROWS).keys() == {"train", "heldout"}
    other = load_rows(seed=1)
    assert {r["task"]["question"] for r in other} != {r["task"]["question"] for r in ROWS}
    small = load_rows(max_digits=1, per_level=500)  # every one-digit question once
    assert Counter(r["task"]["fact"] for r in small)["add1"] == 81
    assert load_rows(prompt_style="chat", limit=1)[0]["prompt"][1] == {"role": "user", "content": ROWS[0]["task"]["question"]}
    with pytest.raises(ValueError, match="instruction needs prompt_style: chat"):
        load_rows(instruction="x")


def test_the_reader_and_the_reward_take_every_row():
    reward = rewards.build("refusal", {})
    result = read_prompts(PromptsConfig(source="builtin:arithmetic", options={"limit": 120, "max_digits": 2}),
                          reward.task_problem)
    assert len(result.prompts) == 120 and not result.rejected
    prompt = next(p for p in result.prompts if p.task["answerable"])
    gold = prompt.task["answers"][0]
    from prefgen.records import Candidate

    texts = [f" {gold}", f" {prompt.task['question'][8:-1]} = {gold}", " I don't know.", f" {int(gold) + 1}"]
    kinds = [r.details["kind"] for r in reward.score_batch(
        [(prompt, Candidate(id=f"c{i}", prompt_id=prompt.id, sample_index=i, text=t)) for i, t in enumerate(texts)])]
    assert kinds == ["correct", "correct", "refusal", "wrong"]
