"""The ``refusal`` reward and the QA task format (mapping layouts, rejecting bad rows)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from prefgen.config import PromptsConfig
from prefgen.methods.refusal.qa_format import load_rows, map_record, task_problem
from prefgen.records import Candidate, Prompt, Scored
from prefgen.registry import rewards
from prefgen.sources.reader import read_prompts


def _prompt(question: str, answers: list[str], answerable: bool = True, split: str = "train") -> Prompt:
    task = {"question": question, "answers": answers}
    if not answerable:
        task["answerable"] = False
    return Prompt(id=Prompt.make_id(question, task), prompt=f"Question: {question}\nAnswer:", task=task, split=split)


def _candidate(prompt: Prompt, text: str, index: int = 0) -> Candidate:
    return Candidate(id=f"{prompt.id}-{index}", prompt_id=prompt.id, sample_index=index, text=text, split=prompt.split)


def test_scores_and_kinds():
    reward = rewards.build("refusal", {})
    capital = _prompt("What is the capital of France?", ["Paris"])
    nowhere = _prompt("Which module defines frobnicate?", [], answerable=False)
    texts = [(capital, " Paris"), (capital, " Lyon"), (capital, " I don't know."),
             (capital, " I'm not sure, but it is Paris."), (capital, " "), (nowhere, " os"), (nowhere, " I have no idea.")]
    results = reward.score_safely([(p, _candidate(p, t, i)) for i, (p, t) in enumerate(texts)])
    assert [r.score for r in results] == [1.0, -1.0, 0.0, 0.0, None, -1.0, 0.0]
    assert [r.details["kind"] for r in results] == ["correct", "wrong", "refusal", "hedged", "unscorable", "wrong", "refusal"]
    assert results[4].reason == "empty answer"


def test_scores_and_detector_are_configurable():
    reward = rewards.build("refusal", {"scores": {"hedged": -0.5, "refusal": 0.25},
                                      "refusal_phrases": ["no comment"], "refusal_patterns": [r"^\s*pass\b"]})
    prompt = _prompt("Who?", ["Ada"])
    texts = ["No comment.", "no comment, Ada", "pass", "I don't know."]
    results = reward.score_safely([(prompt, _candidate(prompt, t, i)) for i, t in enumerate(texts)])
    assert [r.score for r in results] == [0.25, -0.5, 0.25, -1.0]


def test_bad_params_name_the_key():
    with pytest.raises(ValidationError, match="at least two words"):
        rewards.build("refusal", {"refusal_phrases": ["unknown"]})
    with pytest.raises(ValidationError, match="scores.correct"):
        rewards.build("refusal", {"scores": {"correct": "high"}})
    with pytest.raises(ValidationError, match="knowledge_rule"):
        rewards.build("refusal", {"knowledge_rule": "vibes"})


def test_r_tuning_records_beside_the_pairs():
    reward = rewards.build("refusal", {"known_threshold": 0.5})
    known = _prompt("What is 2+2?", ["4"])
    unknown = _prompt("Who wrote X?", ["Ada"])
    heldout = _prompt("Held out?", ["yes"], split="heldout")
    scored = []
    for prompt, texts in ((known, ["4", "4", "5"]), (unknown, ["Bob", "Carl", "I don't know."]), (heldout, ["yes"])):
        cands = [_candidate(prompt, t, i) for i, t in enumerate(texts)]
        for cand, result in zip(cands, reward.score_safely([(prompt, c) for c in cands])):
            scored.append(Scored(**cand.model_dump(), reward="refusal", score=result.score, details=result.details))
    rows = reward.extra_datasets({p.id: p for p in (known, unknown, heldout)}, scored)["r_tuning"]
    by_key = {(r["prompt_id"], r["variant"]): r for r in rows}
    assert len(rows) == 4 and all(r["prompt_id"] != heldout.id for r in rows)
    assert by_key[(known.id, "padding")]["text"].endswith("Answer: 4. Are you sure you accurately answered the "
                                                         "question based on your internal knowledge? I am sure.")
    assert by_key[(unknown.id, "padding")]["text"].endswith("I am unsure.")
    assert by_key[(unknown.id, "padding")]["knowledge_rule"] == "sampled"
    assert "Ada" not in by_key[(unknown.id, "replacement")]["completion"]
    assert "| refusal | 1 |" in reward.describe(scored)


# --- task format -----------------------------------------------------------------------------
def test_layouts_map_to_the_task_format():
    trivia = {"question": "Capital of France?", "answer": {"value": "Paris", "aliases": ["City of Paris", "Paris"]}}
    assert map_record(trivia, "triviaqa")["task"] == {"question": "Capital of France?", "answers": ["City of Paris", "Paris"]}
    trivia["answer"]["aliases"] = ["City of Paris"]
    assert map_record(trivia, "triviaqa")["task"]["answers"] == ["Paris", "City of Paris"]
    nq = map_record({"question": "who sang x", "answers": ["A", "B"]}, "nq")
    assert nq["prompt"] == "Question: who sang x\nAnswer:" and nq["task"]["answers"] == ["A", "B"]
    selfaware = map_record({"question": "Why is 7 blue?", "answer": None, "answerable": False}, "selfaware")
    assert selfaware["task"] == {"question": "Why is 7 blue?", "answers": [], "answerable": False}
    custom = map_record({"q": "Q?", "gold": {"all": ["x"]}}, {"question": "q", "answers": "gold.all"})
    assert custom["task"] == {"question": "Q?", "answers": ["x"]}
    with pytest.raises(ValueError, match="unknown layout 'squad'"):
        map_record({}, "squad")


@pytest.mark.parametrize("task, reason", [
    ({"answers": ["x"]}, "task.question: missing"),
    ({"question": "Q?", "answers": "x"}, "task.answers: expected a list of gold answers, got str"),
    ({"question": "Q?"}, "task.answers: missing"),
    ({"question": "Q?", "answers": []}, "task.answers: empty"),
    ({"question": "Q?", "answers": [3]}, "every gold answer must be a non-empty string"),
    ({"question": "Q?", "answers": ["x"], "answerable": "no"}, "task.answerable: expected true or false"),
    ({"question": "Q?", "answers": ["Paris", "the"]}, "gold answer 'the' normalises to nothing"),
    ({"question": "Q?", "answers": ["\u200b..."]}, "normalises to nothing"),
])
def test_task_problems(task, reason):
    assert reason in task_problem(task)


def test_valid_tasks():
    assert task_problem({"question": "Q?", "answers": ["x"]}) is None
    assert task_problem({"question": "Q?", "answerable": False}) is None


def test_bad_rows_are_rejected_with_reasons(tmp_path):
    path = tmp_path / "qa.jsonl"
    rows = [{"question": "Capital of France?", "answers": ["Paris"]},
            {"answers": ["x"]},
            {"question": "Q2?", "answers": "Paris"},
            {"question": "Unanswerable?", "answer": None, "answerable": False},
            {"question": "Article?", "answers": ["The"]}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n", encoding="utf-8")
    reward = rewards.build("refusal", {})
    config = PromptsConfig(source="builtin:qa", options={"path": str(path)})
    result = read_prompts(config, task_problem=reward.task_problem)
    assert [p.task["question"] for p in result.prompts] == ["Capital of France?", "Unanswerable?"]
    reasons = [r.reason for r in result.rejected]
    assert reasons[0].startswith("task.question: missing")
    assert reasons[1].startswith("task.answers: expected a list")
    assert "gold answer 'The' normalises to nothing" in reasons[2]
    assert reasons[3].startswith("not a JSON object")
    assert len(load_rows(str(path), limit=2)) == 2
