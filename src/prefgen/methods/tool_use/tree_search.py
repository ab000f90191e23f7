"""The ``tree_search`` generation strategy: iTool's deficiency selection and tree search as a plug-in.

For the prompts a run has to generate:

- **held-out prompts** get ``sampling.n`` plain samples (``sampling.temperature``, ...), so a
  training loop measures the policy, not the search;
- **train prompts** are ranked by the perplexity of their ground-truth answer under the policy
  (prompt log-probabilities, one batched engine call over *all* train prompts of the run, so a
  resumed run selects the same ones) and the hardest ``hardest_fraction`` is kept, separately
  for examples with and without a call (:mod:`prefgen.methods.tool_use.deficiency`);
- the **selected** ones are searched (:func:`prefgen.methods.tool_use.tree.search`, all prompts of a chunk
  in lockstep, leaves scored with the run's reward through the context's scorer), or with
  ``flat: true`` get plain samples with the same token budget (the flat baseline);
- the **others** get one greedy sample marked ``unselected``: they are not searched, but they are
  on disk (a rerun reuses them) and the ``tree`` pairing counts them.

Every candidate's ``sampling["tree"]`` says what it is: ``mode`` (``tree``, ``flat``,
``unselected``; held-out samples have none), the ground truth's ``perplexity``, and for tree
nodes the node's ``path`` (child indices from the root, ``"0.2"``), ``prefix_chars`` (the
answer's first characters that its parent holds), ``step``, ``depth``, ``prior``, ``visits``,
``value_sum`` and the prompt's ``search_tokens``. A tree candidate is one node completed to a
whole answer. The ``tree`` pairing strategy (:mod:`prefgen.methods.tool_use.tree_pairing`) rebuilds the
trees from these fields.

Token budget of the flat baseline, per selected prompt: by default the tokens the search itself
generates for that prompt (flat mode runs the same seeded search, keeps only its token count and
discards its nodes: the baseline costs a search, and gets exactly the tree's budget); or a fixed
``flat_token_budget``. Flat samples are drawn in rounds until a prompt's samples reach its budget
(the sample that crosses it is kept); each records its ``token_budget``, each tree node its
prompt's ``search_tokens``.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

from pydantic import Field

from prefgen.generation.candidates import candidate_id, to_candidates
from prefgen.generation.engine_jobs import AnswerLogprobsJob, ExpandJob, ExpandRequest
from prefgen.generation.requests import GenerationRequest, build_requests, prompt_seed
from prefgen.generation.sampling import SamplingParams, SamplingStrategy
from prefgen.hashing import content_hash
from prefgen.methods.tool_use.deficiency import (
    DEFAULT_HARD_FRACTION,
    AnswerLikelihood,
    Selection,
    select_hardest,
)
from prefgen.methods.tool_use.task import reference_answer
from prefgen.methods.tool_use.tree import Node, SearchResult, SearchSettings, mark_candidate, search
from prefgen.records import Candidate, Prompt

log = logging.getLogger(__name__)


class TreeSearchParams(SearchSettings):
    """The ``generate:`` keys of ``tree_search``: iTool's search settings plus these."""

    seed: int = Field(0, description="Seeds the search's expansions (plain samples: sampling.seed).")
    hardest_fraction: float = Field(
        DEFAULT_HARD_FRACTION, ge=0, le=1, description="Share of train prompts searched (hardest first)."
    )
    answer_format: Literal["python", "json"] = Field(
        "python", description="How the ground-truth answer is written for its perplexity."
    )
    answer_prefix: str = Field(" ", description="Text between the prompt and the ground-truth answer.")
    sampling: SamplingParams = Field(
        default_factory=lambda: SamplingParams(max_tokens=64),
        description="Plain samples: held-out prompts (what the loop measures) and the flat baseline.",
    )
    flat: bool = Field(False, description="Flat baseline: plain samples with the tree's token budget, no search.")
    flat_token_budget: int | None = Field(
        None, ge=1, description="Fixed tokens per selected prompt in flat mode (default: the search's own, measured)."
    )
    flat_max_samples: int = Field(64, ge=2, description="Most flat samples per prompt.")


