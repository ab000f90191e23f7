"""R-Tuning's confidence of an answer, computed with a causal LM (transformers).

confidence = 0.5 x answer confidence + 0.5 x p(sure) (:func:`prefgen.methods.refusal.metrics.r_tuning_confidence`):

- answer confidence: the geometric mean of the answer tokens' probabilities after the prompt;
- p(sure): after the prompt, the answer and ``. Are you sure you accurately answered the
  question based on your internal knowledge? I am``, the probability of the whole continuation
  `` sure.`` against `` unsure.`` (R-Tuning's code compares first sub-tokens only).

Continuation tokens are those of ``context + continuation`` beyond the tokens of ``context``,
which holds for byte-level BPE when the continuation starts with a space.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefgen.methods.refusal.metrics import r_tuning_confidence
from prefgen.methods.refusal.records import SURE_QUESTION


def continuation_logprobs(model: Any, tokenizer: Any, context: str, continuation: str) -> list[float]:
    """Log-probability of each token of ``continuation`` after ``context``."""
    import torch

    context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    if len(full_ids) <= len(context_ids):
        return []
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([full_ids])).logits[0]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    positions = range(len(context_ids), len(full_ids))
    return [logprobs[i - 1, full_ids[i]].item() for i in positions]


def answer_confidences(model: Any, tokenizer: Any, prompts: Sequence[str], answers: Sequence[str]) -> list[float]:
    """R-Tuning's confidence of each (prompt, answer); ``answers`` are the judged spans."""
    confidences = []
    for prompt, answer in zip(prompts, answers):
        spaced = " " + answer.strip()
        token_logprobs = continuation_logprobs(model, tokenizer, prompt, spaced)
        asked = f"{prompt}{spaced}. {SURE_QUESTION} I am"
        sure = sum(continuation_logprobs(model, tokenizer, asked, " sure."))
        unsure = sum(continuation_logprobs(model, tokenizer, asked, " unsure."))
        confidences.append(r_tuning_confidence(token_logprobs, sure, unsure))
    return confidences


def load_scorer(model_dir: str) -> tuple[Any, Any]:
    """A model (eval mode, float32) and its tokenizer for :func:`answer_confidences`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    return model, tokenizer
