"""The ``refusal`` reward's metrics of each policy in a training loop (held-out questions).

Knowledge labels (known / unknown / unanswerable) are decided once, from policy 0's held-out
samples with the reward's knowledge rule, and every later policy is judged on the same buckets:
the question is whether training changed what the policy does on questions it did (not) know.
The rates are those of :func:`prefgen.methods.refusal.metrics.refusal_metrics`; ``ap`` is R-Tuning's
average precision of correctness against confidence over the committed (and hedged) answers.

Confidence needs log-probabilities of fixed continuations (the answer after the question, then
" sure." and " unsure." after R-Tuning's question). They come from a :data:`ContinuationScorer`:
in a loop, :class:`EngineContinuationScorer` asks the policy's vLLM engines for prompt
log-probabilities; tests pass any function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prefgen.methods.refusal.knowledge import Knowledge, label_prompts, sample_kind
from prefgen.methods.refusal.metrics import heldout_report, r_tuning_confidence
from prefgen.methods.refusal.records import SURE_QUESTION
from prefgen.records import Prompt, Scored, group_by_prompt

# (context, continuation) pairs -> the log-probability of each continuation token after its context
ContinuationScorer = Callable[[Sequence[tuple[str, str]]], list[list[float]]]

REPORTED = (
    "answer_rate", "accuracy_answered", "accuracy_known",
    "refusal_rate_known", "refusal_rate_unknown", "refusal_rate_unanswerable",
    "hallucination_rate_unknown", "hallucination_rate_unanswerable", "ap",
    "questions_known", "questions_unknown", "questions_unanswerable",
)
LABELS_MEMO = "refusal_labels"
JUDGED_KINDS = ("correct", "wrong", "hedged")


def confidence_items(prompt: str, answer: str, chat: bool = False) -> list[tuple[str, str]]:
    """What R-Tuning's confidence of one answer needs scored: the answer, " sure.", " unsure.".

    ``chat``: ``prompt`` is a chat prompt rendered by the model's template up to the assistant
    turn, which the answer opens directly (no space); R-Tuning's question follows the answer
    inside that turn, as it follows it in a text prompt.
    """
    spaced = answer.strip() if chat else " " + answer.strip()
    asked = f"{prompt}{spaced}. {SURE_QUESTION} I am"
    return [(prompt, spaced), (asked, " sure."), (asked, " unsure.")]


def sample_confidences(prompts: dict[str, Prompt], scored: Sequence[Scored],
                       scorer: ContinuationScorer) -> dict[str, float]:
    """R-Tuning's confidence of every committed or hedged sample, by sample id.

    Chat prompts need a scorer that renders them (``chat_text``, as
    :class:`EngineContinuationScorer` does with the policy's template); without one they are left
    out. All continuations go to the scorer in one call. A sample whose continuations got no
    log-probabilities (did not fit the context) is left out.
    """
    contexts = {pid: _context(prompt, scorer) for pid, prompt in prompts.items()}
    judged = [s for s in scored if sample_kind(s) in JUDGED_KINDS and contexts.get(s.prompt_id)]
    items = []
    for sample in judged:
        text, chat = contexts[sample.prompt_id]
        items += confidence_items(text, sample.details["answer"], chat=chat)
    logprobs = scorer(items) if items else []
    confidences = {}
    for i, sample in enumerate(judged):
        answer, sure, unsure = logprobs[3 * i : 3 * i + 3]
        if answer and sure and unsure:
            confidences[sample.id] = r_tuning_confidence(answer, sum(sure), sum(unsure))
    return confidences


def _context(prompt: Prompt, scorer: ContinuationScorer) -> tuple[str, bool] | None:
    """The text a prompt's answers continue, and whether it is a rendered chat (None: cannot render)."""
    if isinstance(prompt.prompt, str):
        return prompt.prompt, False
    chat_text = getattr(scorer, "chat_text", None)
    if chat_text is None:
        return None
    return chat_text([m.model_dump() for m in prompt.prompt]), True


def policy0_labels(heldout: Any, rule: str, threshold: float, uncertain_share: float) -> dict[str, Knowledge]:
    """Each held-out question's label from policy 0's samples, computed once and kept in its memo."""
    first = heldout.first or heldout
    if LABELS_MEMO not in first.memo:
        by_prompt = group_by_prompt(first.scored)
        first.memo[LABELS_MEMO] = label_prompts(list(first.prompts.values()), by_prompt, rule, threshold,
                                                uncertain_share)
    return first.memo[LABELS_MEMO]


def refusal_loop_metrics(heldout: Any, labels: dict[str, Knowledge],
                         scorer: ContinuationScorer | None) -> dict[str, float | int | None]:
    """The reported metrics (:data:`REPORTED`) of one policy; ``ap`` is None without a scorer."""
    prompts = {pid: p for pid, p in heldout.prompts.items() if pid in labels}
    # a question policy 0 never saw has no label: it is not in the buckets every policy shares
    samples = [s for s in heldout.scored if s.prompt_id in prompts]
    confidences = sample_confidences(prompts, samples, scorer) if scorer is not None else None
    report = heldout_report(list(prompts.values()), samples, labels, confidences)
    for label in ("known", "unknown", "unanswerable"):
        report[f"questions_{label}"] = sum(labels[pid].label == label for pid in prompts)
    return {name: report.get(name) for name in REPORTED}


class EngineContinuationScorer:
    """Continuation log-probabilities from a policy's vLLM engines (prompt log-probabilities).

    Each (context, continuation) is sent as one prompt ``context + continuation`` asking for one
    token and the prompt's log-probabilities; the continuation's tokens are those beyond the
    tokens of ``context`` (true for byte-level BPE when the continuation starts with a space).
    """

    def __init__(self, engines: Any, tokenizer: Any, batch_size: int = 256):
        self.engines = engines
        self.tokenizer = tokenizer
        self.batch_size = batch_size

    def chat_text(self, messages: list[dict[str, str]]) -> str:
        """Chat messages as the policy's template writes them, up to the assistant turn's start."""
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def __call__(self, items: Sequence[tuple[str, str]]) -> list[list[float]]:
        from prefgen.generation.requests import GenerationRequest

        sampling = {"n": 1, "temperature": 0.0, "max_tokens": 1, "prompt_logprobs": 0, "seed": 0}
        requests = [GenerationRequest(str(i), context + continuation, sampling)
                    for i, (context, continuation) in enumerate(items)]
        batches = [requests[i : i + self.batch_size] for i in range(0, len(requests), self.batch_size)]
        results: list[list[float]] = [[] for _ in items]
        for index, outputs in self.engines.map_unordered(batches):
            for request, output in zip(batches[index], outputs):
                i = int(request.prompt_id)
                context_tokens = len(self.tokenizer.encode(items[i][0]))
                logprobs = output.get("prompt_logprobs") or []
                results[i] = [lp for lp in logprobs[context_tokens:] if lp is not None]
        return results


def engine_scorer(heldout: Any) -> EngineContinuationScorer | None:
    """A scorer on the engines of the policy that made ``heldout`` (None outside a loop)."""
    if heldout.policy_engines is None:
        return None
    from transformers import AutoTokenizer

    handle = heldout.policy_engines
    return EngineContinuationScorer(handle.engines(), AutoTokenizer.from_pretrained(handle.model_dir))
