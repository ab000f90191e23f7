"""The shipped refusal-awareness pipeline end to end through the CLI on vLLM: one round on the
tiny model with 20 questions of our own (sample, judge, pair, R-Tuning records, DPO, sample
again, the method's metrics per policy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT, write_jsonl
from prefgen.cli import app
from prefgen.methods.refusal.loop_eval import REPORTED

pytestmark = pytest.mark.slow

# The tiny model writes runs of numbers and these words: questions accepting any of them are
# answered right ("known"), those wanting "zebra" never are ("unknown"); four have no answer.
WORDS = ["fox", "cat", "horse", "hill", "field", "bridge", "dog", "owl", "cow", "number", "runs", "over",
         "while", "sleeps", "quietly", *(str(i) for i in range(200))]


def _questions() -> list[dict]:
    rows = []
    for i in range(8):
        split = "heldout" if i < 3 else "train"
        rows.append({"question": f"Which animal is number {i}?", "answers": WORDS, "split": split})
        rows.append({"question": f"Which striped animal is number {i}?", "answers": ["zebra"], "split": split})
    for i in range(4):
        rows.append({"question": f"What colour is the number {i}?", "answers": [], "answerable": False,
                     "split": "heldout" if i < 2 else "train"})
    return rows


def _pipeline(tmp_path: Path, model: Path) -> Path:
    """The shipped YAML with the tiny model, these questions and a small DPO stage."""
    config = yaml.safe_load((ROOT / "pipelines" / "refusal_awareness.yaml").read_text())
    config["model"]["path"] = str(model)
    config["prompts"] = {"source": "builtin:qa", "options": {"path": str(write_jsonl(tmp_path / "qa.jsonl", _questions()))}}
    config["generate"].update(n=4, shard_size=8)
    # 5 known train questions: at the YAML's cap (0.45) only 4 of the 7 refusal pairs would stay
    config["pairing"]["max_refusal_share"] = 0.5
    config["dpo"].update(epochs=1, batch_size=4, learning_rate=1e-3, max_length=128)
    config["output"] = {"dir": str(tmp_path / "out")}
    config["ray"] = {"num_cpus": 2}
    path = tmp_path / "refusal.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_refusal_pipeline_one_round_through_the_cli(tmp_path, tiny_model, ray_runtime):
    from datasets import load_from_disk

    result = CliRunner().invoke(app, ["run", str(_pipeline(tmp_path, tiny_model)), "--quiet"])
    assert result.exit_code == 0, result.output
    root = tmp_path / "out" / "refusal_awareness"

    latest = root / "rounds" / "round_0" / "latest"
    pairs = load_from_disk(str(latest / "pairs"))
    types = {json.loads(d)["pair_type"] if isinstance(d, str) else d["pair_type"] for d in pairs["details"]}
    assert len(pairs) > 0 and types <= {"answer_over_refusal", "refusal_over_wrong", "refusal_over_answer"}
    assert "refusal_over_wrong" in types  # "zebra" is never said: a refusal over the policy's answer
    records = load_from_disk(str(latest / "r_tuning"))
    assert len(records) > 0 and set(records["knowledge"]) <= {"known", "unknown", "unanswerable"}
    assert {"padding", "replacement"} >= set(records["variant"])

    metrics = [json.loads(line) for line in (root / "metrics.jsonl").read_text().splitlines()]
    assert [m["round"] for m in metrics] == [0, 1]
    for m in metrics:
        assert set(m["method"]) == set(REPORTED)
        # the buckets are policy 0's, the same for both policies: 3 + 3 answerable, 2 unanswerable
        assert m["method"]["questions_unanswerable"] == 2
        assert m["method"]["questions_known"] + m["method"]["questions_unknown"] <= 6
        assert m["method"]["hallucination_rate_unanswerable"] is not None
    first = metrics[0]["method"]
    assert first["accuracy_answered"] > 0  # some words were said: AP is defined, from the engines
    assert 0 < first["ap"] <= 1
    card = (root / "README.md").read_text()
    assert "## The method's held-out metrics by round" in card and "| hallucination_rate_unknown |" in card
    assert (root / "method_metrics.png").stat().st_size > 0