class TreeSearchStrategy(SamplingStrategy):
    """Deficiency selection, then a lockstep tree search (or the flat baseline) per chunk."""

    Params = TreeSearchParams

    def run(self, chunks):
        if not chunks:
            return
        engines = self.context.engines()
        train = [p for p in (self.context.prompts or [p for c in chunks for p in c]) if p.split == "train"]
        selection = self._select(engines, train)
        for chunk in chunks:
            yield chunk, self._chunk_candidates(engines, chunk, selection)

    # --- deficiency selection -------------------------------------------------------------
    def _select(self, engines, train: list[Prompt]) -> Selection:
        """The hardest train prompts by ground-truth perplexity under the policy."""
        examples, items, missing = [], [], {}
        for prompt in train:
            truth = prompt.task.get("ground_truth")
            if not isinstance(truth, list):
                missing[prompt.id] = "no task.ground_truth"
                continue
            answer = self.params.answer_prefix + reference_answer(truth, self.params.answer_format)
            items.append((_engine_prompt(prompt), answer))
            examples.append((prompt.id, bool(truth)))
        logprobs = _one(engines, AnswerLogprobsJob(items)) if items else []
        selection = select_hardest(
            [AnswerLikelihood(key, has_call, lps) for (key, has_call), lps in zip(examples, logprobs)],
            self.params.hardest_fraction,
        )
        selection.skipped.update(missing)
        log.info(
            "deficiency selection: %d of %d train prompts searched (hardest %.0f%% with and without a call), %d skipped",
            len(selection.kept), len(train), 100 * self.params.hardest_fraction, len(selection.skipped),
        )
        return selection

    # --- one chunk ------------------------------------------------------------------------
    def _chunk_candidates(self, engines, chunk: list[Prompt], selection: Selection) -> list[Candidate]:
        kept = set(selection.kept)
        heldout = [p for p in chunk if p.split != "train"]
        selected = [p for p in chunk if p.split == "train" and p.id in kept]
        others = [p for p in chunk if p.split == "train" and p.id not in kept]
        candidates = self._plain(engines, heldout, others, selection)
        if selected:
            make = self._flat if self.params.flat else self._searched
            candidates += make(engines, selected, selection)
        return candidates

    def _plain(self, engines, heldout: list[Prompt], others: list[Prompt], selection: Selection) -> list[Candidate]:
        """Held-out prompts' samples and one greedy sample per unselected train prompt, in one call."""
        plain = self.params.sampling
        batch = build_requests(heldout, self._sampling(plain.n, plain.temperature))
        batch += build_requests(others, self._sampling(1, 0.0))
        if not batch:
            return []
        results = _one(engines, batch)
        fingerprint = self.context.model.fingerprint
        unselected = {p.id for p in others}
        candidates = []
        for request, result in zip(batch, results):
            for candidate in to_candidates(request, result, fingerprint):
                if candidate.prompt_id in unselected:
                    candidate.sampling = self._mark(candidate.sampling, "unselected", candidate, selection)
                candidates.append(candidate)
        return candidates

    def _sampling(self, n: int, temperature: float) -> SamplingParams:
        return self.params.sampling.model_copy(update={"n": n, "temperature": temperature})

    def _mark(self, sampling: dict, mode: str, candidate: Candidate, selection: Selection, **more: Any) -> dict[str, Any]:
        perplexity = selection.perplexities.get(candidate.prompt_id)
        finite = perplexity if perplexity is not None and math.isfinite(perplexity) else None
        return mark_candidate(sampling, mode, perplexity=finite, **more)

    # --- the search -----------------------------------------------------------------------
    def _grow(self, engines, prompts: list[Prompt]) -> tuple[SearchResult, list[int]]:
        """Every prompt's tree grown in lockstep, and the tokens each prompt's search generated."""
        tokens = [0] * len(prompts)

        def expand(requests):
            outputs = _one(engines, ExpandJob(requests, self.params.seed))
            for request, samples in zip(requests, outputs):
                tokens[request.owner] += sum(len(sample.token_texts) for sample in samples)
            return outputs

        def reward(items):
            leaves = [(prompts[i], self._leaf(prompts[i], k, text)) for k, (i, text) in enumerate(items)]
            return [scored.score for scored in self.context.scorer.score(leaves)]

        result = search([_engine_prompt(p) for p in prompts], expand, reward, self.params)
        log.info(
            "tree search: %d prompts, %d engine calls, %d answers scored, %.0f tokens per prompt",
            len(prompts), result.engine_calls, result.answers_scored, sum(tokens) / max(1, len(prompts)),
        )
        return result, tokens

    def _searched(self, engines, prompts: list[Prompt], selection: Selection) -> list[Candidate]:
        """Each node of each prompt's tree that was completed to an answer, as a candidate."""
        result, tokens = self._grow(engines, prompts)
        candidates = []
        for prompt, root, used in zip(prompts, result.roots, tokens):
            candidates += self._tree_candidates(prompt, root, used, selection) or [self._failed(prompt)]
        return candidates

    def _leaf(self, prompt: Prompt, index: int, text: str) -> Candidate:
        fingerprint = self.context.model.fingerprint
        return Candidate(id=f"leaf-{index}", prompt_id=prompt.id, sample_index=index, text=text, model=fingerprint)

    def _tree_candidates(self, prompt: Prompt, root: Node, used: int, selection: Selection) -> list[Candidate]:
        candidates = []
        key = content_hash(self.key_content())[:16]
        for path, node in _walk_with_paths(root):
            if node.answer is None:
                continue
            index = len(candidates)
            candidate = Candidate(
                id=candidate_id(prompt.id, index, self.context.model.fingerprint, {"tree": path, "key": key}),
                prompt_id=prompt.id, sample_index=index, text=node.answer, num_tokens=node.answer_tokens,
                finish_reason="stop" if node.answer_finished else "length", model=self.context.model.fingerprint,
            )
            candidate.sampling = self._mark(
                {}, "tree", candidate, selection, path=path, prefix_chars=len(node.prefix), step=node.step,
                depth=node.depth, prior=node.prior, visits=node.visits, value_sum=node.value_sum,
                terminal=node.terminal, search_tokens=used,
            )
            candidates.append(candidate)
        return candidates

    def _failed(self, prompt: Prompt) -> Candidate:
        """A prompt whose tree grew no answer (no room left in the context, say): one error row."""
        model = self.context.model.fingerprint
        return Candidate(
            id=candidate_id(prompt.id, 0, model, {"tree": "failed"}), prompt_id=prompt.id, sample_index=0,
            text="", model=model, error="tree_search: no expansion fitted in the context or none was sampled",
        )

    # --- the flat baseline ----------------------------------------------------------------
    def _flat(self, engines, prompts: list[Prompt], selection: Selection) -> list[Candidate]:
        """Plain samples, drawn in rounds until each prompt has used its token budget."""
        if self.params.flat_token_budget is not None:
            budgets = [self.params.flat_token_budget] * len(prompts)
        else:
            budgets = [max(1, used) for used in self._grow(engines, prompts)[1]]  # the tree's, measured
        budget = {p.id: b for p, b in zip(prompts, budgets)}
        samples: dict[str, list[Candidate]] = {p.id: [] for p in prompts}
        used = {p.id: 0 for p in prompts}
        for round_index in range(self.params.flat_max_samples):
            todo = [p for p in prompts if used[p.id] < budget[p.id] and len(samples[p.id]) < self.params.flat_max_samples]
            if not todo:
                break
            requests = [self._flat_request(p, budget[p.id] - used[p.id], len(samples[p.id]), round_index) for p in todo]
            for request, drawn in zip(requests, self._flat_samples(engines, requests, round_index)):
                pid = request.prompt_id
                for candidate in drawn:
                    if used[pid] >= budget[pid] and not candidate.error:
                        break  # budget reached: the rest of this round is not kept
                    used[pid] = budget[pid] if candidate.error else used[pid] + candidate.num_tokens
                    samples[pid].append(self._renumbered(candidate, len(samples[pid]), selection, budget[pid]))
        return [c for p in prompts for c in samples[p.id]]

    def _flat_request(self, prompt: Prompt, remaining: int, have: int, round_index: int) -> GenerationRequest:
        plain = self.params.sampling
        n = min(max(1, math.ceil(remaining / plain.max_tokens)), self.params.flat_max_samples - have)
        sampling = build_requests([prompt], self._sampling(n, plain.temperature))[0].sampling
        sampling["seed"] = prompt_seed(plain.seed, f"{prompt.id}:flat:{round_index}")
        return GenerationRequest(prompt.id, _engine_prompt(prompt), sampling)

    def _flat_samples(self, engines, requests: list[GenerationRequest], round_index: int) -> list[list[Candidate]]:
        """Each flat request's samples: plain ones, or with ``answer_start`` continuations of it
        drawn as the search draws its own (so both arms start their answers alike)."""
        start = self.params.answer_start
        if not start:
            results = _one(engines, requests)
        else:
            expand = [ExpandRequest(r.prompt, start, r.sampling["n"], r.sampling["max_tokens"],
                                    r.sampling["temperature"], i, tuple(r.sampling["stop"])) for i, r in enumerate(requests)]
            seed = prompt_seed(self.params.sampling.seed, f"flat:{round_index}")
            results = [_as_sampled(start, continuations) for continuations in _one(engines, ExpandJob(expand, seed))]
            requests = [GenerationRequest(r.prompt_id, r.prompt, {**r.sampling, "answer_start": start}) for r in requests]
        return [to_candidates(r, result, self.context.model.fingerprint) for r, result in zip(requests, results)]

    def _renumbered(self, candidate: Candidate, index: int, selection: Selection, budget: int) -> Candidate:
        """A flat sample numbered among its prompt's samples of every round."""
        model = self.context.model.fingerprint
        return candidate.model_copy(update={
            "sample_index": index,
            "id": candidate_id(candidate.prompt_id, index, model, {**candidate.sampling, "flat": True}),
            "sampling": self._mark(candidate.sampling, "flat", candidate, selection, token_budget=budget),
        })


def _one(engines, batch):
    """Run one batch on the engine pool and return its result."""
    ((_, result),) = list(engines.map_unordered([batch]))
    return result


def _as_sampled(start: str, continuations: list) -> dict[str, Any]:
    """Continuations of ``start`` as a sampling result (what :func:`to_candidates` reads)."""
    if not continuations:
        return {"error": "prompt_too_long: no room left in the context"}
    return {"completions": [{"text": start + c.text, "num_tokens": len(c.token_texts),
                             "finish_reason": "stop" if c.finished else "length"} for c in continuations]}


def _engine_prompt(prompt: Prompt) -> str | list[dict[str, str]]:
    return [m.model_dump() for m in prompt.prompt] if prompt.is_chat else prompt.prompt


def _walk_with_paths(root: Node):
    """(path, node) in breadth-first order; the root's path is ``""``, its second child's ``"1"``."""
    queue = [("", root)]
    while queue:
        path, node = queue.pop(0)
        yield path, node
        queue += [(f"{path}.{k}" if path else str(k), child) for k, child in enumerate(node.children)]
