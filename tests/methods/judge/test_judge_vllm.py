"""The judge on real vLLM engines, with a tiny model trained to reply as scripted
(judge_scripted.PAIRWISE): both orders judged, a consistent win paired with its label confidence,
a position flip, a tie, and garbage retried then null (never 0); with ``runtime: local`` and on
Ray, the judge's own engine started for scoring and released after it.

A judge engine that dies is replaced by the engine pool the judge shares with generation
(``EnginePool.map_unordered``); that healing is tested once, in tests/core/test_engine_healing.py."""

from __future__ import annotations

import json

import pytest
from judge_scripted import PAIRWISE, RUBRIC, build_scripted_judge

from prefgen.registry import pairing_strategies, rewards

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def judge_registered(monkeypatch):
    monkeypatch.setitem(rewards.core, "judge", "prefgen.methods.judge.reward:JudgeReward")
    monkeypatch.setitem(pairing_strategies.core, "judge", "prefgen.methods.judge.pairing:JudgePairing")


@pytest.fixture(scope="session")
def scripted_judge() -> str:
    """The scripted judge, trained once and cached (like the demo policies)."""
    from prefgen.demo.training import METADATA_FILE, cached_model_dir

    def train(out):
        build_scripted_judge(out)
        (out / METADATA_FILE).write_text(json.dumps({"script": sorted(map(list, PAIRWISE))}))

    return str(cached_model_dir("test-scripted-judge-v1", train))


def judge_config(tmp_path, judge_dir, runtime):
    from prefgen.config import PipelineConfig

    return PipelineConfig.model_validate(judge_dict(tmp_path, judge_dir, runtime))


def judge_dict(tmp_path, judge_dir, runtime) -> dict:
    """The judge pipeline as the YAML gives it: 4 prompts of 2 replayed answers each."""
    from conftest import pipeline_dict, write_jsonl

    tmp_path.mkdir(parents=True, exist_ok=True)
    answers = {"p1": ["red", "blue"], "p2": ["green", "gray"], "p3": ["pink", "teal"], "p4": ["gold", "jade"]}
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": p} for p in answers])
    replay = write_jsonl(tmp_path / "c.jsonl", [{"prompt": p, "text": t} for p, ts in answers.items() for t in ts])
    config = pipeline_dict(tmp_path, "unused", source, runtime=runtime, name=f"judge-{runtime}",
                           generate={"strategy": "replay", "replay_path": str(replay)}, pairing={"strategy": "judge"})
    config["reward"] = {"name": "judge", "model": judge_dir, "mode": "pairwise", "rubric": RUBRIC, "retries": 2,
                        "max_tokens": 12, "retry_temperature": 0.05, "max_model_len": 256,
                        "engine": {"gpu_memory_utilization": 0.15}}  # a small KV cache on a shared machine
    return config


def check_published(summary):
    from datasets import load_from_disk

    version = summary.run_dir / "latest"
    pairs = load_from_disk(str(version / "pairs")).to_list()
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [("red", "blue")]  # the one both orders agree on
    assert json.loads(pairs[0]["details"])["label_confidence"] == 1.0
    candidates = {c["text"]: c for c in load_from_disk(str(version / "candidates")).to_list()}
    verdicts = {t: json.loads(c["details"])["judge"]["comparisons"][0] for t, c in candidates.items()}
    assert {t: v["verdict"] for t, v in verdicts.items()} == {
        "red": "win", "blue": "loss", "green": "flip", "gray": "flip", "pink": "tie", "teal": "tie",
        "gold": "failed", "jade": "failed"}
    assert verdicts["green"]["orders"] == ["x", "y"]  # [[A]] both times: the position won, not the answer
    assert verdicts["gold"]["attempts"] == 6  # both orders, each 1 + 2 retries
    for text in ("gold", "jade", "green", "gray"):  # failures and flips are null, never 0
        assert candidates[text]["score"] is None and candidates[text]["reason"].startswith("judge: no agreed")
    assert candidates["pink"]["score"] == 0.5 and candidates["red"]["score"] == 1.0
    figures = json.loads((version / "version.json").read_text())["reward_figures"]["judge"]
    assert figures["verdicts"] == {"failed": 1, "flip": 1, "tie": 1, "win": 1} and figures["retries"] == 4
    assert figures["reply_tokens"] > 0 and figures["engine_seconds"] > 0
    assert "## Judge" in (version / "README.md").read_text()


def test_judge_on_vllm_with_runtime_local(tmp_path, scripted_judge):
    from prefgen.executors.local_runtime import LocalRuntime
    from prefgen.generation.model_ref import resolve_model
    from prefgen.pipeline import PipelineRun

    runtime = LocalRuntime()
    summary = PipelineRun(judge_config(tmp_path, scripted_judge, "local"), runtime=runtime).run()
    check_published(summary)
    assert runtime.live_engines(resolve_model(scripted_judge).fingerprint) is None  # released when scoring ended


def test_judge_on_vllm_on_ray(tmp_path, scripted_judge, ray_runtime):
    from prefgen.executors.engine_pool import live_pool
    from prefgen.generation.model_ref import resolve_model
    from prefgen.pipeline import PipelineRun

    summary = PipelineRun(judge_config(tmp_path, scripted_judge, "ray")).run()
    check_published(summary)
    assert live_pool(resolve_model(scripted_judge).fingerprint) is None  # its engine actor was released
