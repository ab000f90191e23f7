"""The tool_call reward's held-out metrics for a training loop: accuracy, per bucket, error types."""

import pytest

from prefgen.executors.scoring import scored_records
from prefgen.generation.candidates import candidate_id
from prefgen.method_metrics import HeldoutRound
from prefgen.methods.tool_use.stdlib_tools import load_rows
from prefgen.methods.tool_use.task import reference_answer
from prefgen.records import Candidate, Prompt
from prefgen.registry import rewards


def prompts_by_bucket():
    """One prompt from each difficulty bucket of builtin:stdlib_tools."""
    found = {}
    for row in load_rows():
        found.setdefault(row["task"]["difficulty"], row)
    return {
        bucket: Prompt(id=Prompt.make_id(row["prompt"], row["task"]), prompt=row["prompt"], task=row["task"],
                       split="heldout")
        for bucket, row in found.items()
    }


def scored(reward, prompts, answers):
    """answers: (bucket, text) in order; the samples of one policy."""
    items = [
        (prompts[b], Candidate(id=candidate_id(prompts[b].id, i, "m", {}), prompt_id=prompts[b].id, sample_index=i,
                               text=text))
        for i, (b, text) in enumerate(answers)
    ]
    return scored_records(reward, items)


def test_accuracy_by_bucket_and_error_types():
    reward = rewards.build("tool_call", {"format": "python"})
    prompts = prompts_by_bucket()
    assert set(prompts) == {"easy", "medium", "hard", "no_call"}
    right = {b: " " + reference_answer(p.task["ground_truth"]) for b, p in prompts.items()}
    before = scored(reward, prompts, [
        ("easy", right["easy"]), ("easy", " [nothing"), ("medium", " [unknown_tool(x=1)]"),
        ("hard", right["hard"]), ("no_call", right["no_call"]), ("no_call", " [math.sqrt(x=4)]"),
    ])
    by_id = {p.id: p for p in prompts.values()}
    first = HeldoutRound(round=0, policy="p0", prompts=by_id, scored=before)
    metrics = reward.loop_metrics(first)
    assert metrics["samples"] == 6
    assert metrics["accuracy"] == pytest.approx(3 / 6)
    assert metrics["accuracy.easy"] == 0.5 and metrics["accuracy.medium"] == 0.0
    assert metrics["accuracy.hard"] == 1.0 and metrics["accuracy.no_call"] == 0.5
    assert metrics["errors.parse_error"] == 1 and metrics["error_share.parse_error"] == pytest.approx(1 / 6)
    assert sum(v for k, v in metrics.items() if k.startswith("errors.")) == 3
    assert metrics["errors.irrelevance:made_a_call"] == 1

    after = scored(reward, prompts, [(b, right[b]) for b in ("easy", "medium", "hard", "no_call")])
    later = reward.loop_metrics(HeldoutRound(round=1, policy="p1", prompts=by_id, scored=after, first=first))
    assert later["accuracy"] == 1.0 and later["errors.parse_error"] == 0  # policy 0's error types stay, at 0
    assert later["error_share.parse_error"] == 0.0


def test_no_samples_gives_no_accuracy():
    reward = rewards.build("tool_call", {})
    assert reward.loop_metrics(HeldoutRound(round=0, policy="p0", prompts={}, scored=[])) == {
        "samples": 0, "accuracy": None,
    }
