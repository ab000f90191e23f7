"""A pool of vLLM engines as Ray actors, reused for as long as the process lives, and healed.

Pools are cached by model fingerprint and engine settings, so several runs in one process (the
rounds of a training loop, or a test session) start each engine once. Work is handed out with at
most two shards queued per engine, so an engine never waits for the driver between shards.

Healing: an engine that dies (killed, out of memory, its node lost) is replaced by a new actor and
the shards it held are queued again. Every request is seeded, so a re-run shard yields the same
samples and the run publishes the same dataset. Starting an engine is tried a bounded number of
times, each bounded in time; then the run fails with the engine's own error.
"""

from __future__ import annotations

import logging
import os
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prefgen.config import ModelConfig
from prefgen.faults import crash_point
from prefgen.generation.vllm_engine import VLLMGenerator
from prefgen.hashing import content_hash

log = logging.getLogger(__name__)

_POOLS: dict[str, EnginePool] = {}
_QUEUED_PER_ENGINE = 2
START_TRIES = 2  # an engine that fails to start twice fails the run: its error is not transient
START_TIMEOUT_S = 900.0  # a start that hangs (e.g. memory exhausted) fails instead of waiting forever
MAX_REPLACEMENTS = 4  # engine deaths a pool survives; beyond that the run fails (something is wrong)


class EngineStartError(RuntimeError):
    """An engine could not start after the allowed tries; the message carries the engine's error."""


