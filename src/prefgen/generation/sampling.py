"""The sampling strategy: ``n`` samples per prompt from vLLM engines, each prompt with its own seed."""

from __future__ import annotations

from typing import Any

from prefgen.generation.requests import SamplingParams
from prefgen.generation.strategy import GenerationStrategy, ModelIdentity


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
