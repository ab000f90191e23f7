"""R-Tuning's confidence from a real (tiny) causal LM."""

from __future__ import annotations

import math

import pytest

from prefgen.methods.refusal.confidence import answer_confidences, continuation_logprobs, load_scorer
from prefgen.methods.refusal.metrics import p_sure
from prefgen.methods.refusal.records import SURE_QUESTION


@pytest.fixture(scope="module")
def scorer(tiny_model):
    return load_scorer(str(tiny_model))


def test_continuation_logprobs_match_the_models_loss(scorer):
    import torch

    model, tokenizer = scorer
    context, continuation = "The fox number 3 runs", " over the hill"
    logprobs = continuation_logprobs(model, tokenizer, context, continuation)
    ids = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    n = len(logprobs)
    assert 0 < n < len(ids)
    labels = torch.tensor([[-100] * (len(ids) - n) + ids[-n:]])
    with torch.no_grad():
        loss = model(input_ids=torch.tensor([ids]), labels=labels).loss.item()
    assert sum(logprobs) == pytest.approx(-loss * n, rel=1e-4)
    assert continuation_logprobs(model, tokenizer, context, "") == []


def test_confidence_combines_answer_and_p_sure(scorer):
    model, tokenizer = scorer
    prompt, answer = "Question: Where does the fox run?\nAnswer:", "over the hill"
    (confidence,) = answer_confidences(model, tokenizer, [prompt], [answer])
    tokens = continuation_logprobs(model, tokenizer, prompt, " " + answer)
    asked = f"{prompt} {answer}. {SURE_QUESTION} I am"
    sure = p_sure(sum(continuation_logprobs(model, tokenizer, asked, " sure.")),
                  sum(continuation_logprobs(model, tokenizer, asked, " unsure.")))
    assert confidence == pytest.approx(0.5 * math.exp(sum(tokens) / len(tokens)) + 0.5 * sure)
    assert 0 < confidence < 1
