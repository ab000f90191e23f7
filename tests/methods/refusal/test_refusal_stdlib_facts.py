"""``builtin:stdlib_facts``: every answerable fact is true and unique, unanswerable ones have no answer."""

from __future__ import annotations

import importlib
import inspect
import re
from collections import Counter

import pytest

from prefgen.config import PromptsConfig
from prefgen.methods.refusal.qa_format import task_problem
from prefgen.methods.refusal.stdlib_facts import FACT_MODULES, load_rows
from prefgen.registry import rewards
from prefgen.sources.reader import read_prompts

ROWS = load_rows()
NAME = re.compile(r"`([^`]+)`")


def _names(question: str) -> list[str]:
    return NAME.findall(question)


def test_rows_are_deterministic_and_valid():
    assert load_rows() == ROWS
    # A default whose gold answers normalise to nothing (``'.'``) is a task error: the reader rejects it.
    problems = [task_problem(r["task"]) for r in ROWS]
    assert all(p is None or "normalises to nothing" in p for p in problems)
    assert sum(p is not None for p in problems) <= 3
    assert len({r["task"]["question"] for r in ROWS}) == len(ROWS)
    counts = Counter((r["task"]["fact"], r["task"]["answerable"]) for r in ROWS)
    assert all(counts[(fact, ok)] >= 10 for fact in ("defines", "default", "required") for ok in (True, False))
    assert Counter(r["split"] for r in ROWS).keys() == {"train", "heldout"}
    assert len({r["module"] for r in ROWS if r["task"]["answerable"]}) >= 20


def test_limit_extends_and_options_are_checked():
    assert load_rows(limit=30) == ROWS[:30]
    assert load_rows(seed=1) != ROWS
    with pytest.raises(ValueError, match="heldout_fraction"):
        load_rows(heldout_fraction=1.5)


def test_defines_facts_are_true_and_unique():
    for row in (r for r in ROWS if r["task"]["fact"] == "defines" and r["task"]["answerable"]):
        (name,) = _names(row["task"]["question"])
        owners = [m for m in FACT_MODULES if name in vars(importlib.import_module(m))]
        assert owners == row["task"]["answers"] == [row["module"]], name
        # an answer that repeats the question's name must not match the gold: glob.glob0 is not asked
        assert row["module"].lower() not in name.lower(), name
    defined = [r for r in ROWS if r["task"]["fact"] == "defines" and r["task"]["answerable"]]
    assert len(defined) > 300 and not any("`Random`" in r["task"]["question"] for r in defined)


def _function(qualified: str):
    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name, None)


def test_signature_facts_are_true():
    for row in (r for r in ROWS if r["task"]["fact"] != "defines" and r["task"]["answerable"]):
        names = _names(row["task"]["question"])
        signature = inspect.signature(_function(names[-1]))
        if row["task"]["fact"] == "required":
            required = [p for p in signature.parameters.values()
                        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            assert row["task"]["answers"][0] == str(len(required))
        else:
            assert row["task"]["answers"][0] == repr(signature.parameters[names[0]].default)


def test_unanswerable_questions_name_nothing_that_exists():
    for row in (r for r in ROWS if not r["task"]["answerable"]):
        names = _names(row["task"]["question"])
        assert row["task"]["answers"] == []
        if row["task"]["fact"] == "default":
            assert names[0] not in inspect.signature(_function(names[1])).parameters
        else:
            bare = names[0].rpartition(".")[2]
            assert all(bare not in vars(importlib.import_module(m)) for m in FACT_MODULES), bare


def test_the_reader_keeps_split_and_the_reward_accepts_every_row():
    reward = rewards.build("refusal", {})
    result = read_prompts(PromptsConfig(source="builtin:stdlib_facts", options={"limit": 200}), reward.task_problem)
    assert len(result.prompts) == 200 and not result.rejected
    by_question = {r["task"]["question"]: r for r in ROWS[:200]}
    assert all(p.split == by_question[p.task["question"]]["split"] for p in result.prompts)
    assert all(p.task["module"] == by_question[p.task["question"]]["module"] for p in result.prompts)


def test_a_fact_no_answer_could_match_goes_to_the_rejects():
    reward = rewards.build("refusal", {})
    result = read_prompts(PromptsConfig(source="builtin:stdlib_facts"), reward.task_problem)
    unmatchable = [r for r in ROWS if task_problem(r["task"])]
    assert len(result.prompts) == len(ROWS) - len(unmatchable)
    assert [r.reason for r in result.rejected] == [task_problem(r["task"]) for r in unmatchable]
    assert all("normalises to nothing" in r.reason for r in result.rejected)
