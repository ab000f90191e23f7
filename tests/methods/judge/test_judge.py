"""The judge on a scripted engine: rubric slots, reading verdicts, both orders, flips, ties,
abstentions, garbage retried then null (never 0), one engine call per shard, the pairs it makes,
a ``combined`` veto and tie-break, and the card's and version.json's judge figures.

The real-vLLM path of the same jobs is in test_judge_vllm.py (slow)."""

from __future__ import annotations

import json
import re

import pytest
from judge_scripted import ScriptedEngine, ScriptedRuntime

from prefgen.executors.engine_scoring import EngineHandle, EngineScoringJobs
from prefgen.executors.local_runtime import LocalEngines
from prefgen.methods.judge.job import JudgeJob, JudgeRequest, JudgeSettings
from prefgen.methods.judge.pairing import JudgePairing
from prefgen.methods.judge.reward import JudgeReward
from prefgen.methods.judge.rubric import fill, read_vote
from prefgen.records import Candidate, Prompt
from prefgen.registry import pairing_strategies, rewards


@pytest.fixture(autouse=True)
def judge_registered(monkeypatch):
    """The judge's names, as its entry point announces them once the package is installed."""
    monkeypatch.setitem(rewards.core, "judge", "prefgen.methods.judge.reward:JudgeReward")
    monkeypatch.setitem(pairing_strategies.core, "judge", "prefgen.methods.judge.pairing:JudgePairing")


@pytest.fixture
def judge_dir(tmp_path):
    """A directory that passes for a model (the scripted engine never loads it)."""
    (tmp_path / "judge").mkdir()
    (tmp_path / "judge" / "config.json").write_text("{}")
    return str(tmp_path / "judge")


def items_for(answers: dict[str, list[str]]):
    out = []
    for text, samples in answers.items():
        prompt = Prompt(id=Prompt.make_id(text, {}), prompt=text)
        out += [(prompt, Candidate(id=f"{prompt.id}-{i}", prompt_id=prompt.id, sample_index=i, text=s))
                for i, s in enumerate(samples)]
    return out


def judge(mode="pairwise", engine=None, **params) -> tuple[JudgeReward, ScriptedEngine]:
    engine = engine or ScriptedEngine()
    reward = JudgeReward(JudgeReward.Params(mode=mode, retries=2, **params))
    reward.attach_engines(EngineHandle(LocalEngines(engine)))
    return reward, engine


def test_slots_are_filled_once_and_answers_are_not_templates():
    text = fill("Q: {prompt} A: {answer} {other} {{x}}", {"prompt": "{answer}", "answer": "ok {prompt}"})
    assert text == "Q: {answer} A: ok {prompt} {other} {{x}}"


@pytest.mark.parametrize("reply, mode, kind, value", [
    ("[[A]]", "pairwise", "A", None), ("first [[A]] then [[b]]", "pairwise", "B", None),
    ("[[tie]]", "pairwise", "tie", None), ("[[C]]", "pairwise", "tie", None),
    ("[[ Abstain ]]", "pairwise", "abstain", None), ("[[D]]", "pairwise", None, None),
    ("A is better", "pairwise", None, None), ("[[7.5]]", "pointwise", "score", 7.5),
    ("[[11]]", "pointwise", None, None), ("[[nan]]", "pointwise", None, None), ("[[0]]", "pointwise", None, None),
])
def test_reading_a_verdict(reply, mode, kind, value):
    vote = read_vote(reply, mode, (1.0, 10.0))
    assert (vote.kind, vote.value) == (kind, value)
    assert (vote.problem == "") == (kind is not None)


def test_a_verdict_pattern_reads_judges_that_answer_otherwise():
    pattern = r"^\s*(A|B|tie)\b"
    assert read_vote(" B. Because it quotes", "pairwise", (1, 10), pattern).kind == "B"
    assert read_vote("Both are fine", "pairwise", (1, 10), pattern).problem == "no verdict in the reply"
    with pytest.raises(ValueError, match="exactly one group"):
        JudgeReward.Params(verdict_pattern="(A)|(B)")
    with pytest.raises(ValueError, match="not a regex"):
        JudgeReward.Params(verdict_pattern="(A")


