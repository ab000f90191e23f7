"""Check, on every node of a Ray cluster, that the paths workers will open exist there.

On one machine the driver's pre-flight checks see what the workers see. On a cluster an engine or
a scoring task may land on a node without the model directory, the corpus index or the sandbox's
interpreter (storage not shared, not mounted yet, a different image). Without this check that
shows up late, as one failed engine or a run of unscorable rows; with it the run stops before any
heavy work with one line per node and path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROBE_TIMEOUT_S = 60.0  # a node that cannot run a zero-CPU task in this time is reported, not waited on


def worker_paths(config: Any, reward: Any) -> dict[str, str]:
    """The local paths workers open, keyed by the config key they come from."""
    paths: dict[str, str] = {}
    from prefgen.registry import generation_strategies

    uses_model = generation_strategies.load(config.generate.strategy).uses_model
    if uses_model and config.model and Path(config.model.path).is_dir():
        paths["model.path"] = str(Path(config.model.path).absolute())
    # Each reward names what its workers open (a combined reward, its parts'): no reward is special-cased here.
    paths.update({f"reward.{key}": path for key, path in reward.worker_paths().items()})
    return paths


def check_cluster_paths(config: Any, reward: Any) -> list[str]:
    """Pre-flight for runs on a cluster: join it and check :func:`worker_paths` on every node."""
    from prefgen.executors.ray_runtime import ensure_ray

    ensure_ray(config.ray)
    return check_paths_on_nodes(worker_paths(config, reward))


def missing_here(paths: dict[str, str]) -> list[tuple[str, str]]:
    """The (key, path) pairs that do not exist on the machine this runs on."""
    return [(key, path) for key, path in paths.items() if not os.path.exists(path)]


def check_paths_on_nodes(paths: dict[str, str]) -> list[str]:
    """Run :func:`missing_here` pinned to each alive node; one problem per missing path and node.

    Needs Ray initialised (the cluster to check). A node that does not answer in time is a
    problem too: work sent there would not start either.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if not paths:
        return []
    probe = ray.remote(num_cpus=0, max_retries=0)(missing_here)
    nodes = [node for node in ray.nodes() if node["Alive"]]
    refs = [
        probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)).remote(paths)
        for node in nodes
    ]
    problems = []
    for node, ref in zip(nodes, refs):
        where = f"node {node['NodeID'][:12]} ({node.get('NodeName') or node['NodeManagerAddress']})"
        try:
            missing = ray.get(ref, timeout=PROBE_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - timeout or a worker that could not start there: reported
            ray.cancel(ref, force=True)
            problems.append(f"{where}: could not check paths: {type(exc).__name__}: {str(exc)[:300]}")
            continue
        problems += [f"{key}: {path!r} does not exist on {where}" for key, path in missing]
    return problems
