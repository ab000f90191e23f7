"""Pairing strategy ``tree``: step-level pairs from the trees the ``tree_search`` strategy grew.

The ``tree_search`` generation strategy writes every node it completed to a whole answer as a
candidate, its place in the tree in ``sampling["tree"]`` (see
:mod:`prefgen.methods.tool_use.tree_search`). This strategy rebuilds each prompt's tree from those
candidates, with the scores the run's reward gave them, and takes iTool's pairs
(:func:`prefgen.methods.tool_use.pairs.extract_pairs`): at every node with two or more visited children,
the best child by mean value against the worst, kept when the values differ by at least
``value_gap``, the two steps overlap at most ``max_step_overlap`` and the chosen value is at least
``min_chosen_value``. Both sides are whole answers sharing the node's text:

- text prompts: the pair's prompt is the prompt plus that shared prefix, chosen and rejected are
  the rest of the two answers (Step-DPO's layout: the preference falls on the first differing step);
- chat prompts: the prompt stays the messages and each side is the whole answer (the shared
  prefix cancels out of DPO's log-ratio difference).

With ``require_finished`` (the default) a pair whose side was cut by the token budget is dropped:
DPO appends an end-of-sequence token to each side, and a cut call would teach stopping mid-call.
With ``min_chosen_score`` a pair is kept only when its chosen whole answer scores at least that
(1.0 with the ``tool_call`` reward: only valid calls are chosen). Without it a tree whose best
answer is still wrong gives pairs like "a well-formed call with the wrong value over garbage",
which teach the format and the wrong value together.

With ``whole_answer_pair`` each tree also gives one pair from the answer's start: its best whole
answer against its worst (``mode: whole``; the same filters, and skipped when a step pair at the
root is already that pair). Step pairs alone never train the first tokens of an answer below the
root, where a small policy's broken call syntax often starts.

Flat-baseline candidates (``mode: flat``) get best-vs-worst of the prompt's samples with a score
gap of at least ``value_gap``. Train prompts deficiency selection left out (``mode: unselected``)
get no pair and are counted under their own reason in the card.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from prefgen.methods.tool_use.pairs import StepPair, extract_pairs
from prefgen.methods.tool_use.tree import Node, TreeSettings, tree_info
from prefgen.pairing import BestWorst, PairingParams, PerPromptStrategy
from prefgen.plugin import PluginParams
from prefgen.records import Message, PreferencePair, Prompt, Scored

UNSELECTED = "not searched: easier than the hardest fraction (deficiency selection)"
NO_GOOD_CHOSEN = "no chosen answer reached min_chosen_score"


class TreePairingParams(PluginParams):
    """Parameters of the ``tree`` pairing strategy (iTool's pair filters)."""

    value_gap: float = Field(0.1, ge=0, description="Least mean-value gap between the chosen and rejected child.")
    max_step_overlap: float = Field(0.95, ge=0, le=1, description="Most word overlap of the two children's steps.")
    min_chosen_value: float = Field(-0.3, description="Least mean value of the chosen child.")
    require_finished: bool = Field(True, description="Drop pairs with a side cut by the token budget.")
    min_chosen_score: float | None = Field(
        None, description="Least reward of the chosen whole answer (1.0 with tool_call: valid calls only); null: any."
    )
    whole_answer_pair: bool = Field(
        False, description="Also pair the tree's best whole answer against its worst, both from the answer's start."
    )


def rebuild_tree(samples: Sequence[Scored]) -> tuple[Node, dict[Node, Scored]]:
    """The search tree of one prompt from its tree candidates, and each node's scored sample.

    A node's reward is its sample's score under the run's reward (None: left out of pairs).
    """
    root = Node(prefix="", step="")
    nodes: dict[str, Node] = {"": root}
    scored_of: dict[Node, Scored] = {}
    tree_samples = [s for s in samples if tree_info(s).get("mode") == "tree" and not s.error]
    for sample in sorted(tree_samples, key=lambda s: [int(k) for k in tree_info(s)["path"].split(".")]):
        info = tree_info(sample)
        path = info["path"]
        parent = nodes.get(path.rpartition(".")[0])
        if parent is None:
            continue  # its parent is not among the candidates: nothing to pair it under
        node = Node(
            prefix=sample.text[: info["prefix_chars"]], step=info["step"], prior=info.get("prior", 1.0),
            depth=info["depth"], terminal=info.get("terminal", False), parent=parent,
            visits=info["visits"], value_sum=info["value_sum"], answer=sample.text, reward=sample.score,
        )
        node.answer_finished = sample.finish_reason == "stop"
        parent.children.append(node)
        nodes[path] = node
        scored_of[node] = sample
    return root, scored_of


class TreePairing(PerPromptStrategy):
    """iTool's best-vs-worst child pairs from tree_search candidates (best-vs-worst for flat ones)."""

    name = "tree"
    Params = TreePairingParams

    def pair_prompt(self, prompt: Prompt, samples: list[Scored]) -> list[PreferencePair] | str:
        modes = {tree_info(s).get("mode") for s in samples}
        if "unselected" in modes:
            return UNSELECTED
        if "flat" in modes:
            return self._flat_pairs(prompt, samples)
        if "tree" not in modes:
            return "no tree_search candidates (generate.strategy is not tree_search)"
        root, scored_of = rebuild_tree(samples)
        filters = TreeSettings(
            pair_min_gap=self.params.value_gap, pair_max_overlap=self.params.max_step_overlap,
            pair_min_chosen=self.params.min_chosen_value,
        )
        pairs = extract_pairs([root], filters)
        whole = [p for p in pairs if not self.params.require_finished or _finished(p)]
        floor = self.params.min_chosen_score
        kept = [self._pair(prompt, p, scored_of) for p in whole if floor is None or p.chosen_leaf.reward >= floor]
        if self.params.whole_answer_pair:
            kept += self._whole_answer_pair(prompt, list(scored_of.values()), kept)
        if kept:
            return kept
        if not pairs:
            return "no node's children differ by value_gap"
        return NO_GOOD_CHOSEN if whole else "every pair had a side cut by the token budget"

    def _whole_answer_pair(
        self, prompt: Prompt, answers: list[Scored], step_pairs: list[PreferencePair]
    ) -> list[PreferencePair]:
        """The best whole answer of the tree against its worst, unless a step pair at the root is the same."""
        outcome = self._flat_pairs(prompt, answers, mode="whole")
        if isinstance(outcome, str):
            return []
        taken = {(p.chosen_id, p.rejected_id) for p in step_pairs if p.details.get("prefix") == ""}
        return [pair for pair in outcome if (pair.chosen_id, pair.rejected_id) not in taken]

    def _flat_pairs(self, prompt: Prompt, samples: list[Scored], mode: str = "flat") -> list[PreferencePair] | str:
        usable = [s for s in samples if not self.params.require_finished or s.finish_reason == "stop"]
        outcome = BestWorst(PairingParams(min_margin=self.params.value_gap)).pair_prompt(prompt, usable)
        if isinstance(outcome, str):
            return outcome
        floor = self.params.min_chosen_score
        outcome = [pair for pair in outcome if floor is None or pair.chosen_score >= floor]
        if not outcome:
            return NO_GOOD_CHOSEN
        for pair in outcome:
            pair.strategy = self.name
            pair.details.update(mode=mode, prefix="")  # whole answers: nothing shared is cut off
        return outcome

    def _pair(self, prompt: Prompt, pair: StepPair, scored_of: dict[Node, Scored]) -> PreferencePair:
        chosen, rejected = scored_of[pair.chosen_leaf], scored_of[pair.rejected_leaf]
        if prompt.is_chat:
            text, sides = prompt.prompt, [[Message(role="assistant", content=pair.prefix + side)]
                                          for side in (pair.chosen, pair.rejected)]
        else:
            text, sides = prompt.prompt + pair.prefix, [pair.chosen, pair.rejected]
        return PreferencePair(
            prompt_id=prompt.id, prompt=text, chosen=sides[0], rejected=sides[1],
            chosen_score=chosen.score, rejected_score=rejected.score, margin=chosen.score - rejected.score,
            strategy=self.name, chosen_id=chosen.id, rejected_id=rejected.id,
            details={
                "mode": "tree", "prefix": pair.prefix, "depth": pair.depth,
                "chosen_step": pair.chosen_step, "rejected_step": pair.rejected_step,
                "chosen_value": pair.chosen_value, "rejected_value": pair.rejected_value,
                "chosen": chosen.details, "rejected": rejected.details,
                "chosen_tokens": chosen.num_tokens, "rejected_tokens": rejected.num_tokens,
            },
        )


def _finished(pair: StepPair) -> bool:
    return pair.chosen_leaf.answer_finished and pair.rejected_leaf.answer_finished
