"""The bundled preference-training stage: TRL's DPO (or SimPO) on a ``pairs/`` dataset.

``train_dpo`` checks the pairs before any model is loaded, trains with TRL's own trainer on the
device it finds (CUDA when available, else CPU), with bfloat16 autocast where the device computes
in bf16 natively (``dpo.autocast``; float32 master weights either way), merges a LoRA adapter if
one was trained, and saves a plain model directory (weights, tokenizer with its chat template,
``prefgen_training.json``) that vLLM and transformers load. The directory is written aside and
renamed into place only after it has been reloaded successfully, so a failed run never leaves a
half-written model where the next round would look for one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from prefgen.train.settings import DPOSettings

REQUIRED_COLUMNS = ("prompt", "chosen", "rejected")
TRAINING_RECORD = "prefgen_training.json"
# Files a peft adapter directory has; a merged model must have none of them.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")


class DPOError(Exception):
    """Preference training could not run or produced no usable model."""


class DPODataError(DPOError, ValueError):
    """The pairs dataset (or the output location) is unusable; raised before any model is loaded."""


class Progress(Protocol):
    """What ``train_dpo`` reports steps to, e.g. :class:`prefgen.progress.StageBar`."""

    def advance(self, amount: int = 1) -> None: ...

    def update_total(self, total: int) -> None: ...


@dataclass
class TrainResult:
    """What a training run did and where the model is."""

    out_dir: Path
    trainer: str
    device: str
    num_pairs: int
    steps: int
    final_loss: float | None
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    log_history: list[dict[str, Any]] = field(default_factory=list)
    precision: str = "float32"  # or "bf16 autocast"

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable summary (without the per-step history)."""
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data.pop("log_history")
        return data


def train_dpo(
    pairs_dir: str | Path,
    model_path: str | Path,
    out_dir: str | Path,
    settings: DPOSettings,
    progress: Progress | None = None,
) -> TrainResult:
    """Train the policy at ``model_path`` on the pairs at ``pairs_dir``; save the result to ``out_dir``.

    The reference model (DPO) is the starting policy. An existing model directory at ``out_dir`` is
    replaced only once the new one is complete and loads. Raises :class:`DPODataError` for unusable
    pairs or output locations before loading the model, and :class:`DPOError` when training
    diverges or the saved model does not load.
    """
    started = time.perf_counter()
    pairs_dir, model_path, out_dir = Path(pairs_dir), Path(model_path), Path(out_dir)
    check_out_dir(out_dir, model_path)
    pairs = load_pairs(pairs_dir)
    with quiet_libraries():
        tokenizer = _training_tokenizer(model_path)
        if pairs_are_chat(pairs) and not tokenizer.chat_template:
            raise DPODataError(f"{pairs_dir}: the pairs are chat messages but {model_path} has no chat template")
        device = pick_device(settings.device)
        bf16 = use_bf16_autocast(settings.autocast, device)
        work_dir = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
        _remove(work_dir)
        work_dir.mkdir(parents=True)
        try:
            trainer = _build_trainer(pairs, model_path, tokenizer, settings, device, bf16, work_dir, progress)
            trainer.train()
            model = _final_model(trainer)
            _save(model, model_path, work_dir)
            result = TrainResult(
                out_dir=out_dir,
                trainer=settings.trainer,
                device=device,
                num_pairs=pairs.num_rows,
                steps=trainer.state.global_step,
                final_loss=_final_loss(trainer.state.log_history),
                seconds=0.0,
                metrics=_final_metrics(trainer.state.log_history),
                log_history=list(trainer.state.log_history),
                precision="bf16 autocast" if bf16 else "float32",
            )
            del trainer, model
            verify_model_dir(work_dir, expected_chat_template=tokenizer.chat_template)
            result.seconds = round(time.perf_counter() - started, 3)
            _write_record(work_dir, result, settings, pairs_dir, model_path)
            _move_into_place(work_dir, out_dir)
        except BaseException:
            _remove(work_dir)
            raise
    return result


