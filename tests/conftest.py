"""Shared fixtures: a tiny local Llama, one Ray runtime and one vLLM engine per test session."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Built models and indexes are cached between sessions under .pytest_cache (empty on a fresh clone).
os.environ.setdefault("PREFGEN_CACHE_DIR", str(ROOT / ".pytest_cache" / "prefgen-cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TINY_TEXTS = [
    f"The {animal} number {i} runs over the {place} while the {other} sleeps quietly."
    for i, (animal, place, other) in enumerate(
        [("fox", "hill", "dog"), ("cat", "field", "owl"), ("horse", "bridge", "cow")] * 60
    )
]


@pytest.fixture(autouse=True)
def fast_tests_start_neither_vllm_nor_ray(request, monkeypatch):
    """A test not marked slow fails if it starts Ray or a vLLM engine (`make test-fast` stays fast)."""
    if request.node.get_closest_marker("slow"):
        return

    def forbidden(*args, **kwargs):
        pytest.fail(f"{request.node.name} starts Ray or vLLM: mark it @pytest.mark.slow or use runtime: local")

    for fixture in ("ray_runtime", "loop_run"):  # tiny_model only builds a model: fine
        if fixture in request.fixturenames:
            forbidden()
    monkeypatch.setattr("prefgen.executors.ray_runtime.ensure_ray", forbidden)
    monkeypatch.setattr("prefgen.executors.local_runtime.LocalRuntime.engines", forbidden)
    monkeypatch.setattr("prefgen.executors.engine_pool.get_pool", forbidden)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer Llama (head_dim 64) with a BPE tokenizer trained here."""
    from prefgen.demo.tiny_model import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), TINY_TEXTS, vocab_size=512)


@pytest.fixture(scope="session")
def ray_runtime():
    """Ray, started once for the session (2 CPUs, as on CI)."""
    from prefgen.config import RayConfig
    from prefgen.executors.ray_runtime import ensure_ray, shutdown_ray

    ensure_ray(RayConfig(num_cpus=2))
    yield
    shutdown_ray()


FOX_PROMPTS = [{"prompt": f"The fox number {i} runs over the"} for i in range(24)]
# vLLM on CPU needs this share of RAM to cover the process itself (~0.8 GiB) plus a small KV cache
SMALL_ENGINE = {"gpu_memory_utilization": 0.15}


def fox_config(tmp_path: Path, model: Path, engine: dict | None = None) -> dict:
    """24 prompts (3 shards of 8) on ``model`` with a small engine; the run directory is ``tmp_path/out/test``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = pipeline_dict(tmp_path, model, write_jsonl(tmp_path / "p.jsonl", FOX_PROMPTS))
    config["model"]["engine"] = dict(engine or SMALL_ENGINE)
    return config


@pytest.fixture(scope="session")
def fox_reference(tmp_path_factory, tiny_model, ray_runtime) -> str:
    """The published fingerprint of an undisturbed run of :func:`fox_config`, made once in this
    process: the cluster and engine-healing tests compare their runs with it (the fingerprint is
    the rows', so where a run writes or how many engines it has does not enter it)."""
    from prefgen.config import PipelineConfig
    from prefgen.pipeline import PipelineRun

    from prefgen.executors.engine_pool import release_all_pools

    config = fox_config(tmp_path_factory.mktemp("fox-reference"), tiny_model)
    fingerprint = PipelineRun(PipelineConfig.model_validate(config)).run().fingerprint
    release_all_pools()  # its engine's memory back before the runs that compare with it start theirs
    return fingerprint


def loop_config(tmp_path: Path, model: Path):
    """A ``rounds: 1`` pipeline on the tiny model: 24 prompts, 30% held out, a short DPO stage."""
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"The fox number {i} runs over the"} for i in range(24)])
    return make_config(
        tmp_path, model, source,
        prompts={"heldout_fraction": 0.3},
        rounds=1,
        dpo={"learning_rate": 1e-3, "epochs": 1, "batch_size": 4, "max_length": 128},
    )


@pytest.fixture(scope="session")
def loop_run(tmp_path_factory, tiny_model, ray_runtime):
    """A real one-round loop (sample, pair, DPO, sample again), run once per session.

    Returns (config, summary, root directory). Shared by the loop's tests and the notebook's.
    """
    from prefgen.rounds import TrainingLoop

    tmp_path = tmp_path_factory.mktemp("loop")
    config = loop_config(tmp_path, tiny_model)
    summary = TrainingLoop(config).run()
    return config, summary, tmp_path / "out" / "test"


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)
    return path


def pipeline_dict(tmp_path: Path, model: Path | str, source: Path | str, **sections: Any) -> dict[str, Any]:
    """A pipeline config as the YAML would give it; sections override the defaults."""
    config = {
        "name": "test",
        "model": {"path": str(model), "max_model_len": 512},
        "prompts": {"source": str(source)},
        "generate": {"n": 4, "max_tokens": 24, "temperature": 1.0, "shard_size": 8, "seed": 0},
        "reward": {"name": "length", "target_chars": 40},
        "pairing": {"strategy": "best_worst", "min_margin": 0.05},
        "output": {"dir": str(tmp_path / "out")},
        "ray": {"num_cpus": 2},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    generate = config["generate"]
    if "replay" in (generate.get("backend"), generate.get("strategy")):
        # replay takes only its own key: the sampling defaults above are not its settings
        config["generate"] = {k: v for k, v in generate.items() if k in ("backend", "strategy", "replay_path", "shard_size")}
    return config


def make_config(tmp_path: Path, model, source, **sections):
    from prefgen.config import PipelineConfig

    return PipelineConfig.model_validate(pipeline_dict(tmp_path, model, source, **sections))
