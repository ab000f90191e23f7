"""Engine jobs a method sends through the engine pool: continuations with per-token
log-probabilities, and the log-probabilities of given answers, one batched engine call each.

:class:`TreeExpander` wraps a loaded ``vllm.LLM`` (for example ``VLLMGenerator.llm`` inside an
engine actor): ``expand`` turns every request (continue ``prompt + prefix``) into continuations
with per-token texts and log-probabilities in a single ``LLM.generate`` call (what a tree search
expands nodes with), and ``answer_logprobs`` scores given answers from prompt log-probabilities
(perplexity, confidence). :class:`ExpandJob` and :class:`AnswerLogprobsJob`
carry such requests through an engine pool (Ray actors or the in-process engine): the engine runs
a batch that has a ``run_on_engine`` method with itself instead of sampling it. Like ``vllm_engine``, this module is one of the
places that talk to vLLM; ``vllm`` is imported only inside functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefgen.hashing import content_hash


@dataclass
class Continuation:
    """What the engine returned for one sample: per-token texts and log-probabilities."""

    token_texts: list[str]
    logprobs: list[float]
    finished: bool  # the answer ended (end of sequence or a stop string), not cut by the budget

    @property
    def text(self) -> str:
        return "".join(self.token_texts)


def cut_at_stop(sample: Continuation, stop: tuple[str, ...]) -> Continuation:
    """``sample`` ended before the first of the ``stop`` strings in its text (which is dropped).

    vLLM cuts a sample's text at a stop string but its token ids run on to the token holding it;
    the per-token texts are cut the same way, so that they still join to the answer's text.
    """
    text = sample.text
    ends = [text.find(s) for s in stop if s and s in text]
    if not ends:
        return sample
    end, texts, logprobs, length = min(ends), [], [], 0
    for token, logprob in zip(sample.token_texts, sample.logprobs):
        if length >= end:
            break
        texts.append(token[: end - length])
        logprobs.append(logprob)
        length += len(token)
    return Continuation(texts, logprobs, finished=True)


@dataclass(frozen=True)
class ExpandRequest:
    """Continue ``prompt + prefix`` with ``n`` samples of at most ``max_tokens`` tokens."""

    prompt: str
    prefix: str
    n: int
    max_tokens: int
    temperature: float
    owner: int = 0  # index of the prompt whose tree asked (for per-prompt token accounting)
    stop: tuple[str, ...] = ()  # strings that end the answer (cut off, as vLLM cuts a sample's text)


class TreeExpander:
    """Serves expansion and scoring requests from one loaded engine."""

    def __init__(self, llm: Any, max_model_len: int, seed: int = 0):
        self.llm = llm
        self.tokenizer = llm.get_tokenizer()
        self.max_model_len = max_model_len
        self.seed = seed
        self.engine_calls = 0

    def expand(self, requests: list[ExpandRequest]) -> list[list[Continuation]]:
        """Sample every request in one engine call; a request with no room left gets no samples."""
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        results: list[list[Continuation]] = [[] for _ in requests]
        batch, params, positions = [], [], []
        for i, request in enumerate(requests):
            ids = self._prompt_ids(request.prompt, request.prefix)
            budget = min(request.max_tokens, self.max_model_len - len(ids))
            if budget <= 0:
                continue
            seed = int(content_hash(f"{self.seed}:{request.prompt}:{request.prefix}")[:8], 16) & 0x7FFFFFFF
            # vLLM refuses n > 1 with greedy sampling: ask once, copy the one answer.
            n = 1 if request.temperature == 0 else request.n
            batch.append(TokensPrompt(prompt_token_ids=ids))
            params.append(
                SamplingParams(n=n, temperature=request.temperature, max_tokens=budget, logprobs=0, seed=seed,
                               stop=list(request.stop))
            )
            positions.append(i)
        if batch:
            self.engine_calls += 1
            for i, output in zip(positions, self.llm.generate(batch, params, use_tqdm=False)):
                samples = [cut_at_stop(self._continuation(sample), requests[i].stop) for sample in output.outputs]
                results[i] = samples * requests[i].n if len(samples) == 1 else samples
        return results

    def answer_logprobs(self, items: list[tuple[str, str]]) -> list[list[float]]:
        """For each (prompt, answer), the log-probabilities of the answer's tokens, in one call.

        An answer that does not fit in the context gets an empty list (its perplexity is
        undefined and deficiency selection skips it).
        """
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        results: list[list[float]] = [[] for _ in items]
        batch, spans = [], []
        for i, (prompt, answer) in enumerate(items):
            prompt_ids = self._prompt_ids(prompt, "")
            answer_ids = self.tokenizer.encode(answer, add_special_tokens=False)
            if not answer_ids or len(prompt_ids) + len(answer_ids) >= self.max_model_len:
                continue
            batch.append(TokensPrompt(prompt_token_ids=prompt_ids + answer_ids))
            spans.append((i, len(prompt_ids), answer_ids))
        if batch:
            self.engine_calls += 1
            params = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
            for (i, start, answer_ids), output in zip(
                spans, self.llm.generate(batch, params, use_tqdm=False)
            ):
                scored = output.prompt_logprobs[start:]
                results[i] = [position[token].logprob for position, token in zip(scored, answer_ids)]
        return results

    def _prompt_ids(self, prompt: str | list[dict[str, str]], prefix: str) -> list[int]:
        if isinstance(prompt, list):  # chat messages: the model's template, then the reply so far
            text = self.tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
            ids = self.tokenizer.encode(text, add_special_tokens=False)
        else:
            ids = self.tokenizer.encode(prompt)
        return ids + (self.tokenizer.encode(prefix, add_special_tokens=False) if prefix else [])

    def _continuation(self, sample: Any) -> Continuation:
        ids = list(sample.token_ids)
        logprobs = [position[token].logprob for position, token in zip(sample.logprobs, ids)]
        return Continuation(self._token_texts(ids), logprobs, finished=sample.finish_reason == "stop")

    def _token_texts(self, ids: list[int]) -> list[str]:
        """Each token's share of the decoded text, so that the shares join to the whole text.

        Prefixes are decoded whole: a token holding part of a multi-byte character gets ``""``
        and the token completing it gets the character.
        """
        texts, stable = [], ""
        for end in range(1, len(ids) + 1):
            decoded = self.tokenizer.decode(ids[:end], skip_special_tokens=True)
            if decoded.endswith("\ufffd") and end < len(ids):
                texts.append("")
                continue
            texts.append(decoded[len(stable) :])
            stable = decoded
        return texts


@dataclass(frozen=True)
class ExpandJob:
    """Expansion requests sent through an engine pool like a shard; run by the engine holding the model."""

    requests: list[ExpandRequest]
    seed: int = 0

    def run_on_engine(self, generator: Any) -> list[list[Continuation]]:
        """Called inside the engine (see ``VLLMGenerator.generate``) with the loaded engine."""
        return TreeExpander(generator.llm, generator.max_model_len, self.seed).expand(self.requests)


@dataclass(frozen=True)
class AnswerLogprobsJob:
    """(prompt, answer) pairs whose answer-token log-probabilities an engine computes."""

    items: list[tuple[Any, str]]

    def run_on_engine(self, generator: Any) -> list[list[float]]:
        """Called inside the engine (see ``VLLMGenerator.generate``) with the loaded engine."""
        return TreeExpander(generator.llm, generator.max_model_len).answer_logprobs(self.items)
