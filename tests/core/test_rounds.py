"""The closed loop on the tiny model: sample, pair, train with DPO, sample again, measure."""

import json

import pytest

from conftest import loop_config
from prefgen.pipeline import RunFailed
from prefgen.rounds import TrainingLoop

pytestmark = pytest.mark.slow


def test_one_round_trains_a_policy_vllm_loads_and_measures_it(loop_run):
    config, summary, root = loop_run
    metrics = [json.loads(line) for line in (root / "metrics.jsonl").read_text().splitlines()]
    assert [m["round"] for m in metrics] == [0, 1]
    assert metrics[1]["policy"] == str(root / "rounds" / "round_1" / "policy")
    assert metrics[0]["heldout_prompts"] == metrics[1]["heldout_prompts"] > 0
    assert {"relative_gain", "improved_share", "length_change"} <= set(metrics[1])
    # the trained policy generated: its samples differ from policy 0's on the same prompts
    assert metrics[1]["heldout_mean_score"] != metrics[0]["heldout_mean_score"]
    assert (root / "metrics.png").stat().st_size > 1000
    card = (root / "README.md").read_text()
    assert "| policy | held-out mean score |" in card and "| 1 |" in card
    assert (root / "rounds" / "round_0" / "latest" / "pairs").exists()
    assert summary.status == "published"

    again = TrainingLoop(config).run()  # everything is up to date: no sampling, no training
    assert again.status == "nothing_new"
    assert json.loads((root / "rounds" / "round_1" / "policy" / "prefgen_round.json").read_text())["pairs_version"] == "v0001"


def test_a_policy_vllm_cannot_load_fails_the_round_and_keeps_earlier_rounds(tmp_path, tiny_model, ray_runtime, monkeypatch):
    from prefgen.train import dpo

    def broken_training(pairs_dir, model_path, out_dir, settings, progress=None):
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text('{"model_type": "no-such-architecture"}')
        return type("Result", (), {"to_json": lambda self: {}})()

    monkeypatch.setattr(dpo, "train_dpo", broken_training)
    config = loop_config(tmp_path, tiny_model)
    with pytest.raises(RunFailed, match="round 1"):
        TrainingLoop(config).run()
    root = tmp_path / "out" / "test"
    assert (root / "rounds" / "round_0" / "latest" / "pairs").exists()
    assert len((root / "metrics.jsonl").read_text().splitlines()) == 1
