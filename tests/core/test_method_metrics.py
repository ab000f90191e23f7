"""A reward's own held-out metrics reach a loop's metrics.jsonl, card and plot (no core change per method)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import make_config, write_jsonl
from prefgen.method_metrics import HeldoutRound, method_table
from prefgen.pipeline import RunSummary
from prefgen.records import Prompt, Scored
from prefgen.rewards.base import Reward, RewardResult
from prefgen.rewards.combined import CombinedReward
from prefgen.rounds import TrainingLoop


class ShoutReward(Reward):
    """Scores upper-case answers; its method metric is the share of shouted samples, and the change
    against policy 0's share (which needs policy 0's round)."""

    name = "shout"

    def score_batch(self, items):
        return [RewardResult(float(c.text.isupper()), {"shouted": c.text.isupper()}) for _, c in items]

    def loop_metrics(self, heldout: HeldoutRound):
        share = sum(s.details.get("shouted", False) for s in heldout.scored) / len(heldout.scored)
        first = heldout.first
        base = sum(s.details.get("shouted", False) for s in first.scored) / len(first.scored) if first else None
        return {"shout_rate": share, "shout_gain": None if base is None else share - base,
                "prompts": len(heldout.prompts)}


def _scored(texts: list[str], reward: Reward) -> list[Scored]:
    rows = []
    for i, text in enumerate(texts):
        prompt = Prompt(id=f"p{i % 2}", prompt="say", split="heldout")
        cand = {"id": f"c{i}", "prompt_id": prompt.id, "split": "heldout", "sample_index": i, "text": text}
        result = reward.score_safely([(prompt, _candidate(cand))])[0]
        rows.append(Scored(**cand, reward=reward.name, score=result.score, reason=result.reason, details=result.details))
    return rows


def _candidate(fields):
    from prefgen.records import Candidate

    return Candidate(**fields)


def _summary(tmp_path: Path, scored: list[Scored]) -> RunSummary:
    prompts = {p: Prompt(id=p, prompt="say", split="heldout") for p in ("p0", "p1")}
    per_prompt = {p: 0.5 for p in prompts}
    split = {"heldout": {"prompts": 2, "samples": len(scored), "mean_score": 0.5, "mean_tokens": 3.0, "per_prompt": per_prompt}}
    return RunSummary(status="published", run_dir=tmp_path, version="v0001", counts={"pairs": 3}, unpaired={},
                      scores={}, seconds=0.0, split_metrics=split, heldout_prompts=prompts, heldout_scored=scored)


def test_loop_writes_a_rewards_method_metrics_to_jsonl_card_and_plot(tmp_path):
    config = make_config(tmp_path, str(tmp_path), write_jsonl(tmp_path / "p.jsonl", ["x"]), rounds=1)
    loop = TrainingLoop(config)
    loop.root.prepare()
    loop.reward, loop.runtime = ShoutReward(), None
    metrics = []
    for k, texts in enumerate([["no", "NO", "no", "no"], ["YES", "NO", "no", "OK"]]):
        metrics.append(loop._measure(k, f"policy-{k}", _summary(tmp_path, _scored(texts, loop.reward)), metrics))
        loop._write_metrics(metrics)

    lines = [json.loads(line) for line in (loop.root.root / "metrics.jsonl").read_text().splitlines()]
    assert [m["method"]["shout_rate"] for m in lines] == [0.25, 0.75]
    assert lines[0]["method"]["shout_gain"] is None and lines[1]["method"]["shout_gain"] == 0.5
    assert all(not key.startswith("_") for m in lines for key in m)  # held-out rows stay in memory
    card = (loop.root.root / "README.md").read_text()
    assert "| shout_rate | 0.250 | 0.750 |" in card and "| shout_gain | — | 0.500 |" in card
    assert "| prompts | 2 | 2 |" in card and "![method metrics](method_metrics.png)" in card
    assert (loop.root.root / "method_metrics.png").read_bytes().startswith(b"\x89PNG")


def test_a_reward_without_method_metrics_leaves_card_and_directory_as_before(tmp_path):
    config = make_config(tmp_path, str(tmp_path), write_jsonl(tmp_path / "p.jsonl", ["x"]), rounds=1)
    loop = TrainingLoop(config)
    loop.root.prepare()
    loop.reward, loop.runtime = Reward(), None
    metrics = [loop._measure(0, "policy-0", _summary(tmp_path, _scored(["a", "B"], ShoutReward())), [])]
    loop._write_metrics(metrics)
    assert json.loads((loop.root.root / "metrics.jsonl").read_text())["method"] == {}
    assert "method's held-out metrics" not in (loop.root.root / "README.md").read_text()
    assert not (loop.root.root / "method_metrics.png").exists()
    assert method_table([{"round": 0, "method": {}}]) == ""


def test_combined_reward_reports_each_components_metrics_on_its_own_details(monkeypatch):
    from prefgen.registry import rewards

    monkeypatch.setitem(rewards.core, "shout", f"{__name__}:ShoutReward")
    combined = CombinedReward(components=[{"name": "shout"}, {"name": "length", "target_chars": 3, "weight": 0.5}])
    scored = _scored(["YES", "no", "NO", "maybe"], combined)
    assert "shouted" not in scored[0].details  # the component's details sit under components
    first = HeldoutRound(round=0, policy="p0", prompts={"p0": None, "p1": None}, scored=_scored(["no", "no"], combined))
    metrics = combined.loop_metrics(HeldoutRound(round=1, policy="p1", prompts={"p0": None}, scored=scored, first=first))
    assert metrics == {"shout.shout_rate": 0.5, "shout.shout_gain": 0.5, "shout.prompts": 1}


def test_gain_against_policy_0_is_absolute_when_its_score_is_not_positive(tmp_path):
    """Rewards with negative scores (refusal: -1 for a wrong answer) made a ratio of nonsense."""
    from prefgen.rounds import gain_text

    config = make_config(tmp_path, str(tmp_path), write_jsonl(tmp_path / "p.jsonl", ["x"]), rounds=1)
    loop = TrainingLoop(config)
    loop.reward, loop.runtime = Reward(), None
    metrics = []
    for k, mean in enumerate([-0.41, 0.12]):
        summary = _summary(tmp_path, _scored(["a", "B"], ShoutReward()))
        summary.split_metrics["heldout"]["mean_score"] = mean
        metrics.append(loop._measure(k, f"policy-{k}", summary, metrics))
    assert metrics[1]["relative_gain"] is None and abs(metrics[1]["score_change"] - 0.53) < 1e-9
    assert gain_text(metrics[1]) == "+0.5300 (absolute)"
    assert gain_text({"relative_gain": 0.25, "score_change": 0.1}) == "+25.0%"
    assert "| +0.5300 (absolute) |" in loop._table(metrics)
