"""The judge's requests of one shard as one engine job, retries included.

:class:`JudgeJob` travels through the engine pool like a generation shard; the engine runs its
``run_on_engine`` with itself (see ``VLLMGenerator.generate``). Every judgement of the shard goes
to the engine in a single batched call; the replies that hold no verdict are asked again (a fresh
seed, ``retry_temperature``) in one further call per retry, inside the same job, so a shard costs
one round trip to the pool however many replies need a retry. A judgement that still has no
verdict after its retries is *failed*, with its last problem: the reward makes it null, never 0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from prefgen.generation.requests import GenerationRequest
from prefgen.hashing import content_hash
from prefgen.methods.judge.rubric import Vote, read_vote


@dataclass(frozen=True)
class JudgeRequest:
    """One judgement to make: chat messages, and a stable key (it seeds the sampling)."""

    key: str
    messages: list[dict[str, str]]


@dataclass
class Judgement:
    """What came back for one request: its votes, and what it cost."""

    votes: list[Vote] = field(default_factory=list)
    attempts: int = 0  # engine requests made for it (1 + retries used)
    tokens: int = 0  # reply tokens the judge generated for it
    replies: list[str] = field(default_factory=list)  # every reply, in order (for reading a failure)
    problem: str = ""  # the last reason a reply gave no verdict, or the engine's error
    seconds: float = 0.0  # its share of the job's engine time


@dataclass
class JudgeSettings:
    """How the judge samples and reads replies."""

    mode: str  # "pointwise" or "pairwise"
    scale: tuple[float, float]
    votes: int  # verdicts wanted per request
    retries: int  # further requests for replies without a verdict
    max_tokens: int
    temperature: float
    retry_temperature: float
    seed: int
    pattern: str | None = None  # the verdict's regex (one group); None: the last [[...]]


@dataclass(frozen=True)
class JudgeJob:
    """A shard's judgements, run by the engine holding the judge model."""

    requests: list[JudgeRequest]
    settings: JudgeSettings

    def run_on_engine(self, generator: Any) -> list[Judgement]:
        """Called inside the engine with the loaded engine: sample, read, retry the unreadable."""
        started = time.perf_counter()
        results = [Judgement() for _ in self.requests]
        todo = list(range(len(self.requests)))
        for attempt in range(self.settings.retries + 1):
            if not todo:
                break
            asked = [self._request(i, attempt, self.settings.votes - len(results[i].votes)) for i in todo]
            for i, reply in zip(todo, generator.generate(asked)):
                self._read(results[i], reply)
            todo = [i for i in todo if len(results[i].votes) < self.settings.votes and _retryable(results[i])]
        share = (time.perf_counter() - started) / max(1, len(results))
        for result in results:
            result.seconds = share
        return results

    def _request(self, index: int, attempt: int, wanted: int) -> GenerationRequest:
        request = self.requests[index]
        temperature = self.settings.temperature if attempt == 0 else self.settings.retry_temperature
        seed = int(content_hash(f"{self.settings.seed}:{request.key}:{attempt}")[:8], 16) & 0x7FFFFFFF
        # vLLM samples n > 1 only with a temperature: greedy asks once per request
        sampling = {"n": wanted if temperature > 0 else 1, "temperature": temperature,
                    "max_tokens": self.settings.max_tokens, "seed": seed}
        return GenerationRequest(request.key, request.messages, sampling)

    def _read(self, result: Judgement, reply: dict[str, Any]) -> None:
        result.attempts += 1
        if "error" in reply:  # the prompt cannot be judged (too long for the context): not retried
            result.problem = f"engine: {reply['error']}"
            return
        for completion in reply["completions"]:
            result.tokens += completion.get("num_tokens", 0)
            result.replies.append(completion["text"])
            vote = read_vote(completion["text"], self.settings.mode, self.settings.scale, self.settings.pattern)
            if vote.kind is None:
                result.problem = vote.problem
            elif len(result.votes) < self.settings.votes:
                result.votes.append(vote)


def _retryable(result: Judgement) -> bool:
    return not result.problem.startswith("engine:")
