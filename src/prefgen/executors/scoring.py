"""Scoring as Ray tasks on CPUs. Each worker keeps its reward instances, so a reward's setup
(loading an index) is paid once per worker process, not once per batch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from prefgen.hashing import canonical_json

log = logging.getLogger(__name__)
_REWARDS: dict[str, Any] = {}
_REWARDS_LOCK = threading.Lock()  # scoring threads of one process may ask for the same reward at once
TASK_RETRIES = 3  # a scoring task whose worker process dies (killed, node lost) runs again


def reward_for(name: str, params: dict[str, Any]):
    """This process's one reward object for (name, params): built on first use, or the driver's own."""
    from prefgen.registry import rewards

    key = canonical_json([name, params])
    with _REWARDS_LOCK:
        if key not in _REWARDS:
            _REWARDS[key] = rewards.build(name, params)
        return _REWARDS[key]


def share_reward(name: str, reward: Any) -> None:
    """Make ``reward`` (built by the driver) the one this process scores with: in-process scoring
    (``runtime: local``) then uses it instead of building a second one with the same params."""
    with _REWARDS_LOCK:
        _REWARDS.setdefault(canonical_json([name, reward.params.model_dump(mode="json")]), reward)


def score_rows(name: str, params: dict[str, Any], prompts: list[dict], candidates: list[dict]) -> list[dict]:
    """Score candidate rows against their prompts' rows; returns Scored rows (runs in a worker)."""
    from prefgen.faults import crash_point
    from prefgen.records import Candidate, Prompt

    crash_point("score_task")  # tests: a scoring worker killed mid-task
    by_id = {row["id"]: Prompt.from_row(row) for row in prompts}
    items = [(by_id[c["prompt_id"]], Candidate.from_row(c)) for c in candidates]
    return [s.to_row() for s in scored_records(reward_for(name, params), items)]


def scored_records(reward, items: list) -> list:
    """Score (prompt, candidate) items with ``reward``; one Scored record each, in order."""
    from prefgen.records import Scored

    results = reward.score_safely(items)
    return [
        Scored(**cand.model_dump(), reward=reward.name, score=result.score, reason=result.reason, details=result.details)
        for (_, cand), result in zip(items, results)
    ]


def _score_on_node(*args: Any) -> tuple[str, list[dict]]:
    """``score_rows`` as a Ray task, returning the id of the node it ran on with the rows."""
    import ray

    return ray.get_runtime_context().get_node_id(), score_rows(*args)


class ScoringQueue:
    """Scoring tasks in flight: submit jobs as generation produces them, collect as they finish."""

    def __init__(self, name: str, params: dict[str, Any]):
        import ray

        self._ray = ray
        self._task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(_score_on_node)
        self._name, self._params = name, params
        self._refs: dict[Any, Any] = {}
        # Jobs are dealt to the nodes with CPUs in turn. Ray's "SPREAD" is best effort: jobs that
        # arrive one at a time, as shards finish, often all land on one node.
        self._nodes = sorted(n["NodeID"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) > 0)
        self._submitted = 0

    def submit(self, key: Any, prompts: list[dict], candidates: list[dict]) -> None:
        """Queue one job; ``key`` comes back with its result."""
        task = self._task
        if len(self._nodes) > 1:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            node = self._nodes[self._submitted % len(self._nodes)]
            # soft: the job of a node that is lost (or cannot run it) goes to another node
            task = task.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True))
        self._submitted += 1
        self._refs[task.remote(self._name, self._params, prompts, candidates)] = key

    def __len__(self) -> int:
        return len(self._refs)

    def finished(self, wait: bool = False) -> Iterator[tuple[Any, list[dict]]]:
        """Yield (key, scored rows) for finished jobs; with ``wait``, block until all are done."""
        while self._refs:
            done, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=None if wait else 0)
            if not done:
                return
            node, rows = self._ray.get(done[0])
            key = self._refs.pop(done[0])
            log.info("scored shard %s on node %s", key, node[:12])
            yield key, rows
