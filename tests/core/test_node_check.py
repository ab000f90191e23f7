"""Which paths workers need, and the per-node probe (one local node here; two in test_cluster)."""

from __future__ import annotations

import pytest

from conftest import pipeline_dict, write_jsonl
from prefgen.config import PipelineConfig
from prefgen.executors.node_check import check_paths_on_nodes, missing_here, worker_paths
from prefgen.registry import rewards


def _config(tmp_path, model, reward: dict, **sections) -> PipelineConfig:
    raw = pipeline_dict(tmp_path, model, tmp_path / "p.jsonl", **sections)
    raw["reward"] = reward
    return PipelineConfig.model_validate(raw)


def test_worker_paths_are_the_model_and_the_rewards_absolute_paths(tmp_path):
    model, index_a, index_b = (tmp_path / name for name in ("model", "index-a", "index-b"))
    for path in (model, index_a):
        path.mkdir()
    write_jsonl(tmp_path / "p.jsonl", [{"prompt": "q"}])
    config = _config(tmp_path, model, {"name": "quote", "index": [str(index_a), str(index_b)]})
    reward = rewards.build(config.reward.name, config.reward.params)

    paths = worker_paths(config, reward)

    # index-b does not exist on the driver: preflight reports that already, here it is not a worker path
    assert paths == {"model.path": str(model), "reward.index[0]": str(index_a)}


def test_execution_reward_needs_its_sandbox_interpreter(tmp_path):
    from prefgen.sandbox.runner import default_python

    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "q"}])
    config = _config(tmp_path, "demo", {"name": "execution"}, generate={"backend": "replay", "replay_path": str(source)})
    reward = rewards.build(config.reward.name, config.reward.params)
    assert worker_paths(config, reward) == {"reward.python": default_python()}


def test_the_parts_of_a_combined_reward_name_their_paths_too(tmp_path):
    # The sandbox's interpreter must be checked on every node wherever execution sits, not only as
    # the run's whole reward (a check by reward name missed it inside ``combined``).
    from prefgen.sandbox.runner import default_python

    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "q"}])
    combined = {"name": "combined", "components": [{"name": "execution"}, {"name": "length"}]}
    config = _config(tmp_path, "demo", combined, generate={"backend": "replay", "replay_path": str(source)})
    reward = rewards.build(config.reward.name, config.reward.params)
    assert worker_paths(config, reward) == {"reward.execution.python": default_python()}


def test_missing_here_lists_only_absent_paths(tmp_path):
    (tmp_path / "there").mkdir()
    paths = {"a": str(tmp_path / "there"), "b": str(tmp_path / "gone")}
    assert missing_here(paths) == [("b", str(tmp_path / "gone"))]


@pytest.mark.slow
def test_probe_runs_on_the_node_and_names_it(tmp_path, ray_runtime):
    import ray

    (tmp_path / "there").mkdir()
    problems = check_paths_on_nodes({"model.path": str(tmp_path / "there"), "reward.index": str(tmp_path / "gone")})
    node = ray.get_runtime_context().get_node_id()[:12]
    assert len(problems) == 1
    assert problems[0].startswith(f"reward.index: '{tmp_path / 'gone'}' does not exist on node {node}")
