"""A real two-node Ray cluster on this machine, and a pipeline run on it.

The nodes (``prefgen.executors.local_cluster``) and the drivers live in a loopback-only network
namespace, so every node binds to 127.0.0.1 and nothing reaches another address; token
authentication is on. The second node runs in a mount namespace of its own in which

- ``hidden/`` is an empty tmpfs: a path under it exists on the head only, as on a cluster whose
  storage is not shared (the node path check must name that node and that path);
- the run's output directory is read-only: the run succeeds only if the driver alone writes it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli_process import SRC, prefgen, published_fingerprint, run_log, write_config
from conftest import fox_config
from prefgen.executors.local_cluster import HEAD_ADDRESS, LocalCluster

ENGINE = {"gpu_memory_utilization": 0.15, "num_engines": 2}  # small KV caches (0.05 is below an engine's own footprint)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, tiny_model):
    """Nodes ``head`` and ``node-b``, 2 CPUs each; yields (cluster, paths)."""
    root = tmp_path_factory.mktemp("cluster")
    hidden, out = root / "hidden", root / "out"
    out.mkdir()
    shutil.copytree(tiny_model, hidden / "model")  # on the head only: node-b mounts an empty tmpfs here
    with LocalCluster(env={"PYTHONPATH": SRC}) as local:
        local.add_node("head", num_cpus=2)
        local.add_node("node-b", num_cpus=2, setup=(
            f"mount -t tmpfs tmpfs {hidden} && mount --bind {out} {out} && mount -o remount,bind,ro {out}"
        ))
        yield local, {"hidden": hidden, "out": out}


def _nodes(cluster: LocalCluster) -> dict[str, str]:
    """Node name -> node id, as the cluster reports them."""
    script = (
        "import json, ray; ray.init(log_to_driver=False); "
        "print(json.dumps({n['NodeName']: n['NodeID'] for n in ray.nodes() if n['Alive']}))"
    )
    env = {**cluster.env, "RAY_ADDRESS": HEAD_ADDRESS}
    done = subprocess.run([*cluster.prefix, sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _config(tmp_path: Path, out: Path, model: Path, **sections) -> dict:
    """conftest's 24 fox prompts (3 shards of 8) on ``model``, two engines; run directory ``out/test``."""
    config = fox_config(tmp_path, model, ENGINE)
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value}
    config["output"] = {"dir": str(out)}
    return config


@pytest.mark.slow
def test_both_nodes_joined_with_token_auth(cluster):
    local, _ = cluster
    assert local.env["RAY_AUTH_MODE"] == "token"
    assert set(_nodes(local)) == {"head", "node-b"}


@pytest.mark.slow
def test_node_path_check_names_the_node_and_the_path(cluster, tmp_path):
    local, paths = cluster
    model = paths["hidden"] / "model"
    config = _config(tmp_path, tmp_path / "out", model, ray={"address": HEAD_ADDRESS})
    code, output, _ = prefgen(["validate", str(write_config(tmp_path / "c.yaml", config))], env=local.env,
                              prefix=local.prefix, timeout=300)
    assert code == 2, output
    node_b = _nodes(local)["node-b"][:12]
    problems = [line for line in output.splitlines() if "does not exist on node" in line]
    assert len(problems) == 1, output  # the head has it, node-b does not
    assert f"model.path: '{model}'" in problems[0] and node_b in problems[0] and "(node-b)" in problems[0]


@pytest.mark.slow
def test_pipeline_on_two_nodes_matches_a_local_run(cluster, tmp_path, tiny_model, fox_reference):
    local, paths = cluster
    on_cluster = _config(tmp_path, paths["out"], tiny_model, ray={"address": HEAD_ADDRESS})
    code, output, _ = prefgen(["run", str(write_config(tmp_path / "cluster.yaml", on_cluster)), "--quiet"],
                              env=local.env, prefix=local.prefix)
    assert code == 0, output  # node-b cannot write the output directory: the driver wrote it all

    nodes = {node_id[:12] for node_id in _nodes(local).values()}
    log = run_log(paths["out"] / "test")
    layout = json.loads(re.search(r"engines per node: (\{.*\})", log).group(1).replace("'", '"'))
    assert set(layout) == nodes and sum(layout.values()) == 2
    assert set(re.findall(r"scored shard \w+ on node (\w+)", log)) == nodes
    assert published_fingerprint(paths["out"] / "test") == fox_reference  # one engine, one node, same rows
