"""The in-process runtime (``runtime: local``): one vLLM engine and scoring in this process.

For debugging (breakpoints and tracebacks where the work happens) and small jobs. Results are the
same as with Ray: the same requests reach the same engine code, the same rows the same reward.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from prefgen.config import ModelConfig
from prefgen.executors.engine_scoring import EngineScoringJobs, needs_engines
from prefgen.executors.runtime import Runtime, map_in_order
from prefgen.executors.scoring import score_rows
from prefgen.hashing import content_hash


class LocalScoringJobs:
    """Scores each job when it is submitted; ``finished`` hands the results back."""

    def __init__(self, reward_name: str, reward_params: dict[str, Any]):
        self._name, self._params = reward_name, reward_params
        self._done: list[tuple[Any, list[dict]]] = []

    def submit(self, key: Any, prompts: list[dict], candidates: list[dict]) -> None:
        self._done.append((key, score_rows(self._name, self._params, prompts, candidates)))

    def finished(self, wait: bool = False) -> Iterator[tuple[Any, list[dict]]]:
        while self._done:
            yield self._done.pop(0)


class LocalEngines:
    """One in-process engine; batches run one after another."""

    def __init__(self, engine: Any):
        self.engine = engine

    def map_unordered(self, batches: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        return map_in_order(self.engine, batches)


class LocalRuntime(Runtime):

    def __init__(self) -> None:
        self._engines: dict[str, LocalEngines] = {}
        self._fingerprints: dict[str, str] = {}  # engines key -> model fingerprint

    def scoring_jobs(self, reward_name: str, reward_params: dict[str, Any]) -> LocalScoringJobs | EngineScoringJobs:
        if needs_engines(reward_name, reward_params):  # a judge or reward model: scored on the engine
            return EngineScoringJobs(self, reward_name, reward_params)
        return LocalScoringJobs(reward_name, reward_params)

    def engines(self, model_path: str, fingerprint: str, model: ModelConfig) -> LocalEngines:
        from prefgen.generation.vllm_engine import VLLMGenerator

        settings = model.engine.model_dump()
        key = content_hash([fingerprint, settings, model.max_model_len, model.chat_template])
        if key not in self._engines:
            self.release_engines()  # one model's engine at a time: memory is the scarce resource
            engine = VLLMGenerator(model_path, model.max_model_len, settings, model.chat_template)
            self._engines[key] = LocalEngines(engine)
            self._fingerprints[key] = fingerprint
        return self._engines[key]

    def live_engines(self, fingerprint: str) -> LocalEngines | None:
        return next((e for k, e in self._engines.items() if self._fingerprints.get(k) == fingerprint), None)

    def release_engines(self) -> None:
        import gc

        self._engines.clear()
        gc.collect()

    def shutdown(self) -> None:
        self.release_engines()
