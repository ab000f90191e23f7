"""iTool's Monte-Carlo tree search over call steps, run for all prompts in lockstep.

A node is a partial answer: its parent's text plus one step (see :mod:`prefgen.methods.tool_use.steps`).
Each iteration, every tree selects a leaf by UCT, asks for ``expansions`` continuations of it,
turns the first step of each into a child (prior = exp(mean token log-probability)), completes
each new child to a whole answer, scores the answers, and adds each reward and a visit to the
child and all its ancestors. The engine is reached only through ``expand_fn``, which receives
the requests of *all* trees at once: one batched call for the expansions and one for the
completions per iteration, instead of the reference code's one request per node.

Differences from the reference code, on purpose: step texts are concatenated exactly as
generated (no inserted spaces), a node is expanded once, and leaves are scored as whole answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from prefgen.generation.engine_jobs import Continuation, ExpandRequest, cut_at_stop
from prefgen.methods.tool_use.steps import DEFAULT_MARKS, split_steps


class SearchSettings(BaseModel):
    """How the trees grow; defaults are those of iTool's released code."""

    model_config = ConfigDict(extra="forbid")
    expansions: int = Field(3, ge=1, description="Continuations sampled when a node is expanded.")
    temperature: float = Field(1.5, ge=0, description="Sampling temperature of expansions.")
    max_step_tokens: int = Field(50, ge=1, description="Token budget of one expansion continuation.")
    fragments_per_step: int = Field(2, ge=1, description="Punctuation fragments that make one step.")
    max_depth: int = Field(3, ge=1, description="Steps below the root before a node is no longer expanded.")
    iterations: int = Field(5, ge=1, description="Selection-expansion-backpropagation rounds per prompt.")
    exploration: float = Field(1.0, ge=0, description="UCT constant c weighting the prior term.")
    simulation_steps: int = Field(
        2, ge=1, description="A leaf is completed with at most simulation_steps x max_step_tokens tokens."
    )
    completion_temperature: float = Field(0.0, ge=0, description="Temperature completing leaves (0: greedy).")
    stop: list[str] = Field(
        default_factory=list,
        description="Strings that end an answer, cut off as in plain sampling (e.g. '\\n': a call list is one line).",
    )
    answer_start: str = Field(
        "", max_length=200,
        description="Text every searched answer starts with (the root's text): '[' makes a policy that mostly "
        "answers in prose write call lists. Held-out samples never get it (the loop measures the policy alone).",
    )


class TreeSettings(SearchSettings):
    """Search settings and the pair filters of :mod:`prefgen.methods.tool_use.pairs` (iTool's defaults)."""

    pair_min_gap: float = Field(0.1, ge=0, description="Least mean-value gap between chosen and rejected.")
    pair_max_overlap: float = Field(0.95, ge=0, le=1, description="Most word overlap of the two steps.")
    pair_min_chosen: float = Field(-0.3, description="Least mean value of the chosen child.")


ExpandFn = Callable[[list[ExpandRequest]], list[list[Continuation]]]
RewardFn = Callable[[list[tuple[int, str]]], list[float | None]]


@dataclass(eq=False)
class Node:
    """A partial answer: ``prefix`` (text before this node's step) plus ``step``."""

    prefix: str
    step: str
    prior: float = 1.0
    depth: int = 0
    terminal: bool = False
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    visits: int = 0
    value_sum: float = 0.0
    answer: str | None = None  # the whole answer this node was completed to
    reward: float | None = None
    step_tokens: int = 0  # tokens of ``step``
    answer_tokens: int = 0  # generated tokens of ``answer`` (the steps above it, its own, the completion)
    answer_finished: bool = False  # the answer ended by itself, not cut by the token budget

    @property
    def text(self) -> str:
        return self.prefix + self.step

    @property
    def mean_value(self) -> float:
        return self.value_sum / self.visits if self.visits else 0.0


def uct(node: Node, exploration: float) -> float:
    """value/(visits+1) + c * prior * sqrt(ln N_parent / (visits+1)), as in the reference code."""
    parent_visits = node.parent.visits if node.parent is not None else node.visits
    bonus = math.sqrt(math.log(max(1, parent_visits)) / (node.visits + 1))
    return node.value_sum / (node.visits + 1) + exploration * node.prior * bonus


def select_leaf(root: Node, exploration: float) -> Node:
    """Descend by the highest UCT (first child on ties) to a node without children."""
    node = root
    while node.children:
        node = max(node.children, key=lambda child: uct(child, exploration))
    return node


def backpropagate(node: Node, reward: float) -> None:
    """Add ``reward`` and one visit to ``node`` and every ancestor up to the root."""
    while node is not None:
        node.visits += 1
        node.value_sum += reward
        node = node.parent


@dataclass
class SearchResult:
    """The grown trees (one per prompt) and how many batched calls the search made."""

    roots: list[Node]
    engine_calls: int = 0
    reward_calls: int = 0
    answers_scored: int = 0