class EngineActor(VLLMGenerator):
    """The engine as it runs inside a Ray actor: it can say where it runs."""

    def placement(self) -> dict[str, Any]:
        """This actor's Ray node id and process id."""
        import ray

        return {"node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}

    def generate(self, requests):
        results = super().generate(requests)
        crash_point("engine_generate")  # tests: die holding a computed, unreturned shard
        return results


@dataclass
class EngineSpec:
    """What it takes to start one engine: the actor class with its options, and its arguments."""

    actor_class: Any
    args: tuple

    def start(self, count: int = 1) -> list[tuple[Any, dict[str, Any]]]:
        """Start ``count`` engines at once, retrying failed ones up to ``START_TRIES`` times in all.

        Returns (actor, placement) pairs; raises EngineStartError with the engine's own error.
        """
        import ray

        started: list[tuple[Any, dict[str, Any]]] = []
        error: Exception | None = None
        for attempt in range(1, START_TRIES + 1):
            actors = [self.actor_class.remote(*self.args) for _ in range(count - len(started))]
            crash_point("engine_start")
            for actor in actors:  # they load in parallel; waiting in turn costs nothing
                try:
                    started.append((actor, _wait_ready(actor)))
                except Exception as exc:  # noqa: BLE001 - any start failure (its own error, a timeout) is a try
                    ray.kill(actor)
                    error = exc
                    log.warning("engine start %d/%d failed: %s", attempt, START_TRIES, engine_error(exc))
            if len(started) == count:
                return started
        for actor, _ in started:
            ray.kill(actor)
        raise EngineStartError(f"vLLM engine failed to start after {START_TRIES} tries: {engine_error(error)}")


def _wait_ready(actor: Any) -> dict[str, Any]:
    import ray

    try:
        return ray.get(actor.placement.remote(), timeout=START_TIMEOUT_S)
    except ray.exceptions.GetTimeoutError:
        raise TimeoutError(f"engine not ready after {START_TIMEOUT_S:.0f} s") from None


def engine_error(exc: Exception | None) -> str:
    """The engine's own error from a Ray actor failure: its last ``SomeError: message`` line."""
    text = str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    own = [line for line in lines if line.split(":", 1)[0].endswith(("Error", "Exception"))]
    return (own[-1] if own else (lines[-1] if lines else repr(exc)))[:2000]


class EnginePool:
    """Ray actors each holding a vLLM engine; dead ones are replaced while work goes on."""

    def __init__(self, spec: EngineSpec, count: int, fingerprint: str = ""):
        self.spec = spec
        self.fingerprint = fingerprint  # the model's: a model-backed reward of the same model shares the pool
        self._turn = 0  # single-batch calls (one per scoring shard) start at the next engine in turn
        self.actors: list[Any] = []
        self.placements: list[dict[str, Any]] = []
        self.replacements = 0
        for actor, where in spec.start(count):
            self.actors.append(actor)
            self.placements.append(where)
        log.info("engines per node: %s", self.layout())

    def kill(self) -> None:
        """Kill every engine actor of the pool."""
        import ray

        for actor in self.actors:
            ray.kill(actor)

    def layout(self) -> dict[str, int]:
        """Number of engines on each node (node ids shortened to 12 hex digits)."""
        return dict(sorted(Counter(p["node_id"][:12] for p in self.placements).items()))

    def map_unordered(self, batches: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Run ``generate`` on every batch; yield ``(batch index, result)`` as each finishes.

        A batch whose engine died is queued again (on the replacement or another engine).
        """
        import ray

        queue = deque(range(len(batches)))
        pending: dict[Any, tuple[int, int, Any]] = {}  # ref -> (batch, engine slot, actor)
        load = [0] * len(self.actors)
        while queue or pending:
            while queue and min(load) < _QUEUED_PER_ENGINE:
                slot = min(range(len(load)), key=lambda s: (load[s], (s - self._turn) % len(load)))
                self._turn += 1
                index = queue.popleft()
                pending[self.actors[slot].generate.remote(batches[index])] = (index, slot, self.actors[slot])
                load[slot] += 1
            done, _ = ray.wait(list(pending), num_returns=1)
            index, slot, actor = pending.pop(done[0])
            load[slot] -= 1
            try:
                result = ray.get(done[0])
            except ray.exceptions.RayActorError as exc:
                self._replace(slot, actor, exc)
                queue.appendleft(index)
                continue
            yield index, result

    def _replace(self, slot: int, dead: Any, exc: Exception) -> None:
        """Start a new engine in ``slot`` unless that was done already for this dead actor."""
        if self.actors[slot] is not dead:
            return  # another of its shards already triggered the replacement
        self.replacements += 1
        if self.replacements > MAX_REPLACEMENTS:
            raise RuntimeError(f"vLLM engines died {self.replacements} times; last: {engine_error(exc)}")
        log.warning(
            "engine %d on node %s (pid %s) died: %s; replacing it and re-queueing its shards",
            slot, self.placements[slot]["node_id"][:12], self.placements[slot]["pid"], engine_error(exc),
        )
        self.actors[slot], self.placements[slot] = self.spec.start()[0]
        log.info("engine %d replaced: node %s, pid %s; engines per node: %s", slot,
                 self.placements[slot]["node_id"][:12], self.placements[slot]["pid"], self.layout())


def get_pool(model_path: str, fingerprint: str, model: ModelConfig, use_gpus: bool) -> EnginePool:
    """The pool for this model and engine config, started on first use."""
    import ray

    engine = model.engine.model_dump()
    key = content_hash([fingerprint, engine, model.max_model_len, model.chat_template])
    if key in _POOLS:
        return _POOLS[key]
    release_all_pools()  # one model's engines at a time: memory is the scarce resource
    _check_cpus(model.engine.num_engines)
    # SPREAD: on a cluster, engines go to different nodes before doubling up on one
    options: dict[str, Any] = {"num_cpus": 1, "scheduling_strategy": "SPREAD"}
    if use_gpus:
        options["num_gpus"] = model.engine.tensor_parallel_size
    spec = EngineSpec(
        actor_class=ray.remote(EngineActor).options(**options),
        args=(model_path, model.max_model_len, engine, model.chat_template),
    )
    _POOLS[key] = EnginePool(spec, model.engine.num_engines, fingerprint)
    log.info("started %d vLLM engine(s) for %s", model.engine.num_engines, model_path)
    return _POOLS[key]


def _check_cpus(num_engines: int) -> None:
    """Fail now, not hang: engines that take every CPU of the cluster leave scoring none."""
    import ray

    from prefgen.config import ConfigError
    from prefgen.preflight import engine_cpu_problem

    problem = engine_cpu_problem(num_engines, ray.cluster_resources().get("CPU", 0))
    if problem:
        raise ConfigError("preflight", [problem])


def live_pool(fingerprint: str) -> EnginePool | None:
    """The running pool serving the model with this fingerprint, if any."""
    return next((pool for pool in _POOLS.values() if pool.fingerprint == fingerprint), None)


def release_all_pools() -> None:
    """Kill every cached engine actor (frees its memory)."""
    for pool in _POOLS.values():
        pool.kill()
    _POOLS.clear()
