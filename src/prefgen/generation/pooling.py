"""Pooling models on an engine: a sequence classifier's outputs for token sequences, in one call.

An engine started with ``runner: pooling`` (in ``engine.extra``) holds a classifier instead of a
generator; a reward model's job (see ``prefgen.methods.reward_model``) calls :func:`classify`
inside the engine with the loaded ``vllm.LLM``. Like ``vllm_engine``, one of the places that
talk to vLLM; ``vllm`` is imported only inside the function.
"""

from __future__ import annotations

from typing import Any


def classify(llm: Any, sequences: list[list[int]], activation: bool = False) -> list[list[float]]:
    """Each token sequence's classifier outputs (``LLM.classify``), all in one engine call.

    ``activation`` False gives the raw logits (how reward models are read); True the model's own
    activation (sigmoid for one label, softmax for several)."""
    from vllm import PoolingParams
    from vllm.inputs import TokensPrompt

    if not sequences:
        return []
    prompts = [TokensPrompt(prompt_token_ids=ids) for ids in sequences]
    outputs = llm.classify(prompts, pooling_params=PoolingParams(use_activation=activation), use_tqdm=False)
    return [[float(p) for p in output.outputs.probs] for output in outputs]
