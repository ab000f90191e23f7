"""Small policies prefgen trains itself on the CPU: the shared training loop and model cache.

The methods' demo policies (``demo`` for quoting, ``demo:facts`` for refusal awareness,
``demo:tools`` for tool use) are tiny Llamas (``prefgen.demo.tiny_model``) trained here with a
short plain-torch run (AdamW, causal-LM loss, warm-up then cosine decay). They make every method
testable on two CPU cores with no network. Each method decides *what* its policy learns; this
module decides *how*, and caches the result under ``cache_dir()/models/NAME``: written to a
sibling directory and renamed into place, so an interrupted run never leaves a half model, with a
file lock so two processes never train the same policy at once.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from prefgen.paths import cache_dir

# Bump when the training procedure changes in a way the settings do not capture.
POLICY_VERSION = 1
METADATA_FILE = "prefgen_demo_policy.json"
# Measured on 2 shared CPU cores (AMD EPYC, torch 2.13 CPU build): about 0.5 s per step, so the
# default budget takes about 4 minutes. See benchmarks/demo_policy_spread.py for the figures.
DEFAULT_STEPS = 600
EXPECTED_SECONDS_PER_STEP = 0.5


@dataclass(frozen=True)
class TrainingSettings:
    """Everything that determines the trained policy (all of it goes into the cache key)."""

    steps: int = DEFAULT_STEPS
    batch_size: int = 16
    seq_len: int = 256
    learning_rate: float = 3e-3
    warmup_steps: int = 30
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    vocab_size: int = 2048
    hidden_size: int = 256
    num_heads: int = 4  # head_dim = 256 / 4 = 64, the size vLLM's CPU attention supports
    num_layers: int = 2
    intermediate_size: int = 768
    max_position_embeddings: int = 1024
    heldout_fraction: float = 0.1
    seed: int = 0


def cached_model_dir(name: str, train: Callable[[Path], None], *, force: bool = False,
                     log: Callable[[str], None] | None = None) -> Path:
    """``cache_dir()/models/NAME``, made by ``train(staging_dir)`` first if it is not there.

    Training writes to a sibling directory that is renamed into place, so an interrupted run
    never leaves a half model; a file lock keeps two processes from training it at once. A model
    is complete when its ``METADATA_FILE`` exists (training writes it last).
    """
    models = cache_dir() / "models"
    models.mkdir(parents=True, exist_ok=True)
    target = models / name

    from filelock import FileLock

    with FileLock(str(target) + ".lock"):
        if (target / METADATA_FILE).exists() and not force:
            return target
        staging = models / f".{target.name}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            train(staging)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    (log or log_to_stderr)(f"demo policy ready: {target}")
    return target


def log_to_stderr(message: str) -> None:
    print(f"[prefgen demo] {message}", file=sys.stderr, flush=True)


def _token_stream(texts: list[str], tokenizer) -> torch.Tensor:  # noqa: F821
    import torch

    ids: list[int] = []
    for encoded in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        ids.extend(encoded)
        ids.append(tokenizer.eos_token_id)  # so the policy learns where an answer ends
    return torch.tensor(ids, dtype=torch.long)


def _learning_rate(step: int, settings: TrainingSettings) -> float:
    """Linear warm-up, then cosine decay to ``min_lr_ratio`` of the peak."""
    if step < settings.warmup_steps:
        return settings.learning_rate * (step + 1) / settings.warmup_steps
    span = max(1, settings.steps - settings.warmup_steps)
    progress = min(1.0, (step - settings.warmup_steps) / span)
    ratio = settings.min_lr_ratio + (1 - settings.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return settings.learning_rate * ratio


def train_policy(out_dir: Path, settings: TrainingSettings, texts: list[str], corpus: dict,
                 log: Callable[[str], None]) -> None:
    """Build a tiny Llama with a tokenizer trained on ``texts``, train it on them (causal-LM loss,
    AdamW, warm-up and cosine decay) and save it with its metadata (``corpus`` describes the texts).
    """
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    from prefgen.demo.tiny_model import build_tiny_llama

    started, started_cpu = time.perf_counter(), time.process_time()
    build_tiny_llama(
        out_dir,
        texts,
        vocab_size=settings.vocab_size,
        hidden_size=settings.hidden_size,
        num_layers=settings.num_layers,
        num_heads=settings.num_heads,
        intermediate_size=settings.intermediate_size,
        max_position_embeddings=settings.max_position_embeddings,
        seed=settings.seed,
    )
    tokenizer = AutoTokenizer.from_pretrained(out_dir)
    model = LlamaForCausalLM.from_pretrained(out_dir, dtype=torch.float32)
    stream = _token_stream(texts, tokenizer)
    log(
        f"training the demo policy: {settings.steps} steps on {len(stream):,} tokens "
        f"(about {settings.steps * EXPECTED_SECONDS_PER_STEP / 60:.0f} min on 2 CPU cores)"
    )
    generator = torch.Generator().manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay, betas=(0.9, 0.95)
    )
    model.train()
    losses: list[float] = []
    report_every = max(1, settings.steps // 10)
    for step in range(settings.steps):
        # Windows start at random offsets, so each epoch cuts the stream in new places.
        starts = torch.randint(0, len(stream) - settings.seq_len, (settings.batch_size,), generator=generator)
        batch = torch.stack([stream[s : s + settings.seq_len] for s in starts.tolist()])
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(step, settings)
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if (step + 1) % report_every == 0 or step + 1 == settings.steps:
            recent = losses[-report_every:]
            log(f"step {step + 1}/{settings.steps}  loss {sum(recent) / len(recent):.3f}")
    model.eval()
    model.save_pretrained(out_dir)
    metadata = {
        "kind": "prefgen demo policy",
        "version": POLICY_VERSION,
        "settings": asdict(settings),
        "corpus": corpus,
        "training_tokens": len(stream),
        "final_loss": sum(losses[-report_every:]) / len(losses[-report_every:]) if losses else None,
        "seconds": round(time.perf_counter() - started, 1),
        # CPU time of all threads: comparable across runs on a shared machine, unlike wall time.
        "cpu_seconds": round(time.process_time() - started_cpu, 1),
        "torch_threads": torch.get_num_threads(),
    }
    # Written last: its presence marks a complete model.
    (out_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def greedy_answers(model_dir: Path, prompts: list[str], max_new_tokens: int = 16, batch_size: int = 64) -> list[str]:
    """The model's greedy continuation of each prompt (transformers; small models only)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    answers = []
    for start in range(0, len(prompts), batch_size):
        batch = tokenizer(prompts[start : start + batch_size], return_tensors="pt", padding=True,
                          add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        answers += tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    return answers