def test_garbage_is_retried_in_the_same_job_then_failed():
    engine = ScriptedEngine(lambda messages, seed: "[[A]]" if "good" in messages[-1]["content"] else "hmm")
    settings = JudgeSettings("pairwise", (1, 10), votes=1, retries=2, max_tokens=8, temperature=0.0,
                             retry_temperature=0.8, seed=0)
    requests = [JudgeRequest(str(i), [{"role": "user", "content": t}]) for i, t in enumerate(["good", "bad", "good"])]
    results = engine.generate(JudgeJob(requests, settings))
    assert engine.calls == [3, 1, 1]  # every request in the first call; only the unreadable one again
    assert [r.attempts for r in results] == [1, 3, 1]
    assert results[1].votes == [] and results[1].replies == ["hmm"] * 3 and "no [[verdict]]" in results[1].problem


def test_pairwise_both_orders_flip_tie_and_garbage_to_null():
    reward, engine = judge()
    items = items_for({"p1": ["red", "blue"], "p2": ["green", "gray"], "p3": ["pink", "teal"], "p4": ["gold", "jade"]})
    results = reward.score_safely(items)
    assert engine.calls[0] == 8  # 4 comparisons x 2 orders, in one engine call
    assert len(engine.calls) == 3  # then the garbage comparison's two orders, retried twice
    verdicts = [r.details["judge"]["comparisons"][0]["verdict"] for r in results]
    assert verdicts == ["win", "loss", "flip", "flip", "tie", "tie", "failed", "failed"]
    assert [r.score for r in results[:2]] == [1.0, 0.0]
    assert results[0].details["judge"]["comparisons"][0]["confidence"] == 1.0
    assert results[0].details["judge"]["comparisons"][0]["orders"] == ["x", "x"]
    assert [r.score for r in results[4:6]] == [0.5, 0.5]  # an agreed tie counts half
    for r in results[2:4] + results[6:]:  # a flip and a failure are not scores, never 0
        assert r.score is None and r.reason.startswith("judge: no agreed comparison")
    assert results[6].details["judge"]["comparisons"][0]["attempts"] == 6  # 2 orders x (1 + 2 retries)


def test_pointwise_scores_abstentions_and_failures():
    reward, engine = judge("pointwise")
    results = reward.score_safely(items_for({"p": ["red", "blue", "gray", "gold", "pink"]}))
    assert engine.calls == [5, 2, 2]  # one call for the shard; the unreadable two retried twice
    assert [r.score for r in results] == [9.0, 3.0, None, None, None]
    assert results[2].reason == "judge abstained"
    assert results[3].reason.startswith("judge_failed after 3 tries: no [[verdict]]")
    assert "outside the scale" in results[4].reason  # [[11]] on a 1..10 scale is not clipped to 10


def test_pairs_come_only_from_agreed_verdicts():
    reward, _ = judge()
    items = items_for({"p1": ["red", "blue"], "p2": ["green", "gray"], "p3": ["pink", "teal"], "p4": ["gold", "jade"]})
    scored = [Scored_(item, r) for item, r in zip(items, reward.score_safely(items))]
    prompts = [items[i][0] for i in (0, 2, 4, 6)]
    result = JudgePairing().pair(prompts, scored)
    assert [(p.chosen, p.rejected, p.details["label_confidence"]) for p in result.pairs] == [("red", "blue", 1.0)]
    assert result.unpaired == {"no agreed judge verdict": 3}  # the flip, the tie and the failure


