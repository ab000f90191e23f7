"""A test-only generation strategy that can sample a prompt again, without a model.

Named by import path (``resampling_toy:ToySampling``) like any user's plug-in. A prompt's task
field ``tied_rounds`` says how many rounds give it identical samples (no pair can be made from
them); later rounds give samples of clearly different lengths. Each round's texts also depend on
a seed derived from (seed, prompt id, round), as the sampling strategy's do, so a round's samples
are fresh and reproducible. ``sampled.jsonl`` beside ``log_dir`` (if set) records what was sampled.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from pydantic import Field

from prefgen.generation.candidates import candidate_id
from prefgen.generation.requests import round_seed
from prefgen.generation.strategy import GenerationStrategy, ModelIdentity, StrategyParams
from prefgen.records import Candidate


class ToyParams(StrategyParams):
    n: int = Field(2, ge=1)
    seed: int = 0
    log_dir: str | None = None


class ToySampling(GenerationStrategy):
    Params = ToyParams
    uses_model = False
    resamples = True

    @classmethod
    def identify(cls, params, config) -> ModelIdentity:
        return ModelIdentity("toy", None, "toy-model")

    def key_content(self):
        return self.params.model_dump(mode="json", exclude={"log_dir"})

    def run(self, chunks):
        for chunk in chunks:
            candidates = [c for prompt in chunk for c in self._samples(prompt)]
            self._log(chunk)
            yield chunk, candidates

    def _samples(self, prompt) -> list[Candidate]:
        seed = round_seed(self.params.seed, prompt.id, self.round)
        rng = random.Random(seed)
        tied = self.round < int(prompt.task.get("tied_rounds", 0))
        first = self.round * self.params.n
        samples = []
        for index in range(first, first + self.params.n):
            text = "tie" if tied else "x" * (10 + 20 * (index - first) + rng.randint(0, 5))
            sampling = {"seed": seed}
            samples.append(
                Candidate(
                    id=candidate_id(prompt.id, index, "toy-model", sampling), prompt_id=prompt.id,
                    sample_index=index, text=text, num_tokens=len(text), model="toy-model", sampling=sampling,
                )
            )
        return samples

    def _log(self, chunk) -> None:
        if self.params.log_dir:
            with open(Path(self.params.log_dir) / "sampled.jsonl", "a", encoding="utf-8") as handle:
                handle.writelines(json.dumps({"round": self.round, "prompt": p.prompt}) + "\n" for p in chunk)