def search(
    prompts: Sequence[str], expand_fn: ExpandFn, reward_fn: RewardFn, settings: SearchSettings
) -> SearchResult:
    """Grow one tree per prompt for ``settings.iterations`` lockstep iterations.

    ``expand_fn`` gets every tree's requests in one list and returns, per request, its samples.
    ``reward_fn`` gets ``(prompt index, whole answer)`` pairs and returns one score each (None:
    unscorable, counted as 0).
    """
    result = SearchResult(roots=[Node(prefix=settings.answer_start, step="") for _ in prompts])
    for _ in range(settings.iterations):
        leaves = [select_leaf(root, settings.exploration) for root in result.roots]
        grow = [i for i, leaf in enumerate(leaves) if _expandable(leaf, settings)]
        new_nodes = _expand(prompts, [leaves[i] for i in grow], grow, expand_fn, settings, result)
        grown = set(grow)
        _complete(prompts, new_nodes, expand_fn, settings, result)
        _score(new_nodes, reward_fn, result)
        for _, node in new_nodes:
            backpropagate(node, node.reward)
        for i, leaf in enumerate(leaves):
            if i not in grown and leaf.reward is not None:
                backpropagate(leaf, leaf.reward)  # a finished or deepest leaf: its answer is known
    return result


def _expandable(leaf: Node, settings: SearchSettings) -> bool:
    return not leaf.terminal and leaf.depth < settings.max_depth


def _expand(prompts, leaves, indices, expand_fn, settings, result) -> list[tuple[int, Node]]:
    """One batched call: children for every selected leaf of every tree."""
    if not leaves:
        return []
    requests = [
        ExpandRequest(
            prompts[i], leaf.text, settings.expansions, settings.max_step_tokens, settings.temperature, i,
            tuple(settings.stop),
        )
        for i, leaf in zip(indices, leaves)
    ]
    outputs = _call(expand_fn, requests, result)
    new_nodes = []
    for i, leaf, samples in zip(indices, leaves, outputs):
        for sample in samples:
            child = _child_from(leaf, sample, settings)
            if child is not None:
                leaf.children.append(child)
                new_nodes.append((i, child))
    return new_nodes


def _child_from(parent: Node, sample: Continuation, settings: SearchSettings) -> Node | None:
    steps = split_steps(sample.token_texts, sample.logprobs, settings.fragments_per_step, DEFAULT_MARKS)
    if not steps:
        # An empty continuation that ended is a finished answer; one cut at zero tokens is nothing.
        return Node(parent.text, "", 1.0, parent.depth + 1, True, parent) if sample.finished else None
    first = steps[0]
    terminal = sample.finished and len(steps) == 1
    node = Node(parent.text, first.text, first.prior, parent.depth + 1, terminal, parent)
    node.step_tokens = first.end - first.start
    return node


def _path_tokens(node: Node) -> int:
    """Tokens of the steps from the root down to ``node``."""
    total = 0
    while node is not None:
        total += node.step_tokens
        node = node.parent
    return total


def _complete(prompts, new_nodes, expand_fn, settings, result) -> None:
    """One batched call: each new, unfinished node continued to a whole answer."""
    todo = [(i, node) for i, node in new_nodes if not node.terminal]
    for _, node in new_nodes:
        if node.terminal:
            node.answer, node.answer_tokens, node.answer_finished = node.text, _path_tokens(node), True
    if not todo:
        return
    budget = settings.simulation_steps * settings.max_step_tokens
    requests = [
        ExpandRequest(prompts[i], node.text, 1, budget, settings.completion_temperature, i, tuple(settings.stop))
        for i, node in todo
    ]
    for (_, node), samples in zip(todo, _call(expand_fn, requests, result)):
        completion = samples[0] if samples else Continuation([], [], False)
        node.answer = node.text + completion.text
        node.answer_tokens = _path_tokens(node) + len(completion.token_texts)
        node.answer_finished = completion.finished


def _score(new_nodes, reward_fn, result) -> None:
    if not new_nodes:
        return
    scores = reward_fn([(i, node.answer) for i, node in new_nodes])
    if len(scores) != len(new_nodes):
        raise RuntimeError(f"reward_fn returned {len(scores)} scores for {len(new_nodes)} answers")
    result.reward_calls += 1
    result.answers_scored += len(new_nodes)
    for (_, node), score in zip(new_nodes, scores):
        node.reward = float(score) if score is not None else 0.0


def _call(
    expand_fn: ExpandFn, requests: list[ExpandRequest], result: SearchResult
) -> list[list[Continuation]]:
    outputs = expand_fn(requests)
    if len(outputs) != len(requests):
        raise RuntimeError(f"expand_fn returned {len(outputs)} outputs for {len(requests)} requests")
    # vLLM's engines cut at the stop strings already; any other expand_fn is held to them here
    outputs = [[cut_at_stop(sample, request.stop) for sample in samples] for request, samples in zip(requests, outputs)]
    result.engine_calls += 1
    return outputs


# Where a candidate came from in the search travels in ``Candidate.sampling[TREE_KEY]``, the field
# every candidate has for what made it (sampling settings, seeds), so it is written and read with
# the candidates and no record type changes for one method.
TREE_KEY = "tree"


def mark_candidate(sampling: dict[str, Any], mode: str, **place: Any) -> dict[str, Any]:
    """A candidate's ``sampling`` with its place in the search: ``mode`` (``tree``, ``flat``,
    ``greedy``, ``unselected``) and what the mode records (path, step, visits, value, perplexity...)."""
    return {**sampling, TREE_KEY: {"mode": mode, **place}}


def tree_info(sample: Any) -> dict[str, Any]:
    """What the tree search recorded about a candidate ({} for other strategies' samples)."""
    info = sample.sampling.get(TREE_KEY) if isinstance(sample.sampling, dict) else None
    return info if isinstance(info, dict) else {}
