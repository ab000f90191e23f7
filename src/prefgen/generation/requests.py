"""What the generation stage asks an engine for, and how seeds stay stable.

Each prompt gets its own seed derived from the run's seed and the prompt id, so a prompt's
samples do not depend on which shard or engine it lands in: the basis of resumable, incremental
and reproducible runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from prefgen.generation.strategy import StrategyParams
from prefgen.hashing import content_hash
from prefgen.records import Prompt


class SamplingParams(StrategyParams):
    """The ``generate:`` keys of sampling (vLLM's SamplingParams, and the run's seed)."""

    n: int = Field(4, ge=1, description="Samples per prompt.")
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(-1, ge=-1)
    max_tokens: int = Field(128, gt=0)
    stop: list[str] = Field(default_factory=list)
    seed: int = 0


@dataclass
class GenerationRequest:
    """One prompt to sample ``sampling['n']`` completions for."""

    prompt_id: str
    prompt: str | list[dict[str, str]]
    sampling: dict[str, Any]


def sampling_params(config: SamplingParams) -> dict[str, Any]:
    """The sampling parameters shared by every request (vLLM's SamplingParams keywords)."""
    return {
        "n": config.n,
        "temperature": config.temperature,
        "top_p": config.top_p,
        "top_k": config.top_k,
        "max_tokens": config.max_tokens,
        "stop": list(config.stop),
    }


def prompt_seed(run_seed: int, prompt_id: str) -> int:
    """A 31-bit seed for one prompt, stable across runs, shards and machines."""
    return int(content_hash(f"{run_seed}:{prompt_id}")[:8], 16) & 0x7FFFFFFF


def round_seed(run_seed: int, prompt_id: str, round: int) -> int:
    """The prompt's seed in re-sampling round ``round`` (0: the first sampling, :func:`prompt_seed`)."""
    if round == 0:
        return prompt_seed(run_seed, prompt_id)
    return int(content_hash(f"{run_seed}:{prompt_id}:resample:{round}")[:8], 16) & 0x7FFFFFFF


def build_requests(prompts: list[Prompt], config: SamplingParams, round: int = 0) -> list[GenerationRequest]:
    """One request per prompt, each with its own seed (derived from the re-sampling round too)."""
    shared = sampling_params(config)
    requests = []
    for prompt in prompts:
        text = [m.model_dump() for m in prompt.prompt] if prompt.is_chat else prompt.prompt
        seed = round_seed(config.seed, prompt.id, round)
        requests.append(GenerationRequest(prompt.id, text, {**shared, "seed": seed}))
    return requests
