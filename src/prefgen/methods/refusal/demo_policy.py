"""The knowledge-gap demo policy: a tiny Llama that knows some modules' facts and not others.

The refusal-awareness demo needs a policy with a genuine knowledge gap. This one is trained
(with :func:`prefgen.demo.training.train_policy`, the quote demo's training loop) on the answered
questions of ``builtin:stdlib_facts`` whose module is *seen* (a fixed, hash-chosen share of the
modules), on both splits, like facts a model read in pre-training. It never sees a fact of the
other modules, nor any unanswerable question of the question set: which questions it can answer
is decided here. It does see a few dozen refusals ("I don't know.") to questions about invented
names the question set never asks, as a pre-trained model has seen people say they do not know:
without them a refusal is text the policy has never written, and one round of DPO on the demo
could not teach it where to refuse without refusing known questions too (measured in
``benchmarks/results/refusal_awareness.md``). Greedy accuracy measured with them: seen modules
0.72 (train) / 0.75 (held-out), unseen 0.11 / 0.08; without them seen facts were answered ~0.96.

Cached like the quote demo policy (``cache_dir()/models/facts-policy-<key>``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefgen.demo.training import TrainingSettings, cached_model_dir, greedy_answers, train_policy
from prefgen.hashing import content_hash
from prefgen.stdlib.units import unit_hash

FACTS_POLICY_VERSION = 1


def _default_training() -> TrainingSettings:
    # Facts are one short line each: short windows, and enough passes to memorise them.
    return TrainingSettings(steps=500, seq_len=128, batch_size=16, learning_rate=3e-3, vocab_size=2048)


@dataclass(frozen=True)
class FactsPolicySettings:
    """What determines the facts policy (all of it goes into the cache key)."""

    seen_fraction: float = 0.5
    training: TrainingSettings = field(default_factory=_default_training)
    # "Question: ... Answer: I don't know." for this many invented names the question set never
    # asks about, so that a refusal is text the policy can already write (as a pre-trained model can)
    refusal_examples: int = 60
    refusal_text: str = "I don't know."


def seen_module(module: str, seen_fraction: float = 0.5) -> bool:
    """Whether the facts policy is taught the facts of ``module`` (fixed by a hash of its name)."""
    return bool(module) and unit_hash(module, "seen-module") < seen_fraction


def taught_rows(rows: list[dict[str, Any]], seen_fraction: float = 0.5) -> list[dict[str, Any]]:
    """The answerable rows of seen modules, both splits: the facts the policy is taught."""
    return [r for r in rows if r["task"].get("answerable", True) and seen_module(r["module"], seen_fraction)]


def training_texts(settings: FactsPolicySettings) -> list[str]:
    """``Question: ...\\nAnswer: <gold>`` for every taught fact, then the practice refusals."""
    from prefgen.methods.refusal.qa_format import PROMPT_TEMPLATE
    from prefgen.methods.refusal.stdlib_facts import load_rows, unanswerable_facts

    rows = load_rows()
    texts = [f"{row['prompt']} {row['task']['answers'][0]}" for row in taught_rows(rows, settings.seen_fraction)]
    if settings.refusal_examples:
        asked = sum(not r["task"].get("answerable", True) for r in rows)  # invented names in the question set
        practice = unanswerable_facts(settings.refusal_examples, skip=asked)
        texts += [f"{PROMPT_TEMPLATE.format(question=f['question'])} {settings.refusal_text}" for f in practice]
    return texts


def _key_settings(settings: FactsPolicySettings) -> dict[str, Any]:
    """The settings in the cache key; without practice refusals, as before they existed (same key)."""
    fields = asdict(settings)
    if not settings.refusal_examples:
        fields.pop("refusal_examples")
        fields.pop("refusal_text")
    return fields


def facts_policy_dir(settings: FactsPolicySettings | None = None, *, force: bool = False,
                     log: Callable[[str], None] | None = None) -> Path:
    """The facts policy's model directory, training it first (about 4 CPU minutes) if not cached."""
    settings = settings or FactsPolicySettings()
    texts = training_texts(settings)
    key = content_hash({"texts": texts, "settings": _key_settings(settings), "version": FACTS_POLICY_VERSION})[:16]

    def train(out_dir: Path) -> None:
        corpus = {"name": "stdlib-facts", "fingerprint": content_hash(texts)[:16], "facts": len(texts)}
        train_policy(out_dir, settings.training, texts, corpus, log or (lambda message: None))

    return cached_model_dir(f"facts-policy-{key}", train, force=force, log=log)


def knowledge_gap(model_dir: Path, rows: list[dict[str, Any]], seen_fraction: float = 0.5) -> dict[str, dict]:
    """Greedy accuracy by (seen / unseen module, split) on answerable rows: the gap, measured."""
    from prefgen.methods.refusal.classify import QATask, classify
    from prefgen.methods.refusal.detector import RefusalDetector

    answerable = [r for r in rows if r["task"].get("answerable", True)]
    answers = greedy_answers(model_dir, [r["prompt"] for r in answerable])
    detector, groups = RefusalDetector(), {}
    for row, answer in zip(answerable, answers):
        group = f"{'seen' if seen_module(row['module'], seen_fraction) else 'unseen'}/{row['split']}"
        kind = classify(answer, QATask.from_task(row["task"]), detector).kind
        stats = groups.setdefault(group, {"questions": 0, "correct": 0})
        stats["questions"] += 1
        stats["correct"] += kind == "correct"
    for stats in groups.values():
        stats["accuracy"] = stats["correct"] / stats["questions"]
    return groups