def test_label_confidence_with_several_votes():
    votes = iter(["[[A]]", "[[A]]", "[[B]]", "[[B]]", "[[B]]", "[[A]]"])  # order 1: 2 of 3 for red; order 2: 2 of 3

    class Engine(ScriptedEngine):
        def generate(self, requests):
            if hasattr(requests, "run_on_engine"):
                return requests.run_on_engine(self)
            return [{"completions": [{"text": next(votes), "num_tokens": 1} for _ in range(r.sampling["n"])]}
                    for r in requests]

    reward, _ = judge(engine=Engine(), votes=3, temperature=0.7)
    items = items_for({"p1": ["red", "blue"]})
    results = reward.score_safely(items)
    comparison = results[0].details["judge"]["comparisons"][0]
    assert comparison["verdict"] == "win" and comparison["confidence"] == round(4 / 6, 4)
    scored = [Scored_(item, r) for item, r in zip(items, results)]
    assert JudgePairing(JudgePairing.Params(min_confidence=0.7)).pair([items[0][0]], scored).pairs == []
    assert JudgePairing().pair([items[0][0]], scored).pairs[0].details["label_confidence"] == round(4 / 6, 4)


def Scored_(item, result):
    from prefgen.records import Scored

    return Scored(**item[1].model_dump(), reward="judge", score=result.score, reason=result.reason, details=result.details)


def test_a_shard_is_one_engine_job_and_own_engines_are_released(judge_dir):
    runtime = ScriptedRuntime()
    params = JudgeReward.Params(model=judge_dir, mode="pairwise").model_dump(mode="json")
    jobs = runtime.scoring_jobs("judge", params)
    assert isinstance(jobs, EngineScoringJobs)
    items = items_for({"p1": ["red", "blue"], "p2": ["pink", "teal"]})
    prompts = {p.id: p.to_row() for p, _ in items}
    jobs.submit("s1", [prompts[items[0][0].id]], [c.to_row() for _, c in items[:2]])
    jobs.submit("s2", [prompts[items[2][0].id]], [c.to_row() for _, c in items[2:]])
    assert list(jobs.finished()) == [] and runtime.started == []  # nothing while generation runs
    done = dict(jobs.finished(wait=True))
    assert sorted(done) == ["s1", "s2"] and [r["score"] for r in done["s1"]] == [1.0, 0.0]
    assert runtime.engine.calls == [2, 2]  # one engine call per shard (both orders of its pair)
    assert runtime.started == [judge_dir] and runtime.released == 1  # its own engine, released after


def test_the_policy_pool_is_shared_when_the_judge_is_the_policy(judge_dir):
    from prefgen.generation.model_ref import resolve_model

    runtime = ScriptedRuntime()
    ref = resolve_model(judge_dir)
    runtime.engines(ref.path, ref.fingerprint, None)  # the policy's engines, running
    jobs = runtime.scoring_jobs("judge", {"model": judge_dir, "mode": "pairwise"})
    items = items_for({"p1": ["red", "blue"]})
    jobs.submit("s", [items[0][0].to_row()], [c.to_row() for _, c in items])
    assert [r["score"] for _, rows in jobs.finished(wait=True) for r in rows] == [1.0, 0.0]
    assert runtime.started == [judge_dir] and runtime.released == 0  # no second engine, nothing released


def combined_params(judge_dir, role, mode="pairwise", require="^ok"):
    return {"components": [{"name": "regex", "require": [require]}, {"name": "judge", "model": judge_dir, "mode": mode}],
            "judge": {"component": "judge", "verifiable": "regex", "role": role}}


