"""The dpo stage: TRL DPO / SimPO on prefgen's pairs datasets, saved models that load, bad input."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prefgen.output import pair_features, write_dataset
from prefgen.train.dpo import ADAPTER_FILES, TRAINING_RECORD, DPODataError, DPOError, train_dpo
from prefgen.train.settings import DPO_LOSS_TYPES, DPOSettings

# Two optimiser steps of four pairs: enough to move every weight, cheap on two CPU cores.
FAST = {"max_steps": 2, "batch_size": 4, "max_length": 128}
ANIMALS = ["fox", "cat", "horse", "owl"]


def pair_row(prompt, chosen, rejected, index: int) -> dict:
    """A row with every column `prefgen run` publishes in pairs/."""
    return {
        "prompt": prompt, "chosen": chosen, "rejected": rejected, "prompt_id": f"p{index}",
        "chosen_score": 1.0, "rejected_score": 0.2, "margin": 0.8, "strategy": "best_worst",
        "chosen_id": f"p{index}-0", "rejected_id": f"p{index}-1", "details": json.dumps({"why": "test"}),
    }


def text_pairs(path: Path, count: int = 8) -> Path:
    rows = [
        pair_row(f"Tell me about the {ANIMALS[i % 4]} number {i}.",
                 f"The {ANIMALS[i % 4]} number {i} runs over the hill.", "cow cow cow sleeps", i)
        for i in range(count)
    ]
    write_dataset(rows, path, pair_features(chat=False))
    return path


def chat_pairs(path: Path, count: int = 8) -> Path:
    rows = [
        pair_row([{"role": "user", "content": f"Where does the {ANIMALS[i % 4]} run?"}],
                 [{"role": "assistant", "content": f"The {ANIMALS[i % 4]} runs over the bridge."}],
                 [{"role": "assistant", "content": "It sleeps."}], i)
        for i in range(count)
    ]
    write_dataset(rows, path, pair_features(chat=True))
    return path


def weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def changed(before: dict, after: dict) -> bool:
    import torch

    assert before.keys() == after.keys()
    return any(not torch.equal(before[name], after[name]) for name in before)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model):
    """DPO on text pairs into a directory that already holds an older model (which must be replaced)."""
    root = tmp_path_factory.mktemp("dpo")
    pairs = text_pairs(root / "pairs")
    out = root / "model"
    out.mkdir()
    (out / "config.json").write_text("{}")
    (out / "stale-marker").write_text("from an earlier round")
    result = train_dpo(pairs, tiny_model, out, DPOSettings(**FAST))
    return pairs, out, result


# --- settings -------------------------------------------------------------------------------------


def test_every_listed_loss_type_is_implemented_by_installed_trl():
    from trl import DPOTrainer

    source = inspect.getsource(DPOTrainer)
    missing = [name for name in DPO_LOSS_TYPES if f'loss_type == "{name}"' not in source]
    assert missing == []


def test_settings_reject_unknown_keys_bad_losses_and_cross_trainer_fields():
    from pydantic import ValidationError

    for bad in ({"betta": 0.1}, {"loss_type": "simpo"}, {"lora": {"rank": 8}}, {"beta": 0},
                {"trainer": "simpo", "loss_type": "ipo"}, {"simpo_gamma": 1.0}, {"batch_size": 0}):
        with pytest.raises(ValidationError):
            DPOSettings.model_validate(bad)
    assert DPOSettings().effective_beta == 0.1
    assert DPOSettings(trainer="simpo").effective_beta == 2.0
    assert DPOSettings(trainer="simpo", beta=1.5).effective_beta == 1.5
    assert DPOSettings.model_validate({"lora": {"r": 4}}).lora.target_modules == "all-linear"


def test_settings_module_imports_only_pydantic():
    code = (
        "import sys; import prefgen.train.settings; "
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'datasets', 'peft') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- training -------------------------------------------------------------------------------------


def test_dpo_changes_weights_and_saves_a_model_transformers_loads(trained, tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, out, result = trained
    assert result.out_dir == out and result.steps == 2 and result.device == "cpu" and result.num_pairs == 8
    assert result.final_loss is not None and 0 < result.final_loss < 1.0
    assert "rewards/accuracies" in result.metrics and "rewards/margins" in result.metrics
    assert changed(weights(tiny_model), weights(out))
    assert not (out / "stale-marker").exists()  # the old model directory was replaced
    assert not list(out.parent.glob(".model.*"))  # no partial or old directories left beside it
    model = AutoModelForCausalLM.from_pretrained(out)
    assert type(model).__name__ == "LlamaForCausalLM"
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.chat_template == AutoTokenizer.from_pretrained(tiny_model).chat_template
    assert tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False).startswith("<|user|>")
    record = json.loads((out / TRAINING_RECORD).read_text())
    assert record["settings"]["max_steps"] == 2 and record["steps"] == 2


def test_chat_pairs_with_lora_are_merged_into_a_plain_model(tmp_path, tiny_model):
    from transformers import AutoModelForCausalLM

    pairs = chat_pairs(tmp_path / "pairs")
    settings = DPOSettings(**FAST, learning_rate=1e-3, lora={"r": 4, "alpha": 8})
    result = train_dpo(pairs, tiny_model, tmp_path / "merged", settings)
    out = result.out_dir
    assert not [name for name in ADAPTER_FILES if (out / name).exists()]
    merged = weights(out)
    assert not [name for name in merged if "lora" in name]
    assert merged.keys() == weights(tiny_model).keys()
    assert changed(weights(tiny_model), merged)
    assert type(AutoModelForCausalLM.from_pretrained(out)).__name__ == "LlamaForCausalLM"


def test_simpo_trains_with_trls_cpo_trainer(tmp_path, tiny_model):
    result = train_dpo(text_pairs(tmp_path / "pairs"), tiny_model, tmp_path / "simpo", DPOSettings(**FAST, trainer="simpo"))
    assert result.trainer == "simpo" and result.steps == 2
    assert "rewards/margins" in result.metrics
    assert changed(weights(tiny_model), weights(result.out_dir))


def test_sft_weight_adds_an_nll_term_on_the_chosen_side(tmp_path, tiny_model):
    from prefgen.train.dpo import _trainer_args

    args = _trainer_args(DPOSettings(**FAST, sft_weight=0.5), "cpu", tmp_path / "args")
    assert list(args.loss_type) == ["sigmoid", "sft"] and list(args.loss_weights) == [1.0, 0.5]
    plain = train_dpo(text_pairs(tmp_path / "pairs"), tiny_model, tmp_path / "plain", DPOSettings(**FAST))
    mixed = train_dpo(text_pairs(tmp_path / "pairs"), tiny_model, tmp_path / "mixed", DPOSettings(**FAST, sft_weight=1.0))
    assert mixed.final_loss > plain.final_loss  # the NLL term is part of the optimised loss
    with pytest.raises(Exception, match="sft_weight applies to trainer: dpo"):
        DPOSettings(trainer="simpo", sft_weight=1.0)


def test_failed_save_keeps_the_earlier_model_and_leaves_no_partial_dir(tmp_path, tiny_model, monkeypatch):
    from prefgen.train import dpo

    out = tmp_path / "round1"
    out.mkdir()
    (out / "config.json").write_text('{"earlier": true}')

    def broken(model_dir, expected_chat_template=None):
        raise DPOError(f"{model_dir}: does not load")

    monkeypatch.setattr(dpo, "verify_model_dir", broken)
    with pytest.raises(DPOError, match="does not load"):
        train_dpo(text_pairs(tmp_path / "pairs", count=2), tiny_model, out, DPOSettings(max_steps=1, batch_size=2))
    assert json.loads((out / "config.json").read_text()) == {"earlier": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs", "round1"]


# --- bad input ------------------------------------------------------------------------------------


@pytest.fixture
def no_model_loading(monkeypatch):
    """Fail the test if anything tries to load model weights."""
    from transformers import AutoModelForCausalLM

    def refuse(*args, **kwargs):
        raise AssertionError("model weights were loaded before the input was checked")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", refuse)


def test_bad_pairs_fail_before_any_model_is_loaded(tmp_path, tiny_model, no_model_loading):
    from datasets import Dataset

    good = text_pairs(tmp_path / "good")
    settings = DPOSettings(**FAST)
    cases = {
        "missing column(s) rejected": lambda p: Dataset.from_list(
            [{"prompt": "a", "chosen": "b"}]).save_to_disk(str(p)),
        "zero rows": lambda p: write_dataset([], p, pair_features(chat=False)),  # no data files at all
        "zero rows ": lambda p: Dataset.from_list([{"prompt": "a", "chosen": "b", "rejected": "c"}]).select(
            []).save_to_disk(str(p), num_shards=1),  # an empty data file
        "null value": lambda p: Dataset.from_list(
            [{"prompt": "a", "chosen": None, "rejected": "c"}, {"prompt": "a", "chosen": "b", "rejected": "c"}]
        ).save_to_disk(str(p)),
        "mix text and chat messages": lambda p: Dataset.from_list(
            [{"prompt": "a", "chosen": [{"role": "assistant", "content": "b"}],
              "rejected": [{"role": "assistant", "content": "c"}]}]).save_to_disk(str(p)),
        "not a datasets.save_to_disk directory": lambda p: p.mkdir(),
        "no such directory": lambda p: None,
    }
    for expected, make in cases.items():
        path = tmp_path / expected.replace(" ", "_").replace("(", "").replace(")", "")
        assert not path.exists()
        make(path)
        with pytest.raises(DPODataError, match=expected.strip().replace("(", r"\(").replace(")", r"\)")):
            train_dpo(path, tiny_model, tmp_path / "out", settings)
    with pytest.raises(DPODataError, match="must differ from the starting model"):
        train_dpo(good, tiny_model, tiny_model, settings)
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / "not-a-model" / "notes.txt").write_text("keep me")
    with pytest.raises(DPODataError, match="not a model directory"):
        train_dpo(good, tiny_model, tmp_path / "not-a-model", settings)
    assert not (tmp_path / "out").exists()


def test_chat_pairs_need_a_chat_template(tmp_path, tiny_model, no_model_loading):
    import shutil

    bare = tmp_path / "bare"
    shutil.copytree(tiny_model, bare)
    (bare / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((bare / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(DPODataError, match="no chat template"):
        train_dpo(chat_pairs(tmp_path / "pairs"), bare, tmp_path / "out", DPOSettings(**FAST))


# --- command line ---------------------------------------------------------------------------------


def cli_app():
    import typer

    from prefgen.train.cli import dpo_command

    app = typer.Typer()
    app.command()(dpo_command)
    return app


def test_cli_trains_with_overrides_and_is_deterministic(trained, tiny_model, tmp_path):
    pairs, first_out, _ = trained
    out = tmp_path / "cli-model"
    overrides = [f"{key}={value}" for key, value in FAST.items()]
    result = CliRunner().invoke(cli_app(), [str(pairs), "--model", str(tiny_model), "--out", str(out), *overrides])
    assert result.exit_code == 0, result.output
    record = json.loads((out / TRAINING_RECORD).read_text())
    assert record["settings"]["max_length"] == 128 and record["steps"] == 2
    # Same pairs, model and settings as the fixture's run: the same weights, bit for bit.
    assert not changed(weights(first_out), weights(out))


def test_cli_rejects_unknown_keys_and_bad_input_with_exit_2(trained, tiny_model, tmp_path):
    pairs, _, _ = trained
    runner = CliRunner()
    base = [str(pairs), "--model", str(tiny_model), "--out", str(tmp_path / "out")]
    unknown = runner.invoke(cli_app(), [*base, "beta=0.05", "betta=0.1"])
    assert unknown.exit_code == 2
    assert "betta" in unknown.output and "unknown key" in unknown.output
    nested = runner.invoke(cli_app(), [*base, "lora.rank=8"])
    assert nested.exit_code == 2 and "lora.rank" in nested.output
    bad_value = runner.invoke(cli_app(), [*base, "loss_type=nope"])
    assert bad_value.exit_code == 2 and "nope" in bad_value.output
    empty = tmp_path / "empty"
    write_dataset([], empty, pair_features(chat=False))
    no_rows = runner.invoke(cli_app(), [str(empty), "--model", str(tiny_model), "--out", str(tmp_path / "out")])
    assert no_rows.exit_code == 2 and "zero rows" in no_rows.output
    no_model = runner.invoke(cli_app(), [str(pairs), "--model", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert no_model.exit_code == 2 and "--model" in no_model.output
    assert not (tmp_path / "out").exists()


# vLLM loading what train_dpo saved: the training loop's round 1 samples from it
# (tests/core/test_rounds.py::test_one_round_trains_a_policy_vllm_loads_and_measures_it).
