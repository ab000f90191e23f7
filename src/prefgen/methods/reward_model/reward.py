"""``reward_model``: each answer scored by a sequence-classification model (a reward model).

The model (a local directory, a hub id or a named model) runs with vLLM's pooling runner on its
own engines; a shard's answers are classified in one engine call. The conversation (the prompt's
messages, or the prompt as a user message, then the answer as the assistant's) is rendered with
the model's chat template, as reward models are trained; ``template: text`` joins plain text for
a model without one. The score is the classifier's raw output (its logit), unless ``activation``.
An answer the model cannot read (too long, rejected by its template) is null with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from prefgen.config import EngineConfig, ModelConfig
from prefgen.hashing import content_hash
from prefgen.methods.reward_model.job import ClassifyJob
from prefgen.records import Candidate, Prompt
from prefgen.rewards.base import Reward, RewardParams, RewardResult


class RewardModelParams(RewardParams):
    model: str = Field(description="The reward model: a local directory, a hub id or a named model.")
    max_model_len: int = Field(2048, gt=0, description="Longest conversation (prompt and answer) in tokens.")
    engine: EngineConfig = Field(default_factory=EngineConfig, description="Its engines (pooling runner).")
    template: Literal["chat", "text"] = Field("chat", description="chat: the model's chat template; text: joined.")
    label: int = Field(0, ge=0, description="Which output is the score (reward models have one).")
    activation: bool = Field(False, description="False: the raw logit; True: the model's activation (sigmoid/softmax).")


class RewardModelReward(Reward):
    """Scores answers with a sequence classifier on the engine pool."""

    name = "reward_model"
    Params = RewardModelParams

    def __init__(self, params: RewardModelParams | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        self.engines = None  # attached by the run before scoring

    def engine_model(self) -> ModelConfig:
        engine = self.params.engine.model_copy(deep=True)
        engine.extra = {**engine.extra, "runner": "pooling"}  # vLLM's runner for classifiers
        # "never": the engine does not template (the job renders the whole conversation itself)
        return ModelConfig(path=self.params.model, max_model_len=self.params.max_model_len,
                           chat_template="never", engine=engine)

    def check(self) -> list[str]:
        from prefgen.generation.model_ref import check_model_path

        return [problem.replace("model.path", "reward.model") for problem in check_model_path(self.params.model)]

    def fingerprint(self) -> str:
        from prefgen.generation.model_ref import fingerprint_model

        local = Path(self.params.model)
        model = fingerprint_model(local) if local.is_dir() else self.params.model
        return content_hash({"reward": self.name, "params": self.params.model_dump(mode="json"), "model": model})

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        if self.engines is None:
            raise RuntimeError("the reward model has no engine: model-backed rewards score in the run's scoring stage")
        job = ClassifyJob([conversation(p, c) for p, c in items], self.params.template, self.params.label,
                          self.params.activation)
        return [
            RewardResult(out["score"], {"reward_model": self.params.model}) if "score" in out
            else RewardResult(None, {}, f"reward_model: {out.get('error', 'no result')}")
            for out in self.engines.run(job)
        ]


def conversation(prompt: Prompt, candidate: Candidate) -> list[dict[str, str]]:
    """The prompt's messages (or the prompt as the user's message) and the answer as the assistant's."""
    if prompt.is_chat:
        messages = [m.model_dump() for m in prompt.prompt]
    else:
        messages = [{"role": "user", "content": prompt.prompt}]
    return messages + [{"role": "assistant", "content": candidate.text}]
