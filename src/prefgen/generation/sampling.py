"""The sampling strategy: ``n`` samples per prompt from vLLM engines, each prompt with its own seed."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from prefgen.generation.strategy import GenerationStrategy, ModelIdentity, StrategyParams


class SamplingParams(StrategyParams):
    """The ``generate:`` keys of sampling (vLLM's SamplingParams, and the run's seed)."""

    n: int = Field(4, ge=1, description="Samples per prompt.")
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(-1, ge=-1)
    max_tokens: int = Field(128, gt=0)
    stop: list[str] = Field(default_factory=list)
    seed: int = 0


class SamplingStrategy(GenerationStrategy):
    """Samples with the engine pool; engines start only if a chunk needs sampling."""

    Params = SamplingParams
    resamples = True  # round k's seeds derive from (seed, prompt id, k)

    @classmethod
    def identify(cls, params: SamplingParams, config: Any) -> ModelIdentity:
        from prefgen.config import ConfigError
        from prefgen.generation.model_ref import ModelNotFoundError, resolve_model

        try:
            ref = resolve_model(config.model.path)
        except ModelNotFoundError as exc:
            raise ConfigError("preflight", [str(exc)]) from None
        return ModelIdentity(config.model.path, ref.path, ref.fingerprint)

    def run(self, chunks):
        if not chunks:
            return
        from prefgen.generation.candidates import to_candidates
        from prefgen.generation.requests import build_requests

        engines = self.context.engines()
        fingerprint = self.context.model.fingerprint
        batches = [build_requests(chunk, self.params, self.round) for chunk in chunks]
        first_index = self.round * self.params.n  # round k's samples follow the earlier rounds'
        for index, results in engines.map_unordered(batches):
            requests = batches[index]
            yield chunks[index], [
                c for req, res in zip(requests, results) for c in to_candidates(req, res, fingerprint, first_index)
            ]
