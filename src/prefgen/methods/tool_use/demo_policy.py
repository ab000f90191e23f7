"""The demo tool policy: a tiny Llama that calls the standard-library tools, but not always right.

The tool-use demo needs a policy with real deficiencies for the tree search to find, and ones a
round of preference pairs can fix. This one is a tiny Llama (the quote demo's architecture,
:mod:`prefgen.demo.tiny_model`) whose tokenizer splits spaces, punctuation and digits apart, so a
value is the same tokens in the request and in the call. Copying is learnt first, on its own:
a warm-up on runs of random tokens shown twice, the loss on the second showing. Without it
(and with GPT-2-style tokens, where ``Ġ18 4`` in the request is ``18 4`` in the call) the policy
wrote values it had memorised instead of the request's, a mistake no round of pairs on train
requests fixes for held-out ones. Then supervised fine-tuning on the answers of
``builtin:stdlib_tools`` requests, with the loss on the answer tokens only
(``Calls: [f(a=1)]</s>``), easy to hard as iTool's warm-up:

1. ``easy`` requests (values to copy, one tool shown),
2. then ``medium`` ones and requests that need no call (one complication: a value to convert,
   distractor tools, an optional parameter),
3. then everything, ``hard`` included (two complications, two calls).

Earlier stages' requests stay in the mix, so the policy does not forget them. Training stops
after a fixed, short budget: the policy copies most values but still breaks the call's syntax,
converts values wrongly, picks a distractor, drops an optional value or a second call. Its
greedy held-out accuracy is recorded in the model's metadata (and checked by its test).

Only TRAIN-split requests are taught. The requests come from several draws of the source
(``load_rows(seed=s)``) so the policy sees more values than one draw's 143 requests, and a
request is taught only if its held-out hash puts it in the train split for held-out fractions up
to ``max_heldout_fraction``: the held-out requests of any draw (the same text is always in the
same split) are never seen. Cached like the other demo policies
(``cache_dir()/models/tools-policy-<key>``; ``key`` hashes the texts and every setting).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefgen.demo.tiny_model import SPECIAL_TOKENS
from prefgen.demo.training import METADATA_FILE, TrainingSettings, cached_model_dir
from prefgen.hashing import content_hash
from prefgen.stdlib.units import unit_hash

TOOLS_POLICY_VERSION = 1
# Stage k teaches the requests of CURRICULUM[0..k] together.
CURRICULUM: tuple[tuple[str, ...], ...] = (("easy",), ("medium", "no_call"), ("hard",))
SPLIT_SALT = "stdlib_tools:split"  # the salt builtin:stdlib_tools hashes request texts with


def _default_training() -> TrainingSettings:
    # ``steps`` is the whole budget, cut short on purpose: see the module docstring.
    return TrainingSettings(steps=1000, batch_size=16, seq_len=320, learning_rate=1e-3, warmup_steps=30,
                            vocab_size=1024)


@dataclass(frozen=True)
class ToolsPolicySettings:
    """What determines the tool policy (all of it goes into the cache key)."""

    training: TrainingSettings = field(default_factory=_default_training)
    stage_shares: tuple[float, ...] = (0.25, 0.35, 0.40)  # of ``training.steps``, per curriculum stage
    data_draws: int = 6  # source seeds 0..data_draws-1 whose train-split requests are taught
    max_heldout_fraction: float = 0.2  # requests held out at any fraction up to this are never taught
    copy_friendly_tokenizer: bool = True  # a value is the same tokens in the request and in the call
    copy_warmup_steps: int = 2000  # steps on random token runs shown twice, before the curriculum


@dataclass(frozen=True)
class Example:
    """One taught request: the prompt text, the answer text (with its leading space), its difficulty."""

    prompt: str
    answer: str
    difficulty: str


def taught_examples(settings: ToolsPolicySettings) -> list[Example]:
    """The train-split requests of ``data_draws`` source draws, each request once, in draw order."""
    from prefgen.methods.tool_use.stdlib_tools import load_rows
    from prefgen.methods.tool_use.task import reference_answer

    examples, seen = [], set()
    for seed in range(settings.data_draws):
        for row in load_rows(seed=seed, heldout_fraction=0.0):
            request = row["task"]["request"]
            if request in seen or is_held_out(request, settings.max_heldout_fraction):
                continue
            seen.add(request)
            answer = " " + reference_answer(row["task"]["ground_truth"])
            examples.append(Example(row["prompt"], answer, row["task"]["difficulty"]))
    return examples


def is_held_out(request: str, heldout_fraction: float) -> bool:
    """Whether ``builtin:stdlib_tools`` puts ``request`` in the held-out split at this fraction."""
    return unit_hash(request, SPLIT_SALT) < heldout_fraction


def stage_plan(settings: ToolsPolicySettings) -> list[int]:
    """The number of steps of each curriculum stage (they add up to ``training.steps``)."""
    if len(settings.stage_shares) != len(CURRICULUM):
        raise ValueError(f"stage_shares: expected {len(CURRICULUM)} shares, got {len(settings.stage_shares)}")
    steps = [int(settings.training.steps * share) for share in settings.stage_shares]
    steps[-1] = settings.training.steps - sum(steps[:-1])
    return steps


def tools_policy_dir(settings: ToolsPolicySettings | None = None, *, force: bool = False,
                     log: Callable[[str], None] | None = None, quiet: bool = False) -> Path:
    """The tool policy's model directory, training it first (about 8 minutes on 2 cores) if not cached."""
    settings = settings or ToolsPolicySettings()
    examples = taught_examples(settings)
    key = content_hash({"examples": [asdict(e) for e in examples], "settings": asdict(settings),
                        "version": TOOLS_POLICY_VERSION})[:16]
    return cached_model_dir(f"tools-policy-{key}", lambda out: _train(out, settings, examples, quiet),
                            force=force, log=log)


