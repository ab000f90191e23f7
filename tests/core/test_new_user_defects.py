"""Defects met when prefgen was tried as a new user would; each test failed before its fix.

(a, c and i are in test_model_ref.py and test_config.py.)
"""

import fcntl
import json
from pathlib import Path

import tomllib
import yaml
from datasets import load_from_disk
from typer.testing import CliRunner

from conftest import ROOT, make_config, pipeline_dict, write_jsonl
from prefgen.cli import app
from prefgen.config import PromptsConfig
from prefgen.output import candidate_features, write_dataset
from prefgen.pipeline import PipelineRun
from prefgen.sources.reader import read_prompts

runner = CliRunner()


def loop_yaml(tmp_path: Path, model: str) -> Path:
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"q{i}"} for i in range(8)])
    config = pipeline_dict(tmp_path, model, source, rounds=1, prompts={"heldout_fraction": 0.5})
    path = tmp_path / "loop.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_b_a_loop_with_a_missing_model_exits_2(tmp_path):
    result = runner.invoke(app, ["run", str(loop_yaml(tmp_path, str(tmp_path / "no-model"))), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "model.path: no model directory" in result.output


def test_b_a_loop_whose_round_is_locked_exits_4(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    round_dir = tmp_path / "out" / "test" / "rounds" / "round_0"
    round_dir.mkdir(parents=True)
    with open(round_dir / ".lock", "a+") as handle:  # another process refreshing round 0
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = runner.invoke(app, ["run", str(loop_yaml(tmp_path, str(model))), "--quiet"])
    assert result.exit_code == 4, result.output


def test_b_a_loop_without_held_out_prompts_is_a_config_error(tmp_path):
    path = loop_yaml(tmp_path, str(tmp_path))
    result = runner.invoke(app, ["validate", str(path), "prompts.heldout_fraction=0"])
    assert result.exit_code == 2 and "prompts.heldout_fraction" in result.output


def test_d_replay_rerun_does_not_reject_rows_of_prompts_sampled_before(tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "a"}, {"prompt": "b"}])
    replay = write_jsonl(
        tmp_path / "c.jsonl",
        [{"prompt": "a", "text": "x" * 9}, {"prompt": "a", "text": "x"}, {"prompt": "b", "text": "y" * 9},
         {"prompt": "b", "text": "y"}, {"prompt": "c", "text": "z"}, {"prompt": "orphan", "text": "o"}],
    )
    sections = dict(runtime="local", generate={"backend": "replay", "replay_path": str(replay), "shard_size": 1})
    PipelineRun(make_config(tmp_path, "demo", source, **sections)).run()
    write_jsonl(source, [{"prompt": "a"}, {"prompt": "b"}, {"prompt": "c"}])  # one new prompt
    summary = PipelineRun(make_config(tmp_path, "demo", source, **sections)).run()
    rejects = [json.loads(line) for line in (summary.run_dir / "rejected_inputs.jsonl").read_text().splitlines()]
    assert [r["raw"] for r in rejects] == [json.dumps({"prompt": "orphan", "text": "o"})]
    assert summary.counts["candidates"] == 5 and summary.stage_work["prompts_sampled"] == 1


def test_e_the_loop_shows_a_dpo_bar_with_an_eta(tmp_path, monkeypatch):
    import io

    from rich.console import Console

    from prefgen.executors.local_runtime import LocalRuntime
    from prefgen.pipeline import RunSummary
    from prefgen.progress import StageTracker
    from prefgen.rounds import TrainingLoop
    from prefgen.train import dpo

    class Trained:
        def to_json(self):
            return {}

    def fake_training(pairs_dir, start, out, settings, progress):  # the steps, without the minutes
        out.mkdir(parents=True)
        progress.update_total(4)
        for _ in range(4):
            progress.advance(1)
        return Trained()

    monkeypatch.setattr(dpo, "train_dpo", fake_training)
    screen = io.StringIO()
    tracker = StageTracker(console=Console(file=screen, force_terminal=True, width=120))
    loop = TrainingLoop(make_config(tmp_path, str(tmp_path), tmp_path / "p.jsonl", rounds=1), tracker)
    (tmp_path / "config.json").write_text("{}")
    loop.runtime = LocalRuntime()
    summary = RunSummary("published", tmp_path, "v0001", {"pairs": 3}, {}, {}, 0.0, fingerprint="f")
    loop._train(0, str(tmp_path), summary)
    shown = screen.getvalue()
    assert "dpo 1" in shown and "4/4" in shown and "ETA" in shown


def test_f_fields_the_feature_list_lacks_are_published_not_dropped(tmp_path):
    row = {name: None for name in candidate_features()} | {"id": "c1", "score": 0.5, "judge_votes": 3}
    write_dataset([row], tmp_path / "candidates", candidate_features())
    loaded = load_from_disk(str(tmp_path / "candidates"))
    assert loaded["judge_votes"] == [3] and loaded["score"] == [0.5]


def test_g_heldout_fraction_reaches_a_source_that_splits_itself():
    def heldout(fraction):
        config = PromptsConfig(source="builtin:stdlib_docs", options={"limit": 200}, heldout_fraction=fraction)
        return len(read_prompts(config).heldout)

    assert heldout(0.5) > 2 * heldout(0)  # 0 leaves the source's own default (0.1)


def test_g_heldout_fraction_applies_to_rows_that_carry_a_split(tmp_path):
    rows = [{"prompt": f"q{i}", "split": "train"} for i in range(40)]
    source = write_jsonl(tmp_path / "p.jsonl", rows)
    assert not read_prompts(PromptsConfig(source=str(source))).heldout  # the rows' own split
    assert read_prompts(PromptsConfig(source=str(source), heldout_fraction=0.5)).heldout


def test_h_every_third_party_import_is_a_declared_dependency():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in declared}
    sources = "\n".join(p.read_text() for p in (ROOT / "src" / "prefgen").rglob("*.py"))
    for module, package in {"filelock": "filelock", "yaml": "pyyaml", "datasets": "datasets"}.items():
        if f"import {module}" in sources or f"from {module} " in sources:
            assert package in names, f"{module} is imported but {package} is not declared"
