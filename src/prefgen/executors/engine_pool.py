"""A pool of vLLM engines as Ray actors, reused for as long as the process lives.

Pools are cached by model fingerprint and engine settings, so several runs in one process (the
rounds of a training loop, or a test session) start each engine once. Work is handed out with at
most two shards queued per engine, so an engine never waits for the driver between shards.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator, Sequence

from prefgen.config import ModelConfig
from prefgen.hashing import content_hash

log = logging.getLogger(__name__)

_POOLS: dict[str, "EnginePool"] = {}
_QUEUED_PER_ENGINE = 2


class EnginePool:
    """Ray actors each holding a ``VLLMGenerator``."""

    def __init__(self, actors: list[Any]):
        self.actors = actors

    def map_unordered(self, batches: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Run ``generate`` on every batch; yield ``(batch index, result)`` as each finishes."""
        import ray

        pending: dict[Any, tuple[int, int]] = {}
        load = [0] * len(self.actors)
        next_batch = 0
        while next_batch < len(batches) or pending:
            while next_batch < len(batches) and min(load) < _QUEUED_PER_ENGINE:
                engine = load.index(min(load))
                ref = self.actors[engine].generate.remote(batches[next_batch])
                pending[ref] = (next_batch, engine)
                load[engine] += 1
                next_batch += 1
            done, _ = ray.wait(list(pending), num_returns=1)
            index, engine = pending.pop(done[0])
            load[engine] -= 1
            yield index, ray.get(done[0])


def get_pool(model_path: str, fingerprint: str, model: ModelConfig, use_gpus: bool) -> EnginePool:
    """The pool for this model and engine config, started on first use."""
    import ray

    from prefgen.generation.vllm_engine import VLLMGenerator

    engine = model.engine.model_dump()
    key = content_hash([fingerprint, engine, model.max_model_len, model.chat_template])
    if key in _POOLS:
        return _POOLS[key]
    release_all_pools()  # one model's engines at a time: memory is the scarce resource
    if use_gpus:
        options = {"num_gpus": model.engine.tensor_parallel_size, "num_cpus": 1}
    else:
        options = {"num_cpus": 1}
    actor_class = ray.remote(VLLMGenerator).options(**options)
    actors = [
        actor_class.remote(model_path, model.max_model_len, engine, model.chat_template)
        for _ in range(model.engine.num_engines)
    ]
    from prefgen.faults import crash_point

    crash_point("engine_start")
    ray.get([actor.ready.remote() for actor in actors])  # surface start-up errors here
    _POOLS[key] = EnginePool(actors)
    log.info("started %d vLLM engine(s) for %s", len(actors), model_path)
    return _POOLS[key]


def release_all_pools() -> None:
    """Kill every cached engine actor (frees its memory)."""
    import ray

    for pool in _POOLS.values():
        for actor in pool.actors:
            ray.kill(actor)
    _POOLS.clear()