def load_pairs(pairs_dir: Path):
    """Load a ``save_to_disk`` pairs dataset and keep only TRL's columns, or raise DPODataError."""
    from datasets import DatasetDict, load_from_disk

    if not pairs_dir.is_dir():
        raise DPODataError(f"{pairs_dir}: no such directory (expected a pairs/ dataset from `prefgen run`)")
    if _saved_without_data(pairs_dir):
        raise DPODataError(f"{pairs_dir}: zero rows, nothing to train on (did pairing keep any pair?)")
    try:
        dataset = load_from_disk(str(pairs_dir))
    except Exception as exc:  # datasets raises several types for "not a dataset"
        raise DPODataError(f"{pairs_dir}: not a datasets.save_to_disk directory ({exc})") from None
    if isinstance(dataset, DatasetDict):
        if "train" not in dataset:
            raise DPODataError(f"{pairs_dir}: a DatasetDict without a 'train' split ({', '.join(dataset)})")
        dataset = dataset["train"]
    missing = [name for name in REQUIRED_COLUMNS if name not in dataset.column_names]
    if missing:
        raise DPODataError(
            f"{pairs_dir}: missing column(s) {', '.join(missing)}; a pairs dataset needs "
            f"{', '.join(REQUIRED_COLUMNS)} (has {', '.join(dataset.column_names) or 'none'})"
        )
    if dataset.num_rows == 0:
        raise DPODataError(f"{pairs_dir}: zero rows, nothing to train on (did pairing keep any pair?)")
    kinds = {name: _column_kind(dataset.features[name]) for name in REQUIRED_COLUMNS}
    unknown = [name for name, kind in kinds.items() if kind is None]
    if unknown:
        raise DPODataError(
            f"{pairs_dir}: column(s) {', '.join(unknown)} must hold strings or chat messages (role, content), "
            f"got {', '.join(str(dataset.features[name]) for name in unknown)}"
        )
    if len(set(kinds.values())) > 1:
        raise DPODataError(f"{pairs_dir}: prompt, chosen and rejected mix text and chat messages: {kinds}")
    for name in REQUIRED_COLUMNS:
        nulls = dataset.data.column(name).null_count
        if nulls:
            raise DPODataError(f"{pairs_dir}: column {name} has {nulls} null value(s)")
    # Extra columns are provenance for people; some names (images, tools) would change how TRL reads rows.
    return dataset.select_columns(list(REQUIRED_COLUMNS))


