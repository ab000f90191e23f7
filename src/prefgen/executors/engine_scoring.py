"""Scoring with a reward that is a model (an LLM judge, a reward model), on an engine pool.

Such a reward declares its model (:meth:`prefgen.rewards.Reward.engine_model`). Its scoring runs
in the driver, not in CPU scoring tasks: the work is the engine's, and the reward only formats
requests and reads replies. Each shard's :meth:`~prefgen.rewards.Reward.score_batch` sends one
engine job (an object with ``run_on_engine(generator)``, run inside the engine like a tree
expansion) through an :class:`EngineHandle`: one engine call per shard, never one per item.
Shards go to the pool's engines side by side (one thread per engine waiting on its job).

Scoring waits until generation ends (``finished(wait=True)``): the pool is then the policy's
own when the reward's model is the policy (same fingerprint), or the reward's own, started then
and released when scoring ends, so that two models never hold memory at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from prefgen.executors.scoring import scored_records

log = logging.getLogger(__name__)


class EngineHandle:
    """What a model-backed reward gets: ``run(job)`` runs one job on one engine of the pool."""

    def __init__(self, engines: Any, shared: bool = False):
        self.engines = engines  # anything with ``map_unordered(batches)`` (a Ray pool, a local engine)
        self.shared = shared  # the policy's pool: not released when scoring ends
        self.calls = 0

    @property
    def size(self) -> int:
        """Engines in the pool (jobs that can run side by side)."""
        return len(getattr(self.engines, "actors", [None]))

    def run(self, job: Any) -> Any:
        """Run ``job`` (``run_on_engine``) on an engine and return its result; healed like generation."""
        self.calls += 1
        for _, result in self.engines.map_unordered([job]):
            return result
        raise RuntimeError("the engine pool returned no result")


def reward_engines(runtime: Any, model_path: str, fingerprint: str, model: Any) -> EngineHandle:
    """The handle for a reward's model: the running pool if it serves this model (the policy's),
    else the reward's own engines, started by the runtime like the generation pool."""
    live = runtime.live_engines(fingerprint)
    if live is not None:
        return EngineHandle(live, shared=True)
    return EngineHandle(runtime.engines(model_path, fingerprint, model))


def needs_engines(reward_name: str, reward_params: dict[str, Any]) -> bool:
    """Whether the reward is a model that scores on engines (its model is declared)."""
    from prefgen.executors.scoring import reward_for

    return reward_for(reward_name, reward_params).engine_model() is not None


class EngineScoringJobs:
    """``ScoringJobs`` for a model-backed reward: shards queue while generation runs, then are
    scored on the engines, one engine call per shard."""

    def __init__(self, runtime: Any, reward_name: str, reward_params: dict[str, Any]):
        from prefgen.executors.scoring import reward_for

        self.runtime = runtime
        self.reward = reward_for(reward_name, reward_params)
        self._queued: list[tuple[Any, list[dict], list[dict]]] = []

    def submit(self, key: Any, prompts: list[dict], candidates: list[dict]) -> None:
        self._queued.append((key, prompts, candidates))

    def finished(self, wait: bool = False) -> Iterator[tuple[Any, list[dict]]]:
        """Nothing until ``wait``; then every queued shard, scored, as each finishes."""
        if not wait or not self._queued:
            return
        handle = self._attach()
        try:
            yield from self._score_all(handle)
        finally:
            if not handle.shared:
                self.runtime.release_engines()  # the reward's own engines: free their memory now

    def _attach(self) -> EngineHandle:
        from prefgen.generation.model_ref import resolve_model

        model = self.reward.engine_model()
        ref = resolve_model(model.path)
        handle = reward_engines(self.runtime, ref.path, ref.fingerprint, model)
        self.reward.attach_engines(handle)
        log.info("reward %s scores on %s (%s pool)", self.reward.name, model.path, "shared" if handle.shared else "own")
        return handle

    def _score_all(self, handle: EngineHandle) -> Iterator[tuple[Any, list[dict]]]:
        queued, self._queued = self._queued, []
        with ThreadPoolExecutor(max_workers=max(1, handle.size), thread_name_prefix="engine-scoring") as pool:
            futures = {pool.submit(self._score_shard, prompts, candidates): key for key, prompts, candidates in queued}
            for future in as_completed(futures):
                yield futures[future], future.result()

    def _score_shard(self, prompts: list[dict], candidates: list[dict]) -> list[dict]:
        from prefgen.records import Candidate, Prompt

        by_id = {row["id"]: Prompt.from_row(row) for row in prompts}
        items = [(by_id[c["prompt_id"]], Candidate.from_row(c)) for c in candidates]
        return [s.to_row() for s in scored_records(self.reward, items)]
