"""target_pairs end to end with vLLM on the tiny model: reached, not reachable within its budget,
and a rerun that samples nothing. The runs share the session's Ray and engine.

A run killed while re-sampling resumes to the same dataset: tested through `prefgen run` with
the replay strategy in test_target_pairs.py; a SIGKILLed vLLM sampling run resuming to the same
samples is tested in test_refresh.py (each `prefgen run` process costs its own Ray and engine).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_from_disk
from typer.testing import CliRunner

from cli_process import write_config
from conftest import pipeline_dict, write_jsonl
from prefgen.cli import EXIT_TARGET_NOT_REACHED, app
from prefgen.config import PipelineConfig
from prefgen.pipeline import PipelineRun

pytestmark = pytest.mark.slow

PROMPTS = 8
# two short samples a prompt, and a margin that ties some of them: the first sampling leaves prompts unpaired
SECTIONS = {"generate": {"n": 2, "max_tokens": 12, "shard_size": 2}, "pairing": {"strategy": "best_worst", "min_margin": 0.2}}


def setup(tmp_path: Path, model: Path, target: dict | None) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"The cat number {i} runs over the"} for i in range(PROMPTS)])
    config = pipeline_dict(tmp_path, model, source, **SECTIONS)
    if target is not None:
        config["target_pairs"] = target
    return config


def published(run_dir: Path):
    latest = run_dir / "latest"
    pairs = load_from_disk(str(latest / "pairs")).to_list()
    return pairs, json.loads((latest / "version.json").read_text()), (latest / "README.md").read_text()


def test_target_reached_by_resampling_and_a_rerun_samples_nothing(tmp_path, tiny_model, ray_runtime):
    config = setup(tmp_path, tiny_model, None)
    first = PipelineRun(PipelineConfig.model_validate(config)).run()
    unpaired = first.counts["prompts_without_pair"]
    assert unpaired > 0, first.counts  # the premise: the first sampling leaves prompts to sample again

    wanted = first.counts["pairs"] + 1
    config["target_pairs"] = {"pairs": wanted, "max_rounds": 4}
    result = CliRunner().invoke(app, ["run", str(write_config(tmp_path / "target.yaml", config)), "--quiet"])
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "out" / "test"
    pairs, version, card = published(run_dir)
    target = version["target_pairs"]
    assert len(pairs) == wanted and target["reached"] and target["made"] == wanted
    assert target["rounds"] >= 1 and target["prompts_resampled"] >= unpaired  # round 1 takes every unpaired prompt
    assert target["samples"] == 2 * target["prompts_resampled"]
    assert version["counts"]["candidates"] == 2 * PROMPTS + target["samples"]
    candidates = load_from_disk(str(run_dir / "latest" / "candidates")).to_list()
    assert len({c["id"] for c in candidates}) == len(candidates)  # fresh samples, never round 0's again
    assert len({(c["prompt_id"], c["sample_index"]) for c in candidates}) == len(candidates)
    assert f"target reached: {wanted} of {wanted} pairs" in card
    assert f"| re-sampling rounds | {target['rounds']} |" in card and f"| re-sampling samples | {target['samples']} |" in card

    again = PipelineRun(PipelineConfig.model_validate(config)).run()
    assert again.status == "nothing_new" and again.fingerprint == version["fingerprint"]
    assert again.stage_work == {"generate": 0, "score": 0, "prompts_sampled": 0}


def test_target_out_of_budget_exits_5_and_publishes_what_was_made(tmp_path, tiny_model, ray_runtime):
    wanted = PROMPTS + 1  # best_worst makes one pair a prompt: out of reach whatever the budget
    config = setup(tmp_path, tiny_model, {"pairs": wanted, "max_rounds": 1})
    result = CliRunner().invoke(app, ["run", str(write_config(tmp_path / "short.yaml", config)), "--quiet"])
    assert result.exit_code == EXIT_TARGET_NOT_REACHED, result.output
    pairs, version, card = published(tmp_path / "out" / "test")
    target = version["target_pairs"]
    assert not target["reached"] and target["made"] == len(pairs) == version["counts"]["pairs"] < wanted
    assert target["stopped_by"] in ("max_rounds", "no unpaired prompt left")
    message = f"target not reached: {len(pairs)} of {wanted} pairs (stopped by {target['stopped_by']})"
    assert target["message"] == message and f"**{message}.**" in card
    assert f"target not reached: {len(pairs)} of {wanted} pairs" in result.output
