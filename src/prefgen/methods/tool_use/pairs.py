"""Step-level preference pairs from grown search trees.

At every node with two or more visited children, the child with the best mean value is paired
against the one with the worst, kept when the gap, the word overlap of the two steps and the
chosen value pass the thresholds (iTool's filters; the reference compares summed values, means
are fairer to children visited unequally). Chosen and rejected share the node's text as prefix
and differ from the next step on; each is completed to a whole answer (the best-rewarded answer
under the chosen child, the worst under the rejected one), because DPO appends an end-of-sequence
token to both and a pair cut mid-call would teach the policy to stop mid-call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prefgen.methods.tool_use.tree import Node, TreeSettings


@dataclass(frozen=True)
class StepPair:
    """A pair sharing ``prefix``; ``chosen``/``rejected`` are the whole answers' rest after it."""

    prompt_index: int
    prefix: str
    chosen: str
    rejected: str
    chosen_step: str
    rejected_step: str
    chosen_value: float
    rejected_value: float
    chosen_reward: float
    rejected_reward: float
    depth: int
    chosen_leaf: Node | None = field(default=None, compare=False, repr=False)  # the nodes whose answers the
    rejected_leaf: Node | None = field(default=None, compare=False, repr=False)  # two sides complete


def word_overlap(a: str, b: str) -> float:
    """Shared words over all words of the two texts (1.0 when both are empty)."""
    words_a, words_b = set(a.split()), set(b.split())
    if not words_a and not words_b:
        return 1.0
    return len(words_a & words_b) / len(words_a | words_b)


def extract_pairs(roots: list[Node], settings: TreeSettings) -> list[StepPair]:
    """Every pair that passes the filters, tree by tree, parents before children.

    A pair whose texts (prefix, chosen, rejected) another node of the same tree already gave is
    left out: sibling nodes that sampled the same step often end in the same two answers.
    """
    pairs, seen = [], set()
    for index, root in enumerate(roots):
        for node in _walk(root):
            pair = _pair_at(index, node, settings)
            key = pair and (index, pair.prefix, pair.chosen, pair.rejected)
            if key and key not in seen:
                seen.add(key)
                pairs.append(pair)
    return pairs


def _walk(root: Node) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop(0)
        yield node
        stack.extend(node.children)


def _pair_at(index: int, node: Node, settings: TreeSettings) -> StepPair | None:
    children = [child for child in node.children if child.visits > 0]
    if len(children) < 2:
        return None
    best = max(children, key=lambda c: c.mean_value)
    worst = min(reversed(children), key=lambda c: c.mean_value)
    if (
        best.mean_value - worst.mean_value < settings.pair_min_gap
        or best.mean_value < settings.pair_min_chosen
    ):
        return None
    if word_overlap(best.step, worst.step) > settings.pair_max_overlap:
        return None
    chosen_leaf, rejected_leaf = _answered(best, max), _answered(worst, min)
    if chosen_leaf is None or rejected_leaf is None or chosen_leaf.reward <= rejected_leaf.reward:
        return None
    prefix = node.text
    return StepPair(
        index,
        prefix,
        chosen_leaf.answer[len(prefix) :],
        rejected_leaf.answer[len(prefix) :],
        best.step,
        worst.step,
        best.mean_value,
        worst.mean_value,
        chosen_leaf.reward,
        rejected_leaf.reward,
        node.depth,
        chosen_leaf,
        rejected_leaf,
    )


def _answered(child: Node, pick) -> Node | None:
    """The node under ``child`` (itself included) whose whole answer has the max/min reward."""
    scored = [n for n in _walk(child) if n.answer is not None and n.reward is not None]
    return pick(scored, key=lambda n: n.reward) if scored else None


def dpo_row(pair: StepPair, prompt: str) -> dict:
    """A TRL DPO row for a text prompt: the shared prefix joins the prompt, both sides are whole.

    Everything the two answers share is context, so the preference falls on the first differing
    step and what follows from it (Step-DPO's layout).
    """
    return {
        "prompt": prompt + pair.prefix,
        "chosen": pair.chosen,
        "rejected": pair.rejected,
        "chosen_score": pair.chosen_reward,
        "rejected_score": pair.rejected_reward,
        "details": {
            "prefix": pair.prefix,
            "chosen_step": pair.chosen_step,
            "rejected_step": pair.rejected_step,
            "chosen_value": pair.chosen_value,
            "rejected_value": pair.rejected_value,
            "depth": pair.depth,
        },
    }
