"""DPO on a CPU: bfloat16 autocast (``dpo.autocast``), with and without LoRA, saving models that load."""

from __future__ import annotations

import json

import pytest
from test_dpo import FAST, changed, chat_pairs, text_pairs, weights

from prefgen.train.dpo import (
    ADAPTER_FILES,
    TRAINING_RECORD,
    cpu_has_native_bf16,
    train_dpo,
    use_bf16_autocast,
)
from prefgen.train.settings import DPOSettings

X86_WITH = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_bf16 avx512_fp16\n"
X86_WITHOUT = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n"
X86_AMX = "flags\t\t: avx2 amx_tile amx_int8 amx_bf16\n"
ARM_WITH = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"
ARM_WITHOUT = "processor\t: 0\nFeatures\t: fp asimd evtstrm\n"


class Steps:
    """Records what train_dpo reports to a progress bar."""

    def __init__(self):
        self.total, self.done = None, 0

    def update_total(self, total: int) -> None:
        self.total = total

    def advance(self, amount: int = 1) -> None:
        self.done += amount


@pytest.mark.parametrize("text, native", [
    (X86_WITH, True), (X86_WITHOUT, False), (X86_AMX, True), (ARM_WITH, True), (ARM_WITHOUT, False), ("", False),
])
def test_native_bf16_is_read_from_the_cpu_flags(text, native):
    assert cpu_has_native_bf16(text) is native


def test_autocast_setting_picks_the_precision(monkeypatch):
    from prefgen.train import dpo

    assert use_bf16_autocast("off", "cpu") is False
    assert use_bf16_autocast("bf16", "cpu") is True
    monkeypatch.setattr(dpo, "cpu_has_native_bf16", lambda: False)
    assert use_bf16_autocast("auto", "cpu") is False
    monkeypatch.setattr(dpo, "cpu_has_native_bf16", lambda: True)
    assert use_bf16_autocast("auto", "cpu") is True
    assert DPOSettings().autocast == "off"  # float32 unless a pipeline asks (see the setting)
    with pytest.raises(ValueError, match="autocast"):
        DPOSettings(autocast="fp8")


def test_dpo_with_bf16_autocast_saves_a_float32_model_that_loads(tmp_path, tiny_model):
    from transformers import AutoConfig, AutoModelForCausalLM

    pairs = text_pairs(tmp_path / "pairs")
    steps = Steps()
    mixed = train_dpo(pairs, tiny_model, tmp_path / "bf16", DPOSettings(**FAST, autocast="bf16"), progress=steps)
    plain = train_dpo(pairs, tiny_model, tmp_path / "fp32", DPOSettings(**FAST, autocast="off"))
    assert (mixed.precision, plain.precision) == ("bf16 autocast", "float32")
    assert steps.total == 2 and steps.done == 2  # the bar's total and steps (rich shows the ETA from them)
    # The same seed and data: only the arithmetic differs, so the losses do too.
    assert mixed.final_loss is not None and mixed.final_loss != plain.final_loss
    out = mixed.out_dir
    assert changed(weights(tiny_model), weights(out))
    assert {str(t.dtype) for t in weights(out).values()} == {"torch.float32"}  # master weights, not bf16 copies
    config = AutoConfig.from_pretrained(out)
    assert config.architectures == ["LlamaForCausalLM"]
    assert type(AutoModelForCausalLM.from_pretrained(out)).__name__ == "LlamaForCausalLM"
    record = json.loads((out / TRAINING_RECORD).read_text())
    assert record["precision"] == "bf16 autocast" and record["settings"]["autocast"] == "bf16"


def test_lora_with_bf16_autocast_is_merged_into_a_plain_model(tmp_path, tiny_model):
    from transformers import AutoModelForCausalLM

    settings = DPOSettings(**FAST, learning_rate=1e-3, autocast="bf16", lora={"r": 4, "alpha": 8})
    result = train_dpo(chat_pairs(tmp_path / "pairs"), tiny_model, tmp_path / "merged", settings)
    out = result.out_dir
    assert result.precision == "bf16 autocast"
    assert not [name for name in ADAPTER_FILES if (out / name).exists()]
    merged = weights(out)
    assert merged.keys() == weights(tiny_model).keys() and changed(weights(tiny_model), merged)
    assert type(AutoModelForCausalLM.from_pretrained(out)).__name__ == "LlamaForCausalLM"
