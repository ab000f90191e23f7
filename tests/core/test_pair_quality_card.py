"""The card and version.json report the pair set's biases: driven through the CLI as a user would."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import write_jsonl
from prefgen.cli import app

QUESTIONS = [f"What does function number {i} do?" for i in range(12)]


def run_replay(tmp_path: Path, answers: dict[int, list[str]], **reward) -> Path:
    """A replay pipeline (in-process runtime) over hand-written answers; returns latest/."""
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": q} for q in QUESTIONS])
    rows = [{"prompt": q, "sample_index": j, "text": text}
            for i, q in enumerate(QUESTIONS) for j, text in enumerate(answers[i])]
    replay = write_jsonl(tmp_path / "candidates.jsonl", rows)
    config = {
        "name": "bias", "model": {"path": "demo"}, "runtime": "local",
        "prompts": {"source": str(prompts)},
        "generate": {"strategy": "replay", "replay_path": str(replay)},
        "reward": {"name": "length", **reward},
        "pairing": {"strategy": "best_worst", "min_margin": 0.01},
        "output": {"dir": str(tmp_path / "out")},
    }
    path = tmp_path / "bias.yaml"
    path.write_text(json.dumps(config))
    result = CliRunner().invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    return tmp_path / "out" / "bias" / "latest"


def test_a_length_biased_pair_set_is_flagged_in_the_card_and_version(tmp_path):
    # a length reward with a far target: the longer answer always wins
    answers = {i: ["Short.", "A much longer answer that goes on and on about what the function does " * 2]
               for i in range(12)}
    latest = run_replay(tmp_path, answers, target_chars=2000)
    quality = json.loads((latest / "version.json").read_text())["pair_quality"]
    assert quality["pairs"] == 12 and quality["chosen_longer_share"] == 1.0
    card = (latest / "README.md").read_text()
    assert "## Pair quality" in card
    assert "**Warning** — length bias: the chosen response is longer in 100% of pairs" in card


def test_a_balanced_pair_set_has_no_warning(tmp_path):
    # target 40 characters: sometimes the longer answer is closer, sometimes the shorter one
    answers = {i: ["x" * (20 + i * 3) + " end.", "Another answer, " + "y" * (60 - i * 3)] for i in range(12)}
    latest = run_replay(tmp_path, answers, target_chars=40)
    quality = json.loads((latest / "version.json").read_text())["pair_quality"]
    assert 0.2 < quality["chosen_longer_share"] < 0.8, quality
    assert quality["warnings"] == []
    assert "**Warning**" not in (latest / "README.md").read_text()