def _saved_without_data(pairs_dir: Path) -> bool:
    """An empty Dataset saved by ``save_to_disk`` has no data files, and ``load_from_disk`` fails on it."""
    try:
        state = json.loads((pairs_dir / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("_data_files") == []


def _column_kind(feature) -> str | None:
    from datasets import LargeList, List, Value

    if isinstance(feature, Value):
        return "text" if feature.dtype in ("string", "large_string") else None
    inner = feature.feature if isinstance(feature, (List, LargeList)) else None
    if isinstance(inner, dict) and {"role", "content"} <= set(inner):
        return "messages"
    return None


def pairs_are_chat(pairs) -> bool:
    """Whether the (checked) pairs hold chat messages rather than plain text."""
    return _column_kind(pairs.features["prompt"]) == "messages"


def check_out_dir(out_dir: Path, model_path: Path) -> None:
    """Refuse output locations that training would damage: the starting model, or a non-model directory."""
    if out_dir.resolve() == model_path.resolve():
        raise DPODataError(f"{out_dir}: the output must differ from the starting model (it is the reference)")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise DPODataError(f"{out_dir}: exists and is not a directory")
        if any(out_dir.iterdir()) and not (out_dir / "config.json").exists():
            raise DPODataError(f"{out_dir}: exists, is not empty and is not a model directory; not replacing it")


def pick_device(choice: str = "auto") -> str:
    """``cuda`` when asked for or available, else ``cpu``."""
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise DPOError("device: cuda was requested but torch sees no CUDA device")
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


def use_bf16_autocast(choice: str, device: str) -> bool:
    """Whether to train under bfloat16 autocast (``dpo.autocast``: auto, bf16 or off) on ``device``."""
    import torch

    if choice == "off":
        return False
    if device == "cuda":
        if choice == "bf16" and not torch.cuda.is_bf16_supported():
            raise DPOError("autocast: bf16 was requested but this CUDA device does not support bfloat16")
        return torch.cuda.is_bf16_supported()
    # On a CPU without bf16 instructions autocast emulates it: correct but slower than float32.
    return choice == "bf16" or cpu_has_native_bf16()


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes bfloat16 natively: x86 ``avx512_bf16`` or ``amx_bf16``, Arm ``bf16``.

    Reads ``/proc/cpuinfo`` (or the given text); False where it cannot be read (torch's own CPU
    capability report names the vector width, not bf16 support).
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, Arm
            return bool({"avx512_bf16", "amx_bf16", "bf16"} & set(value.split()))
    return False


@contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silence per-step chatter of transformers, TRL, datasets and peft; errors still surface."""
    import datasets
    import transformers

    loggers = [logging.getLogger(name) for name in ("trl", "peft", "accelerate")]
    levels = [logger.level for logger in loggers]
    verbosity = transformers.logging.get_verbosity()
    bars_were_enabled = datasets.is_progress_bar_enabled()
    transformers_bars_were_enabled = transformers.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # "Loading weights" / "Writing model shards"
    datasets.disable_progress_bars()
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"(trl|transformers|peft|accelerate|torch)(\.|$)")
            warnings.filterwarnings("ignore", message=r".*trl\.experimental.*")
            yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars_were_enabled:
            datasets.enable_progress_bars()
        if transformers_bars_were_enabled:
            transformers.logging.enable_progress_bar()
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _training_tokenizer(model_path: Path):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    except Exception as exc:
        raise DPODataError(f"{model_path}: cannot load a tokenizer from the model ({exc})") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # only for batching; the saved tokenizer is the original
    return tokenizer


def _build_trainer(pairs, model_path: Path, tokenizer, settings: DPOSettings, device: str, bf16: bool,
                   work_dir: Path, progress):
    import torch
    from transformers import AutoModelForCausalLM, PrinterCallback, set_seed

    set_seed(settings.seed)  # before the model: LoRA adapters are initialised randomly
    model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=torch.float32)
    callbacks = [_progress_callback(progress)] if progress is not None else []
    args = _trainer_args(settings, device, work_dir / "trainer", bf16=bf16)
    peft_config = _peft_config(settings)
    if settings.trainer == "simpo":
        from trl.experimental.cpo import CPOTrainer

        trainer = CPOTrainer(
            model=model, args=args, train_dataset=pairs, processing_class=tokenizer,
            peft_config=peft_config, callbacks=callbacks,
        )
    else:
        from trl import DPOTrainer

        trainer = DPOTrainer(
            model=model, ref_model=None, args=args, train_dataset=pairs, processing_class=tokenizer,
            peft_config=peft_config, callbacks=callbacks,
        )
    # With tqdm off, transformers prints every log line instead; the history is in trainer.state.
    trainer.remove_callback(PrinterCallback)
    if len(trainer.train_dataset) == 0:
        raise DPODataError(f"every prompt is at least max_length={settings.max_length} tokens; raise max_length")
    return trainer


def _trainer_args(settings: DPOSettings, device: str, output_dir: Path, bf16: bool = False):
    common = {
        "output_dir": str(output_dir),
        "num_train_epochs": settings.epochs,
        "max_steps": settings.max_steps or -1,
        "per_device_train_batch_size": settings.batch_size,
        "gradient_accumulation_steps": settings.gradient_accumulation_steps,
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": "linear",
        "max_length": settings.max_length,
        "beta": settings.effective_beta,
        "seed": settings.seed,
        "data_seed": settings.seed,
        "use_cpu": device == "cpu",
        # Mixed precision (torch.autocast on CPU too) keeps float32 master weights and optimiser state.
        "bf16": bf16,
        "fp16": False,
        "gradient_checkpointing": settings.gradient_checkpointing,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": [],
        "disable_tqdm": True,
        "log_level": "error",
        "dataloader_num_workers": 0,
    }
    if settings.trainer == "simpo":
        from trl.experimental.cpo import CPOConfig

        return CPOConfig(**common, loss_type="simpo", cpo_alpha=0.0, simpo_gamma=settings.simpo_gamma)
    from trl import DPOConfig

    if settings.sft_weight > 0:
        return DPOConfig(**common, loss_type=[settings.loss_type, "sft"], loss_weights=[1.0, settings.sft_weight])
    return DPOConfig(**common, loss_type=[settings.loss_type])


def _peft_config(settings: DPOSettings):
    if settings.lora is None:
        return None
    from peft import LoraConfig

    lora = settings.lora
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )


def _progress_callback(progress: Progress):
    from transformers import TrainerCallback

    class StepProgress(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            progress.update_total(state.max_steps)

        def on_step_end(self, args, state, control, **kwargs):
            progress.advance(1)

    return StepProgress()


def _final_model(trainer):
    """The trained model as a plain transformers model (LoRA merged), checked for divergence."""
    import torch

    model = trainer.accelerator.unwrap_model(trainer.model)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    bad = [name for name, param in model.named_parameters() if not torch.isfinite(param).all()]
    if bad:
        raise DPOError(
            f"training diverged: non-finite weights in {len(bad)} tensor(s) (e.g. {bad[0]}); "
            "lower learning_rate or raise beta"
        )
    return model


def _save(model, model_path: Path, work_dir: Path) -> None:
    """Weights in the starting model's dtype, and the original tokenizer (chat template included)."""
    from transformers import AutoConfig, AutoTokenizer

    shutil.rmtree(work_dir / "trainer", ignore_errors=True)
    dtype = _config_dtype(AutoConfig.from_pretrained(str(model_path)))
    if dtype is not None:
        model = model.to(dtype)
    model.save_pretrained(str(work_dir))
    AutoTokenizer.from_pretrained(str(model_path)).save_pretrained(str(work_dir))


def _config_dtype(config):
    import torch

    dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None)
    return dtype if isinstance(dtype, torch.dtype) and dtype.is_floating_point else None


def verify_model_dir(model_dir: Path, expected_chat_template: str | None = None) -> None:
    """Load ``model_dir`` with transformers as the next round will; raise DPOError if it does not work."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    leftovers = [name for name in ADAPTER_FILES if (model_dir / name).exists()]
    if leftovers:
        raise DPOError(f"{model_dir}: holds adapter files {leftovers}; the adapter was not merged")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    except Exception as exc:
        raise DPOError(f"{model_dir}: the trained model does not load with transformers ({exc})") from exc
    if expected_chat_template and tokenizer.chat_template != expected_chat_template:
        raise DPOError(f"{model_dir}: the saved tokenizer lost its chat template")
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        raise DPOError(f"{model_dir}: the tokenizer has more tokens than the model's embeddings")


def _final_loss(history: list[dict[str, Any]]) -> float | None:
    losses = [entry["loss"] for entry in history if "loss" in entry]
    return float(losses[-1]) if losses else None


def _final_metrics(history: list[dict[str, Any]]) -> dict[str, float]:
    """The last training step's logged values (rewards/*, logps/*, loss) plus the run's mean loss."""
    steps = [entry for entry in history if "loss" in entry]
    metrics = {key: float(value) for key, value in (steps[-1] if steps else {}).items() if _is_number(value)}
    for entry in history:
        if "train_loss" in entry:
            metrics["train_loss"] = float(entry["train_loss"])
    metrics.pop("step", None)
    return metrics


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _write_record(work_dir: Path, result: TrainResult, settings: DPOSettings, pairs_dir: Path, model_path: Path):
    import trl

    record = {
        "base_model": str(model_path),
        "pairs": str(pairs_dir),
        "settings": settings.model_dump(mode="json"),
        "trl_version": trl.__version__,
        **result.to_json(),
    }
    record.pop("out_dir")
    (work_dir / TRAINING_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _move_into_place(work_dir: Path, out_dir: Path) -> None:
    """Rename the finished directory to ``out_dir``, replacing an earlier model there last."""
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    if out_dir.exists():
        out_dir.rename(old)
    work_dir.rename(out_dir)
    _remove(old)


def _remove(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
