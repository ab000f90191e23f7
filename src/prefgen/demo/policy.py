"""The demo policy: a small Llama trained on the CPU, on first use, on standard-library docstrings.

``prefgen run pipelines/quote_tuning.yaml`` must work on a machine with no GPU and no network, so
the policy it samples from is made locally: ``build_tiny_llama`` gives a tokenizer and random
weights, and a short plain-torch training run (AdamW, causal-LM loss) teaches it

- the answers to the questions of the *train* split of ``builtin:stdlib_docs``, in exactly the
  prompt format that source produces (``Question: What does `X` do?\\nAnswer: <docstring>``), and
- the raw docstrings of the question objects of *both* splits, like a chat model that read
  Wikipedia in pre-training: on a held-out question the policy has seen the text it could quote
  but never which question it answers.

The training is deliberately short. A model that recites every docstring would score QUIP 1.0 on
every sample and give Quote-Tuning nothing to learn; the default budget leaves a policy whose
samples mix memorised docstring text with recombined and invented text, so scores spread and
chosen/rejected pairs form (figures: ``benchmarks/demo_policy_spread.py``).

The result is cached under ``cache_dir()/models/demo-policy-<key>``, ``key`` a hash of the corpus
fingerprint and every training setting. It is written to a sibling directory and renamed into
place, so an interrupted run never leaves a half model, and a file lock keeps two processes from
training the same policy at once.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from prefgen.hashing import content_hash
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


def policy_key(settings: TrainingSettings) -> str:
    """The cache key: corpus fingerprint, training settings and procedure version."""
    from prefgen.demo.stdlib_corpus import corpus_fingerprint

    return content_hash(
        {"corpus": corpus_fingerprint(), "settings": asdict(settings), "version": POLICY_VERSION}
    )[:16]


def training_texts(settings: TrainingSettings) -> list[str]:
    """The training documents: train-split question-answer texts, then raw docstrings."""
    from prefgen.sources.stdlib_docs import answered_text, question_documents, split_of

    documents = question_documents()
    answered = [
        answered_text(doc["id"], doc["text"])
        for doc in documents
        if split_of(doc["id"], settings.heldout_fraction) == "train"
    ]
    raw = [doc["text"] for doc in documents]
    return answered + raw


def demo_policy_dir(
    *,
    steps: int | None = None,
    force: bool = False,
    settings: TrainingSettings | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """The directory of the demo policy, training it first if it is not cached.

    ``steps`` overrides the training budget (default ``DEFAULT_STEPS``, about 4 minutes on two
    CPU cores); ``force`` retrains even if a cached policy exists. The directory holds a Hugging
    Face Llama (config, safetensors, tokenizer with chat template) that transformers and vLLM load.
    """
    settings = settings or TrainingSettings()
    if steps is not None:
        settings = replace(settings, steps=steps)
    log = log or _log_to_stderr
    return cached_model_dir(f"demo-policy-{policy_key(settings)}", lambda out: _train(out, settings, log),
                            force=force, log=log)


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
    (log or _log_to_stderr)(f"demo policy ready: {target}")
    return target


def prepare_demo(force: bool = False) -> Path:
    """CLI entry (``prefgen demo prepare``): train the demo policy now, or report the cached one."""
    return demo_policy_dir(force=force)


def _log_to_stderr(message: str) -> None:
    print(f"[prefgen demo] {message}", file=sys.stderr, flush=True)


def _token_stream(texts: list[str], tokenizer) -> "torch.Tensor":  # noqa: F821
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


def _train(out_dir: Path, settings: TrainingSettings, log: Callable[[str], None]) -> None:
    from prefgen.demo.stdlib_corpus import corpus_fingerprint, python_build

    corpus = {"name": "stdlib-docstrings", "fingerprint": corpus_fingerprint(), "python": python_build()}
    train_policy(out_dir, settings, training_texts(settings), corpus, log)


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
