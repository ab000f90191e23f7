"""Does the policy know a question's answer? Three rules, all from the policy's own samples.

- ``greedy`` (R-Tuning): the greedy answer contains a gold answer -> known, else unknown. (The
  paper's code compares raw strings; here the answer is judged by :mod:`prefgen.methods.refusal.classify`.)
- ``sampled`` (Divide-Then-Align, Alignment for Honesty): the share of scorable samples that are
  correct (a hedged answer counts: the policy could produce the answer) >= ``threshold`` ->
  known; no correct sample -> unknown; in between -> borderline, which gets no refusal pair
  (CRaFT: such questions teach over-refusal).
- ``entropy`` (R-Tuning-U): the samples' answers are grouped after normalisation (refusals form
  one group) and the natural-log entropy of the group sizes computed; across the prompts judged
  together the most uncertain ``uncertain_share`` are unknown, the rest known. Gold answers are
  not used.

Unanswerable questions are labelled ``unanswerable`` by every rule. Labels must be recomputed
from each round's samples: what the policy knows changes as it trains.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Label = Literal["known", "unknown", "borderline", "unanswerable", "undecided"]
RULES = ("greedy", "sampled", "entropy")
REFUSAL_GROUP = "<refusal>"


@dataclass
class Knowledge:
    """A question's knowledge label, the rule that decided it and the evidence."""

    label: Label
    rule: str
    evidence: dict[str, Any] = field(default_factory=dict)


def greedy_rule(greedy_kind: str | None, answerable: bool = True) -> Knowledge:
    """R-Tuning's rule from the kind of the greedy answer (None: there was no greedy answer)."""
    if not answerable:
        return Knowledge("unanswerable", "greedy")
    if greedy_kind is None or greedy_kind == "unscorable":
        return Knowledge("undecided", "greedy", {"greedy_kind": greedy_kind})
    label: Label = "known" if greedy_kind in ("correct", "hedged") else "unknown"
    return Knowledge(label, "greedy", {"greedy_kind": greedy_kind})


def sampled_rule(kinds: Sequence[str], threshold: float = 0.5, answerable: bool = True) -> Knowledge:
    """The share-correct rule over one question's sample kinds (see the module docstring)."""
    if not answerable:
        return Knowledge("unanswerable", "sampled")
    scorable = [k for k in kinds if k != "unscorable"]
    if not scorable:
        return Knowledge("undecided", "sampled", {"samples": 0})
    share = sum(k in ("correct", "hedged") for k in scorable) / len(scorable)
    evidence = {"share_correct": share, "samples": len(scorable), "threshold": threshold}
    if share >= threshold and share > 0:
        return Knowledge("known", "sampled", evidence)
    return Knowledge("unknown" if share == 0 else "borderline", "sampled", evidence)


def answer_entropy(groups: Sequence[str]) -> float:
    """Natural-log entropy of how the answers fall into groups (0 when all agree)."""
    counts = Counter(groups)
    total = sum(counts.values())
    return -sum(c / total * math.log(c / total) for c in counts.values())


def entropy_group(kind: str, normalised_answer: str) -> str | None:
    """The group a sample's answer belongs to for the entropy rule (None: left out)."""
    if kind == "unscorable":
        return None
    return REFUSAL_GROUP if kind == "refusal" else normalised_answer


def entropy_rule(
    groups_by_prompt: Mapping[str, Sequence[str]],
    uncertain_share: float = 0.5,
    unanswerable: Sequence[str] = (),
) -> dict[str, Knowledge]:
    """R-Tuning-U over the prompts judged together: the most uncertain share is unknown.

    Ties at the cut are broken by prompt id, so the result does not depend on input order.
    """
    if not 0 <= uncertain_share <= 1:
        raise ValueError(f"uncertain_share: expected a number in [0, 1], got {uncertain_share}")
    labels = {pid: Knowledge("unanswerable", "entropy") for pid in unanswerable}
    entropies = {pid: answer_entropy(g) for pid, g in groups_by_prompt.items() if g and pid not in labels}
    for pid, g in groups_by_prompt.items():
        if not g and pid not in labels:
            labels[pid] = Knowledge("undecided", "entropy", {"samples": 0})
    ranked = sorted(entropies, key=lambda pid: (-entropies[pid], pid))
    cut = round(uncertain_share * len(ranked))
    for position, pid in enumerate(ranked):
        evidence = {"entropy": entropies[pid], "samples": len(groups_by_prompt[pid]),
                    "uncertain_share": uncertain_share}
        labels[pid] = Knowledge("unknown" if position < cut else "known", "entropy", evidence)
    return labels


def sample_kind(sample: Any) -> str:
    """The kind a ``refusal`` reward gave a scored sample (``unscorable`` without one)."""
    details = getattr(sample, "details", None) or {}
    return details.get("kind", "unscorable") if getattr(sample, "score", None) is not None else "unscorable"


def label_prompts(
    prompts: Sequence[Any],
    samples_by_prompt: Mapping[str, Sequence[Any]],
    rule: str = "sampled",
    threshold: float = 0.5,
    uncertain_share: float = 0.5,
) -> dict[str, Knowledge]:
    """Knowledge labels of ``prompts`` from their samples scored by the ``refusal`` reward.

    ``greedy`` uses the sample generated at temperature 0 (``sampling.temperature``), if any.
    """
    if rule not in RULES:
        raise ValueError(f"knowledge rule: expected one of {', '.join(RULES)}, got {rule!r}")
    answerable = {p.id: p.task.get("answerable", True) is not False for p in prompts}
    if rule == "entropy":
        groups = {p.id: [g for s in samples_by_prompt.get(p.id, [])
                         if (g := entropy_group(sample_kind(s), (s.details or {}).get("normalised", ""))) is not None]
                  for p in prompts if answerable[p.id]}
        return entropy_rule(groups, uncertain_share, [pid for pid, ok in answerable.items() if not ok])
    labels = {}
    for prompt in prompts:
        samples = samples_by_prompt.get(prompt.id, [])
        if rule == "greedy":
            greedy = [s for s in samples if (s.sampling or {}).get("temperature") == 0]
            labels[prompt.id] = greedy_rule(sample_kind(greedy[0]) if greedy else None, answerable[prompt.id])
        else:
            labels[prompt.id] = sampled_rule([sample_kind(s) for s in samples], threshold, answerable[prompt.id])
    return labels
