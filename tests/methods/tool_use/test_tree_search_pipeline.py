"""The tool-use recipe end to end through the CLI: tree search on vLLM, tree pairs, DPO, held-out metrics.

Small on purpose: 10 requests of builtin:stdlib_tools, a tiny tree, the session's tiny random
model. Its answers are rarely calls, so the reward adds a length term to the tool_call reward
(the tree needs differing values to pair) and pairs may have sides the token budget cut
(``require_finished: false``); the pair structure is what is checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_from_disk
from typer.testing import CliRunner

from prefgen.cli import app


def tool_config(tmp_path: Path, model: Path) -> dict:
    return {
        "name": "tools",
        "model": {"path": str(model), "max_model_len": 512},
        "prompts": {"source": "builtin:stdlib_tools", "options": {"limit": 10, "heldout_fraction": 0.3}},
        "generate": {
            "strategy": "tree_search", "shard_size": 4, "hardest_fraction": 0.5,
            "iterations": 2, "expansions": 2, "max_step_tokens": 8, "max_depth": 2, "simulation_steps": 1,
            "sampling": {"n": 2, "max_tokens": 12},
        },
        "reward": [{"name": "tool_call", "weight": 1.0}, {"name": "length", "target_chars": 30, "weight": 0.5}],
        "pairing": {"strategy": "tree", "value_gap": 0.01, "require_finished": False, "whole_answer_pair": True},
        "rounds": 1,
        "dpo": {"learning_rate": 1e-3, "epochs": 1, "batch_size": 4, "max_length": 512},
        "output": {"dir": str(tmp_path / "out")},
        "ray": {"num_cpus": 2},
    }


def run(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", str(path), "--quiet"])
    return result.exit_code, result.output


@pytest.mark.slow
def test_flat_baseline_from_the_same_yaml(tmp_path, tiny_model, ray_runtime):
    config = tool_config(tmp_path, tiny_model)
    config.update(name="tools_flat", rounds=0)
    config.pop("dpo")
    config["generate"].update(flat=True)  # budget: the tokens the same search generates per request
    path = tmp_path / "flat.yaml"
    path.write_text(json.dumps(config))
    code, output = run(path)
    assert code == 0, output
    latest = tmp_path / "out" / "tools_flat" / "latest"
    flat: dict[str, list[dict]] = {}
    for row in load_from_disk(str(latest / "candidates")):
        if json.loads(row["sampling"]).get("tree", {}).get("mode") == "flat":
            flat.setdefault(row["prompt_id"], []).append(row)
    assert len(flat) == 5  # the requests the tree would search
    for rows in flat.values():
        tokens = [r["num_tokens"] for r in sorted(rows, key=lambda r: r["sample_index"])]
        (budget,) = {json.loads(r["sampling"])["tree"]["token_budget"] for r in rows}
        assert budget > 0 and sum(tokens) >= budget > sum(tokens) - tokens[-1]  # the budget, not one sample more
    pairs = list(load_from_disk(str(latest / "pairs")))
    assert all(json.loads(p["details"])["mode"] == "flat" for p in pairs)
    assert all(p["prompt"].endswith("Calls:") for p in pairs)  # whole samples: no shared prefix


@pytest.mark.slow
def test_tool_use_loop_with_tree_search(tmp_path, tiny_model, ray_runtime):
    path = tmp_path / "tools.yaml"
    path.write_text(json.dumps(tool_config(tmp_path, tiny_model)))
    code, output = run(path)
    assert code == 0, output
    root = tmp_path / "out" / "tools"
    round_0 = root / "rounds" / "round_0" / "latest"
    candidates = {row["id"]: row for row in load_from_disk(str(round_0 / "candidates"))}
    pairs = list(load_from_disk(str(round_0 / "pairs")))
    modes = {}
    for row in candidates.values():
        modes.setdefault(json.loads(row["sampling"]).get("tree", {}).get("mode"), set()).add(row["prompt_id"])
    # 8 train requests: 5 with a call (3 kept: ceil of half), 3 without (2 kept)
    assert len(modes["tree"]) == 5 and len(modes["unselected"]) == 3
    assert len(modes[None]) == 2  # held-out requests: plain samples
    assert pairs and all(p["strategy"] == "tree" for p in pairs)
    for pair in pairs:
        details = json.loads(pair["details"])
        assert details["mode"] in ("tree", "whole")  # step pairs, and whole answers from the start
        prefix = details["prefix"]
        chosen, rejected = candidates[pair["chosen_id"]], candidates[pair["rejected_id"]]
        assert pair["prompt"].endswith("Calls:" + prefix)  # the shared prefix continues the prompt
        assert prefix + pair["chosen"] == chosen["text"] and prefix + pair["rejected"] == rejected["text"]
        for side in (chosen, rejected):  # each side a whole completed answer of a tree node
            info = json.loads(side["sampling"])["tree"]
            assert info["mode"] == "tree" and side["text"][info["prefix_chars"]:].startswith(info["step"])
        assert pair["chosen_score"] > pair["rejected_score"]

    metrics = [json.loads(line) for line in (root / "metrics.jsonl").read_text().splitlines()]
    assert [m["round"] for m in metrics] == [0, 1]
    for m in metrics:
        method = m["method"]
        assert method["tool_call.samples"] == 2 * 2
        assert 0.0 <= method["tool_call.accuracy"] <= 1.0
        assert any(k.startswith("tool_call.accuracy.") for k in method)
    assert "tool_call.accuracy" in (root / "README.md").read_text()

    fingerprint = json.loads((round_0 / "version.json").read_text())["fingerprint"]
    code, output = run(path)
    assert code == 3, output  # nothing new: every sample, score, pair and policy reused
    assert json.loads((round_0 / "version.json").read_text())["fingerprint"] == fingerprint
