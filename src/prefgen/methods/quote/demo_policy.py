"""The quote demo's policy: a small Llama trained on the CPU, on first use, on standard-library
docstrings.

``prefgen run pipelines/quote_tuning.yaml`` must work on a machine with no GPU and no network, so
the policy it samples from is made locally (``prefgen.demo.training``) and taught

- the answers to the questions of the *train* split of ``builtin:stdlib_docs``, in exactly the
  prompt format that source produces (``Question: What does `X` do?\\nAnswer: <docstring>``), and
- the raw docstrings of the question objects of *both* splits, like a chat model that read
  Wikipedia in pre-training: on a held-out question the policy has seen the text it could quote
  but never which question it answers.

The training is deliberately short. A model that recites every docstring would score QUIP 1.0 on
every sample and give Quote-Tuning nothing to learn; the default budget leaves a policy whose
samples mix memorised docstring text with recombined and invented text, so scores spread and
chosen/rejected pairs form (figures: ``benchmarks/demo_policy_spread.py``). Cached under
``cache_dir()/models/demo-policy-<key>``, ``key`` a hash of the corpus fingerprint and every
training setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from prefgen.demo.training import (
    POLICY_VERSION,
    TrainingSettings,
    cached_model_dir,
    log_to_stderr,
    train_policy,
)
from prefgen.hashing import content_hash


def policy_key(settings: TrainingSettings) -> str:
    """The cache key: corpus fingerprint, training settings and procedure version."""
    from prefgen.stdlib.corpus import corpus_fingerprint

    return content_hash(
        {"corpus": corpus_fingerprint(), "settings": asdict(settings), "version": POLICY_VERSION}
    )[:16]


def training_texts(settings: TrainingSettings) -> list[str]:
    """The training documents: train-split question-answer texts, then raw docstrings."""
    from prefgen.methods.quote.stdlib_docs import answered_text, question_documents, split_of

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
    log = log or log_to_stderr
    return cached_model_dir(f"demo-policy-{policy_key(settings)}", lambda out: _train(out, settings, log),
                            force=force, log=log)


def _train(out_dir: Path, settings: TrainingSettings, log: Callable[[str], None]) -> None:
    from prefgen.stdlib.corpus import corpus_fingerprint, python_build

    corpus = {"name": "stdlib-docstrings", "fingerprint": corpus_fingerprint(), "python": python_build()}
    train_policy(out_dir, settings, training_texts(settings), corpus, log)


