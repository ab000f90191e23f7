"""Settings of the bundled preference-training stage (the ``dpo:`` section of a pipeline YAML).

Light on purpose: only pydantic is imported, so the pipeline config can validate a ``dpo:`` section
without loading torch or TRL. The trainer itself lives in :mod:`prefgen.train.dpo`.

Two trainers, both TRL's own implementations:

- ``trainer: dpo`` uses ``trl.DPOTrainer``; ``loss_type`` picks one of its losses and the reference
  model is the starting policy.
- ``trainer: simpo`` uses ``trl.experimental.cpo.CPOTrainer`` with ``loss_type="simpo"`` and
  ``cpo_alpha=0`` (TRL's SimPO: a length-normalised log-likelihood margin with target margin
  ``simpo_gamma``, no reference model). TRL 1.16's ``DPOTrainer`` has no SimPO loss.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The losses trl.DPOTrainer 1.16 implements (DPOConfig.loss_type). Kept here as data so this module
# stays free of heavy imports; tests/test_dpo.py checks every name against the installed TRL.
DPO_LOSS_TYPES = (
    "sigmoid",
    "hinge",
    "ipo",
    "exo_pair",
    "nca_pair",
    "robust",
    "bco_pair",
    "sppo_hard",
    "aot",
    "aot_unpaired",
    "apo_zero",
    "apo_down",
    "discopop",
    "sft",
    "sigmoid_norm",
)
# SimPO's paper uses a far larger beta than DPO, because its reward is a per-token average.
DEFAULT_BETA = {"dpo": 0.1, "simpo": 2.0}


class LoraSettings(BaseModel):
    """A LoRA adapter (peft) trained instead of the full weights and merged into them at the end."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(16, ge=1, le=1024, description="Rank of the adapter matrices.")
    alpha: float = Field(32, gt=0, description="LoRA scaling numerator (the update is scaled by alpha / r).")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on the adapter's input.")
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear",
        description="Module names to adapt (e.g. [q_proj, v_proj]), or 'all-linear' for every linear layer "
        "except the output head.",
    )


class DPOSettings(BaseModel):
    """How a policy is trained on a ``pairs/`` dataset. Defaults suit the tiny and demo models on CPU."""

    model_config = ConfigDict(extra="forbid")

    trainer: Literal["dpo", "simpo"] = Field(
        "dpo",
        description="dpo: trl.DPOTrainer against the starting policy as reference; simpo: TRL's SimPO "
        "(CPOTrainer, loss_type=simpo, cpo_alpha=0), reference-free.",
    )
    loss_type: str = Field(
        "sigmoid",
        description=f"DPOTrainer loss (trainer: dpo only): one of {', '.join(DPO_LOSS_TYPES)}.",
    )
    beta: float | None = Field(
        None,
        gt=0,
        description="Strength of the preference signal: DPO's KL weight (default 0.1), or SimPO's reward "
        "scale (default 2.0). Empty picks the trainer's default.",
    )
    simpo_gamma: float = Field(
        0.5, ge=0, description="SimPO's target reward margin (trainer: simpo only)."
    )
    learning_rate: float = Field(1e-4, gt=0, le=1, description="Peak learning rate of AdamW (linear decay).")
    epochs: int = Field(1, ge=1, le=1000, description="Passes over the pairs.")
    max_steps: int | None = Field(
        None, ge=1, description="Stop after this many optimiser steps (overrides epochs); for smoke runs."
    )
    batch_size: int = Field(4, ge=1, description="Pairs per device per forward pass.")
    gradient_accumulation_steps: int = Field(1, ge=1, description="Forward passes per optimiser step.")
    max_length: int = Field(
        512, ge=16, description="Token limit of prompt + response; longer sequences are truncated at the end."
    )
    lora: LoraSettings | None = Field(
        None, description="Train a LoRA adapter (merged into the weights before saving) instead of all weights."
    )
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in the backward pass: less memory, slower (large models)."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto: CUDA when available, else CPU."
    )
    # Off by default: every published loop result was trained in float32, and on the loaded test
    # machine a bf16 step's DPO loss differed from float32's at the same weights more than rounding
    # explains; the real-model YAMLs turn it on where they were measured with it.
    autocast: Literal["auto", "bf16", "off"] = Field(
        "off",
        description="Mixed precision: bfloat16 autocast over float32 master weights (the saved model keeps the "
        "starting model's dtype). auto: on for a CUDA device that supports bf16 and for a CPU with native "
        "bf16 instructions (avx512_bf16 or AMX on x86, bf16 on Arm), off elsewhere; bf16: always on; "
        "off: plain float32 (the default).",
    )
    seed: int = Field(0, ge=0, description="Seed for weight init of adapters, data order and dropout.")
    sft_weight: float = Field(
        0.0,
        ge=0,
        description="Weight of a negative log-likelihood term on the chosen responses added to the DPO loss "
        "(TRL's 'sft' loss, as in RPO). Plain DPO can lower the likelihood of the chosen answers too, only "
        "less than of the rejected ones; this term keeps the policy producing them. 0 = plain DPO.",
    )

    @model_validator(mode="after")
    def _check_trainer_fields(self) -> DPOSettings:
        explicit = self.model_fields_set
        if self.trainer == "dpo" and self.loss_type not in DPO_LOSS_TYPES:
            raise ValueError(f"loss_type {self.loss_type!r} is not one of {', '.join(DPO_LOSS_TYPES)}")
        if self.trainer == "simpo" and "loss_type" in explicit and self.loss_type != "sigmoid":
            raise ValueError("loss_type applies to trainer: dpo only (SimPO has its own loss)")
        if self.trainer == "simpo" and self.sft_weight > 0:
            raise ValueError("sft_weight applies to trainer: dpo only (for SimPO, CPO's cpo_alpha plays that part)")
        if self.trainer == "dpo" and "simpo_gamma" in explicit:
            raise ValueError("simpo_gamma applies to trainer: simpo only")
        return self

    @property
    def effective_beta(self) -> float:
        """``beta``, or the chosen trainer's default when it is not set."""
        return self.beta if self.beta is not None else DEFAULT_BETA[self.trainer]
