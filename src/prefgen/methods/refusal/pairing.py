"""Pairing strategy ``refusal``: answer what the policy knows, refuse what it does not.

Per question, from its knowledge label (:mod:`prefgen.methods.refusal.knowledge`) and the samples the
``refusal`` reward scored (``details.kind``):

- known -> a correct answer (of the most frequent correct answer) over a refusal;
- unknown -> a refusal over the most frequent wrong answer;
- unanswerable -> a refusal over the most frequent answer;
- borderline / undecided -> no pair (CRaFT: borderline questions teach over-refusal).

The refusal side is the policy's own refusal when it produced one, else the configured template:
its id is then ``synthetic:<hash>`` and ``details["synthetic"]`` names the side (``chosen`` or
``rejected``), as for every pairing strategy's synthetic sides. Over all questions, refusal-chosen pairs may make up at most
``max_refusal_share`` of the pairs (those beyond it are dropped in an order fixed by a hash of
``seed`` and the prompt id), so the pairs cannot teach "always refuse". With
``cap_keeps_unanswerable`` the cap drops unknown-question pairs first: a question with no answer
at all can only be refused, while a refusal of an unknown fact may be one the policy could learn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from prefgen.hashing import content_hash
from prefgen.methods.refusal.knowledge import Knowledge, label_prompts, sample_kind
from prefgen.pairing import PairingResult, PairingStrategy, make_pair
from prefgen.plugin import PluginParams
from prefgen.records import PreferencePair, Prompt, Scored, group_by_prompt

STRATEGY = "refusal"
PAIR_TYPES = {"known": "answer_over_refusal", "unknown": "refusal_over_wrong", "unanswerable": "refusal_over_answer"}
CAP_REASON = "cap on refusal-chosen pairs (max_refusal_share)"


class RefusalPairingParams(PluginParams):
    """Parameters of the ``refusal`` pairing strategy."""

    knowledge_rule: Literal["sampled", "greedy", "entropy"] = "sampled"
    known_threshold: float = Field(0.5, gt=0, le=1, description="Sampled rule: share correct for 'known'.")
    uncertain_share: float = Field(0.5, ge=0, le=1, description="Entropy rule: share of questions unknown.")
    max_refusal_share: float = Field(0.5, ge=0, le=1, description="Most refusal-chosen pairs / all pairs.")
    cap_keeps_unanswerable: bool = Field(False, description="The cap drops unknown-question pairs first.")
    refusal_template: str = Field("I don't know.", min_length=1, description="Refusal used when the policy gave none.")
    refusal_score: float = Field(0.0, description="Score recorded for a template refusal.")
    seed: int = 0


def _most_frequent(samples: Sequence[Scored]) -> Scored | None:
    """The first sample of the most frequent normalised answer (ties: the earliest group)."""
    if not samples:
        return None
    ordered = sorted(samples, key=lambda s: s.sample_index)
    counts = Counter(s.details.get("normalised", s.text) for s in ordered)
    best = max(counts.values())
    return next(s for s in ordered if counts[s.details.get("normalised", s.text)] == best)


def _template_refusal(prompt: Prompt, samples: Sequence[Scored], params: RefusalPairingParams) -> Scored:
    """The template refusal as a scored sample, with the leading whitespace of the policy's answers.

    That is the most common lead of its non-empty samples: an empty sample (the policy ended at
    once) has none, and a refusal glued to "Answer:" would be a text the policy never writes.
    """
    leads = Counter(s.text[: len(s.text) - len(s.text.lstrip())] for s in samples if s.text.strip())
    lead = max(sorted(leads), key=leads.__getitem__) if leads else " "
    return Scored(
        id="synthetic:" + content_hash(["refusal-template", prompt.id, params.refusal_template])[:16],
        prompt_id=prompt.id, split=prompt.split, sample_index=-1, text=lead + params.refusal_template,
        reward="refusal", score=params.refusal_score, details={"kind": "refusal", "synthetic": True},
    )


def refusal_pair(prompt: Prompt, samples: Sequence[Scored], knowledge: Knowledge,
                 params: RefusalPairingParams) -> PreferencePair | str:
    """The pair for one question, or the reason it gets none."""
    if knowledge.label not in PAIR_TYPES:
        return f"{knowledge.label}: no refusal pair"
    by_kind: dict[str, list[Scored]] = {}
    for sample in samples:
        by_kind.setdefault(sample_kind(sample), []).append(sample)
    # On an unanswerable question the policy's own premise rejection ("there is no such function")
    # is the abstention to prefer: it says why there is no answer.
    abstaining = by_kind.get("refusal", []) + (by_kind.get("premise_rejection", []) if knowledge.label == "unanswerable" else [])
    own = sorted(abstaining, key=lambda s: s.sample_index)
    refusal = own[0] if own else _template_refusal(prompt, samples, params)
    if knowledge.label == "known":
        answer = _most_frequent(by_kind.get("correct", []))
        if answer is None:
            return "known: no correct answer"
        chosen, rejected = answer, refusal
    else:
        answer = _most_frequent(by_kind.get("wrong", []))
        if answer is None:
            return f"{knowledge.label}: no answer to reject"
        chosen, rejected = refusal, answer
    if chosen.score is None or rejected.score is None or chosen.score <= rejected.score:
        return f"{knowledge.label}: the scores do not prefer the chosen side"
    pair = make_pair(prompt, chosen, rejected, STRATEGY)
    pair.details.update(pair_type=PAIR_TYPES[knowledge.label], knowledge=knowledge.label,
                        knowledge_rule=knowledge.rule, evidence=knowledge.evidence)
    if not own:
        pair.details["synthetic"] = "chosen" if chosen is refusal else "rejected"
    return pair


def refusal_chosen(pair: PreferencePair) -> bool:
    """True for pairs whose chosen side is a refusal."""
    return pair.details.get("pair_type") != "answer_over_refusal"


def apply_cap(pairs: list[PreferencePair], max_share: float, seed: int,
              keep_unanswerable: bool = False) -> tuple[list[PreferencePair], int]:
    """Drop refusal-chosen pairs beyond ``max_share`` of all pairs; returns (kept, dropped).

    Which are dropped: an order fixed by a hash of ``seed`` and the prompt id, after the
    unanswerable questions' pairs when ``keep_unanswerable``.
    """
    answers = sum(not refusal_chosen(p) for p in pairs)
    refusals = [p for p in pairs if refusal_chosen(p)]
    # r / (answers + r) <= max_share  <=>  r <= max_share * answers / (1 - max_share)
    allowed = len(refusals) if max_share >= 1 else int(max_share * answers / (1 - max_share) + 1e-9)
    if len(refusals) <= allowed:
        return pairs, 0
    ranked = sorted(refusals, key=lambda p: (
        keep_unanswerable and p.details.get("knowledge") != "unanswerable", content_hash([seed, p.prompt_id])))
    dropped = {id(p) for p in ranked[allowed:]}
    return [p for p in pairs if id(p) not in dropped], len(dropped)


class RefusalPairing(PairingStrategy):
    """The ``refusal`` strategy over all prompts of a round (see the module docstring)."""

    name = STRATEGY
    Params = RefusalPairingParams

    def __init__(self, params: RefusalPairingParams | None = None, **kwargs):
        super().__init__(params if params is not None else self.Params(**kwargs))

    def pair(self, prompts: Sequence[Prompt], scored: Sequence[Scored]) -> PairingResult:
        """Pairs in prompt order; prompts without one are counted by reason."""
        by_prompt = group_by_prompt(scored)
        labels = label_prompts(prompts, by_prompt, self.params.knowledge_rule,
                               self.params.known_threshold, self.params.uncertain_share)
        result = PairingResult()
        for prompt in prompts:
            outcome = refusal_pair(prompt, by_prompt.get(prompt.id, []), labels[prompt.id], self.params)
            if isinstance(outcome, str):
                result.unpaired[outcome] += 1
            else:
                result.pairs.append(outcome)
        result.pairs, dropped = apply_cap(result.pairs, self.params.max_refusal_share, self.params.seed,
                                          self.params.cap_keeps_unanswerable)
        if dropped:
            result.unpaired[CAP_REASON] += dropped
        return result