def test_combined_veto_drops_the_judge_pair_that_contradicts_the_tests(judge_dir):
    rank = {"bad": 3, "ok red": 2, "ok blue": 1, "ok fine": 1}  # the judge likes "bad" best

    def script(messages, seed):
        a, b = re.search(r"\[Answer A\]\n(.*?)\n\n\[Answer B\]\n(.*?)\n\n", messages[-1]["content"]).groups()
        return "[[A]]" if rank[a] > rank[b] else "[[B]]"

    runtime = ScriptedRuntime(ScriptedEngine(script))
    reward = rewards.build("combined", combined_params(judge_dir, "veto"))
    jobs = runtime.scoring_jobs("combined", reward.params.model_dump(mode="json"))
    items = items_for({"p1": ["ok fine", "bad"], "p2": ["ok red", "ok blue"]})  # the judge prefers "bad"
    for prompt_id in ("p1", "p2"):
        group = [(p, c) for p, c in items if p.prompt == prompt_id]
        jobs.submit(prompt_id, [group[0][0].to_row()], [c.to_row() for _, c in group])
    rows = {key: rows for key, rows in jobs.finished(wait=True)}
    from prefgen.records import Scored

    scored = [Scored.from_row(r) for key in ("p1", "p2") for r in rows[key]]
    judge_part = scored[0].details["components"]["judge"]["details"]["judge"]["comparisons"][0]
    assert judge_part["verdict"] == "loss" and judge_part["vetoed"] is True  # "ok fine" lost, but passes
    pairs = JudgePairing().pair([items[0][0], items[2][0]], scored)
    assert [(p.chosen, p.rejected) for p in pairs.pairs] == [("ok red", "ok blue")]  # both pass: not vetoed
    assert pairs.unpaired == {"no agreed judge verdict": 1}  # p1: its only verdict was vetoed
    figures = reward.figures(scored)
    assert figures["judge_role"] == {"role": "veto", "ties_broken": 0, "vetoed": 1}
    assert figures["judge"]["judge"]["vetoed"] == 1
    assert "verdicts vetoed: 1" in reward.describe(scored)


def test_combined_tie_break_orders_only_what_the_tests_tie(judge_dir):
    reward = rewards.build("combined", combined_params(judge_dir, "tie_break", mode="pointwise", require="ok$"))
    reward.attach_engines(EngineHandle(LocalEngines(ScriptedEngine())))
    results = reward.score_safely(items_for({"p": ["red ok", "red", "blue"]}))
    # "red ok" passes the regex; "red" and "blue" fail and tie at 0: the judge orders them (9 > 3),
    # and its whole range adds less than the regex's gap, so "red" (judged 9) stays below "red ok"
    assert [r.score for r in results] == pytest.approx([1 + 0.01 * 8 / 9, 0.01 * 8 / 9, 0.01 * 2 / 9])
    assert results[1].details["judge_role"] == {"role": "tie_break", "vetoed": 0, "ties_broken": 1}
    assert reward.figures([Scored_(item, r) for item, r in zip(items_for({"p": ["a", "b", "c"]}), results)])[
        "judge_role"] == {"role": "tie_break", "ties_broken": 1, "vetoed": 0}


def test_card_and_version_json_show_the_judge_figures(tmp_path, judge_dir):
    from conftest import pipeline_dict, write_jsonl
    from prefgen.config import PipelineConfig
    from prefgen.pipeline import PipelineRun

    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": p} for p in ("p1", "p2", "p3", "p4")])
    answers = {"p1": ["red", "blue"], "p2": ["green", "gray"], "p3": ["pink", "teal"], "p4": ["gold", "jade"]}
    replay = write_jsonl(tmp_path / "c.jsonl", [{"prompt": p, "text": t} for p, ts in answers.items() for t in ts])
    config = pipeline_dict(tmp_path, "unused", source, runtime="local",
                           generate={"strategy": "replay", "replay_path": str(replay)}, pairing={"strategy": "judge"})
    config["reward"] = {"name": "judge", "model": judge_dir, "mode": "pairwise", "retries": 1}
    config = PipelineConfig.model_validate(config)
    summary = PipelineRun(config, runtime=ScriptedRuntime()).run()
    assert summary.counts["pairs"] == 1 and summary.counts["unscorable"] == 4  # the flip's and failure's
    version = summary.run_dir / "latest"
    figures = json.loads((version / "version.json").read_text())["reward_figures"]["judge"]
    assert figures["judgements"] == 4 and figures["verdicts"] == {"failed": 1, "flip": 1, "tie": 1, "win": 1}
    assert figures["position_flip_rate"] == round(1 / 3, 4) and figures["tie_rate"] == 0.25
    assert figures["failed"] == 1 and figures["retries"] == 2  # the garbage comparison's two orders, once each
    assert figures["reply_tokens"] > 0 and figures["engine_seconds"] >= 0
    card = (version / "README.md").read_text()
    assert "## Judge" in card and "| position-flip rate (orders disagree) | 33.3% |" in card
    assert "| failed (no readable verdict after retries: null, not 0) | 1 |" in card
