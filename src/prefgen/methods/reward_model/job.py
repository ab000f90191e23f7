"""A shard's (prompt, answer) conversations classified by a sequence-classification model in
one engine call (``LLM.classify`` of vLLM's pooling runner, through
:func:`prefgen.generation.pooling.classify`). Run inside the engine, like any job with
``run_on_engine``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefgen.generation.pooling import classify


@dataclass(frozen=True)
class ClassifyJob:
    """Conversations (chat messages ending with the answer) to score; one score each.

    ``template``: "chat" renders each conversation with the model's own chat template (what a
    reward model was trained on); "text" joins prompt and answer with a blank line.
    """

    conversations: list[list[dict[str, str]]]
    template: str = "chat"
    label: int = 0  # the output read as the score (reward models have one)
    activation: bool = False  # False: the raw logit, as reward models are read

    def run_on_engine(self, generator: Any) -> list[dict[str, Any]]:
        """Called inside the engine: ``{"score": x}`` or ``{"error": why}`` per conversation."""
        results: list[dict[str, Any]] = [{} for _ in self.conversations]
        batch, positions = [], []
        for i, conversation in enumerate(self.conversations):
            try:
                ids = self._token_ids(generator.tokenizer, conversation)
            except Exception as exc:  # noqa: BLE001 - a conversation the template rejects fails alone
                results[i] = {"error": f"template_error: {type(exc).__name__}: {exc}"[:300]}
                continue
            if len(ids) > generator.max_model_len:
                results[i] = {"error": f"too_long: {len(ids)} tokens, context is {generator.max_model_len}"}
                continue
            batch.append(ids)
            positions.append(i)
        for i, probs in zip(positions, classify(generator.llm, batch, self.activation)):
            results[i] = {"score": probs[self.label]} if self.label < len(probs) else {
                "error": f"the model has {len(probs)} outputs, label {self.label} asked"}
        return results

    def _token_ids(self, tokenizer: Any, conversation: list[dict[str, str]]) -> list[int]:
        if self.template == "chat" and getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=False)
            return tokenizer.encode(text, add_special_tokens=False)
        return tokenizer.encode("\n\n".join(m["content"] for m in conversation))
