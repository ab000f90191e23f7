"""Several rewards in one run: weighted sums, a gate, null with the reason, the card's table."""

import json

import pytest
import yaml
from datasets import load_from_disk
from typer.testing import CliRunner

from conftest import pipeline_dict, write_jsonl
from prefgen.cli import app
from prefgen.config import ConfigError
from prefgen.preflight import load_config
from prefgen.records import Candidate, Prompt
from prefgen.registry import rewards

runner = CliRunner()
PROMPT = Prompt(id="p", prompt="q")
TEXTS = ["return x" + "!" * 10, "print(x)", "return it" + "." * 30, "nothing at all"]


def cand(i, text):
    return Candidate(id=f"c{i}", prompt_id="p", sample_index=i, text=text, num_tokens=len(text.split()), finish_reason="stop", model="m")


def scores(reward):
    return [r.score for r in rewards.build(reward["name"], {k: v for k, v in reward.items() if k != "name"}).score_safely(
        [(PROMPT, cand(i, t)) for i, t in enumerate(TEXTS)])]


def test_weighted_sum_of_components():
    combined = {"name": "combined", "components": [
        {"name": "regex", "require": ["return"], "weight": 1.0},
        {"name": "length", "target_chars": 20, "weight": 0.5},
    ]}
    regex = scores({"name": "regex", "require": ["return"]})
    length = scores({"name": "length", "target_chars": 20})
    assert scores(combined) == pytest.approx([r + 0.5 * n for r, n in zip(regex, length)])


def test_a_closed_gate_scores_zero_and_skips_the_others():
    reward = rewards.build("combined", {"components": [{"name": "regex", "require": ["return"]}, {"name": "length"}],
                                       "gate": {"component": "regex", "min": 1.0}})
    results = reward.score_safely([(PROMPT, cand(i, t)) for i, t in enumerate(TEXTS)])
    assert [r.score == 0.0 for r in results] == [False, True, False, True]
    assert results[1].details["gate"] == "closed" and "length" not in results[1].details["components"]
    assert results[0].details["components"]["length"]["score"] > 0


def test_a_component_that_cannot_score_makes_the_score_null_with_its_reason():
    reward = rewards.build("combined", {"components": [{"name": "length"}, {"name": "execution"}]})
    result = reward.score_safely([(PROMPT, cand(0, "x = 1"))])[0]
    assert result.score is None and result.reason.startswith("execution: ")
    assert result.details["components"]["length"]["score"] is not None


def test_bad_component_params_name_their_path(tmp_path):
    config = pipeline_dict(tmp_path, tmp_path, "hf:x", reward=[{"name": "length", "target_chars": -1}, {"name": "regx"}])
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = "\n".join(info.value.problems)
    assert "components.0.target_chars" in text and "Did you mean: regex?" in text


def run_replay(tmp_path, reward):
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"q{i}"} for i in range(4)])
    replay = write_jsonl(tmp_path / "c.jsonl", [{"prompt": f"q{i}", "text": t} for i in range(4) for t in TEXTS])
    config = pipeline_dict(tmp_path, "demo", source, runtime="local",
                           generate={"backend": "replay", "replay_path": str(replay)})
    config["reward"] = reward
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    return tmp_path / "out" / "test" / "latest"


def test_a_two_reward_weighted_pipeline_end_to_end(tmp_path):
    latest = run_replay(tmp_path, [{"name": "regex", "require": ["return"], "weight": 2.0},
                                   {"name": "length", "target_chars": 20, "weight": 1.0}])
    pairs = load_from_disk(str(latest / "pairs")).to_list()
    assert len(pairs) == 4 and all("return" in p["chosen"] and "return" not in p["rejected"] for p in pairs)
    details = json.loads(pairs[0]["details"])["chosen"]["components"]
    assert set(details) == {"regex", "length"} and details["regex"]["weight"] == 2.0
    card = (latest / "README.md").read_text()
    assert "## Reward components" in card and "| regex | 2 | 16 | 0 |" in card


def test_a_gated_pipeline_end_to_end(tmp_path):
    latest = run_replay(tmp_path, {"name": "combined", "gate": {"component": "regex", "min": 1.0},
                                   "components": [{"name": "regex", "require": ["return"]},
                                                  {"name": "length", "target_chars": 20}]})
    candidates = load_from_disk(str(latest / "candidates")).to_list()
    closed = [c for c in candidates if "return" not in c["text"]]
    assert closed and all(c["score"] == 0.0 and json.loads(c["details"])["gate"] == "closed" for c in closed)
    pairs = load_from_disk(str(latest / "pairs")).to_list()
    assert pairs and all("return" in p["chosen"] for p in pairs)