def _train(out_dir: Path, settings: ToolsPolicySettings, examples: list[Example], quiet: bool) -> None:
    import torch

    from prefgen.demo.tiny_model import build_tiny_llama

    started, started_cpu = time.perf_counter(), time.process_time()
    t = settings.training
    build_tiny_llama(out_dir, [e.prompt + e.answer for e in examples], vocab_size=t.vocab_size,
                     hidden_size=t.hidden_size, num_layers=t.num_layers, num_heads=t.num_heads,
                     intermediate_size=t.intermediate_size, max_position_embeddings=t.max_position_embeddings,
                     seed=t.seed, copy_friendly_tokenizer=settings.copy_friendly_tokenizer)
    losses = _fine_tune(out_dir, settings, examples, quiet)
    heldout = evaluate_policy(out_dir, heldout_rows())
    metadata = {
        "kind": "prefgen demo tool policy",
        "version": TOOLS_POLICY_VERSION,
        "settings": asdict(settings),
        "taught": {"requests": len(examples), "fingerprint": content_hash([asdict(e) for e in examples])[:16]},
        "final_loss": sum(losses[-20:]) / max(1, len(losses[-20:])),
        "heldout_greedy": heldout,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - started_cpu, 1),
        "torch_threads": torch.get_num_threads(),
    }
    # Written last: its presence marks a complete model (cached_model_dir checks it).
    (out_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def _fine_tune(out_dir: Path, settings: ToolsPolicySettings, examples: list[Example], quiet: bool) -> list[float]:
    """SFT through the curriculum stages with a progress bar; saves the model, returns the losses."""
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM, get_cosine_schedule_with_warmup

    from prefgen.progress import StageTracker

    t = settings.training
    tokenizer = AutoTokenizer.from_pretrained(out_dir)
    model = LlamaForCausalLM.from_pretrained(out_dir, dtype=torch.float32)
    encoded = [_encode(e, tokenizer, t.seq_len) for e in examples]
    torch.manual_seed(t.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=t.learning_rate, weight_decay=t.weight_decay,
                                  betas=(0.9, 0.95))
    schedule = get_cosine_schedule_with_warmup(optimizer, t.warmup_steps, t.steps + settings.copy_warmup_steps)
    rng, losses = random.Random(t.seed), []
    model.train()
    tracker = StageTracker(quiet=quiet)
    with tracker.live():
        if settings.copy_warmup_steps:  # no empty bar when the warm-up is off
            bar = tracker.stage("tools policy copy warm-up", settings.copy_warmup_steps)
        for _ in range(settings.copy_warmup_steps):
            batch = [_repeated_run(rng, len(tokenizer)) for _ in range(t.batch_size)]
            losses.append(_step(model, optimizer, schedule, batch, tokenizer.pad_token_id))
            bar.advance()
        for stage, steps in enumerate(stage_plan(settings)):
            taught = {d for level in CURRICULUM[: stage + 1] for d in level}
            pool = [ids for ids, e in zip(encoded, examples) if e.difficulty in taught]
            bar = tracker.stage(f"tools policy SFT {'+'.join(CURRICULUM[stage])}", steps)
            for _ in range(steps):
                losses.append(_step(model, optimizer, schedule, rng.sample(pool, min(t.batch_size, len(pool))),
                                    tokenizer.pad_token_id))
                bar.advance()
    model.eval()
    model.save_pretrained(out_dir)
    return losses


def _repeated_run(rng: random.Random, vocab_size: int) -> tuple[list[int], int]:
    """Random ordinary tokens shown twice; the loss is on the second showing (copying only)."""
    run = [rng.randrange(len(SPECIAL_TOKENS), vocab_size) for _ in range(rng.randint(4, 24))]
    return run + run, len(run) + 1


def _encode(example: Example, tokenizer, max_len: int) -> tuple[list[int], int]:
    """Token ids of prompt + answer + end of sequence (cut to ``max_len``), and where the answer starts."""
    prompt = tokenizer.encode(example.prompt, add_special_tokens=False)
    answer = tokenizer.encode(example.answer, add_special_tokens=False) + [tokenizer.eos_token_id]
    return (prompt + answer)[-max_len:], max(0, len(prompt) - max(0, len(prompt) + len(answer) - max_len))


def _step(model, optimizer, schedule, batch: list[tuple[list[int], int]], pad_id: int) -> float:
    """One optimiser step on a batch; the loss covers the answer tokens only (prompt tokens masked)."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, answer_start) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, answer_start : len(ids)] = torch.tensor(ids[answer_start:])
        mask[row, : len(ids)] = 1
    loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def heldout_rows() -> list[dict[str, Any]]:
    """The held-out requests of ``builtin:stdlib_tools`` at its defaults: what the demo measures."""
    from prefgen.methods.tool_use.stdlib_tools import load_rows

    return [row for row in load_rows() if row["split"] == "heldout"]


def evaluate_policy(model_dir: Path, rows: list[dict[str, Any]], max_new_tokens: int = 48) -> dict[str, Any]:
    """Greedy call accuracy on ``rows`` by BFCL's checker: overall, per difficulty, and error counts."""
    from prefgen.demo.training import greedy_answers
    from prefgen.methods.tool_use.reward import ToolCallReward

    reward = ToolCallReward()
    answers = greedy_answers(model_dir, [row["prompt"] for row in rows], max_new_tokens=max_new_tokens)
    buckets: dict[str, dict[str, int]] = {}
    errors: dict[str, int] = {}
    for row, answer in zip(rows, answers):
        details = reward.score_text(answer, row["task"]).details
        for bucket in ("all", row["task"]["difficulty"]):
            stats = buckets.setdefault(bucket, {"requests": 0, "valid": 0})
            stats["requests"] += 1
            stats["valid"] += bool(details["valid"])
        if not details["valid"]:
            errors[str(details["error"])] = errors.get(str(details["error"]), 0) + 1
    accuracy = {name: stats["valid"] / stats["requests"] for name, stats in buckets.items()}
    return {"accuracy": accuracy["all"], "by_difficulty": accuracy, "counts": buckets, "errors": errors}
