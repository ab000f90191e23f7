"""The only module that imports vLLM: one engine that turns requests into completions.

An instance lives inside a Ray actor (see ``prefgen.executors.engine_pool``). It renders chat
prompts with the model's chat template, checks lengths against the context window (a too-long
prompt becomes an error row, not a crash) and hands the whole batch to ``LLM.generate`` at once so
the engine can schedule many requests together.
"""

from __future__ import annotations

import logging
from typing import Any

from prefgen.generation.requests import GenerationRequest

log = logging.getLogger(__name__)

# On CPU, vLLM reads gpu_memory_utilization as the share of RAM kept for the KV cache; its
# default (0.92) fails at start, a quarter leaves room for everything else.
CPU_MEMORY_UTILIZATION = 0.25


def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


class VLLMGenerator:
    """Holds a ``vllm.LLM`` and serves batches of :class:`GenerationRequest`."""

    def __init__(self, model_path: str, max_model_len: int, engine: dict[str, Any], chat_template: str = "auto"):
        from vllm import LLM

        utilization = engine.get("gpu_memory_utilization")
        on_cpu = _on_cpu()
        if utilization is None:
            utilization = CPU_MEMORY_UTILIZATION if on_cpu else 0.9
        extra = dict(engine.get("extra", {}))
        if on_cpu:
            # vLLM's CPU backend fails ("CPU Generator does not use offset") when a seeded
            # request's prefill is split across steps; every prefgen request is seeded.
            extra.setdefault("enable_chunked_prefill", False)
            extra.setdefault("max_num_batched_tokens", max(max_model_len, 4096))
        self.max_model_len = max_model_len
        self.use_chat_template = chat_template == "auto"
        self.llm = LLM(
            model=model_path,
            max_model_len=max_model_len,
            tensor_parallel_size=engine.get("tensor_parallel_size", 1),
            dtype=engine.get("dtype", "auto"),
            enforce_eager=engine.get("enforce_eager", True),
            gpu_memory_utilization=utilization,
            **extra,
        )
        self.tokenizer = self.llm.get_tokenizer()

    def ready(self) -> bool:
        """Lets a caller wait for the engine to finish loading."""
        return True

    def generate(self, requests: list[GenerationRequest] | Any) -> Any:
        """Sample every request; return one dict per request with ``completions`` or ``error``."""
        run_on_engine = getattr(requests, "run_on_engine", None)
        if run_on_engine is not None:  # a strategy's own engine work (tree expansions, log-probabilities)
            return run_on_engine(self)
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        results: list[dict[str, Any]] = [{} for _ in requests]
        batch, params, positions = [], [], []
        for i, request in enumerate(requests):
            try:
                token_ids = self._tokenize(request.prompt)
            except Exception as exc:  # a prompt the tokenizer or template rejects
                results[i] = {"error": f"prompt_error: {type(exc).__name__}: {exc}"[:500]}
                continue
            budget = self.max_model_len - len(token_ids)
            if budget <= 0:
                results[i] = {"error": f"prompt_too_long: {len(token_ids)} tokens, context is {self.max_model_len}"}
                continue
            sampling = dict(request.sampling)
            sampling["max_tokens"] = min(sampling["max_tokens"], budget)
            batch.append(TokensPrompt(prompt_token_ids=token_ids))
            params.append(SamplingParams(**sampling))
            positions.append(i)
        outputs = self.llm.generate(batch, params, use_tqdm=False) if batch else []
        for i, output in zip(positions, outputs):
            results[i] = {"completions": [_completion(c) for c in output.outputs]}
        return results

    def _tokenize(self, prompt: str | list[dict[str, str]]) -> list[int]:
        if isinstance(prompt, str):
            return self.tokenizer.encode(prompt)
        if self.use_chat_template and getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
            return self.tokenizer.encode(text, add_special_tokens=False)
        joined = "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt) + "\n\nassistant:"
        return self.tokenizer.encode(joined)


def _completion(output: Any) -> dict[str, Any]:
    return {
        "text": output.text,
        "num_tokens": len(output.token_ids),
        "finish_reason": output.finish_reason or "",
        "cumulative_logprob": output.cumulative_logprob,
    }
