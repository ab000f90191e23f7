"""Several rewards in one run: a weighted sum of components, optionally behind a gate.

``reward:`` as a list is this reward with those components::

    reward:
      - {name: execution, weight: 1.0}
      - {name: length, weight: 0.2, target_chars: 300}

or, spelled out with a gate ("score only if the gate component reaches ``min``; below it the
score is 0")::

    reward:
      name: combined
      components: [{name: execution}, {name: length, weight: 0.2}]
      gate: {component: execution, min: 1.0}

Every component's score, reason and details stay in the candidate's ``details["components"]``.
A component that cannot score a candidate makes the combined score null, with its reason.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from prefgen.hashing import content_hash
from prefgen.records import Candidate, Prompt, Scored
from prefgen.rewards.base import Reward, RewardParams, RewardResult


class ComponentSpec(BaseModel):
    """One component: a reward's name, its weight, and (every other key) the reward's Params."""

    model_config = ConfigDict(extra="allow")
    name: str
    weight: float = 1.0

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Gate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    component: str = Field(description="The label of the component that gates (its reward name).")
    min: float = Field(description="Candidates whose gate score is below this score 0.")


class CombinedParams(RewardParams):
    components: list[ComponentSpec] = Field(min_length=1)
    gate: Gate | None = None

    @model_validator(mode="after")
    def _components_are_valid(self) -> CombinedParams:
        from prefgen.registry import rewards

        problems = []
        for i, spec in enumerate(self.components):
            problems += rewards.params_problems(spec.name, spec.params, f"components.{i}")
        labels = component_labels(self.components)
        if self.gate is not None and self.gate.component not in labels:
            problems.append(f"gate.component: {self.gate.component!r} is none of the components {labels}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def component_labels(specs: Sequence[ComponentSpec]) -> list[str]:
    """Each component's name; a name used twice gets its position appended (``length_1``)."""
    names = [s.name for s in specs]
    return [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]


class CombinedReward(Reward):
    """Weighted sum of component rewards, with an optional gate."""

    name = "combined"
    Params = CombinedParams

    def __init__(self, params: CombinedParams | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        from prefgen.registry import rewards

        self.labels = component_labels(self.params.components)
        self.parts = {
            label: rewards.build(spec.name, spec.params) for label, spec in zip(self.labels, self.params.components)
        }
        self.weights = {label: spec.weight for label, spec in zip(self.labels, self.params.components)}

    def prepare(self) -> None:
        for part in self.parts.values():
            part.prepare()

    def check(self) -> list[str]:
        return [f"{label}: {problem}" for label, part in self.parts.items() for problem in part.check()]

    def worker_paths(self) -> dict[str, str]:
        return {f"{label}.{key}": path for label, part in self.parts.items() for key, path in part.worker_paths().items()}

    def task_problem(self, task: dict[str, Any], chat: bool = False) -> str | None:
        return next((f"{l}: {p}" for l, part in self.parts.items() if (p := part.task_problem(task, chat))), None)

    def fingerprint(self) -> str:
        parts = {label: part.fingerprint() for label, part in self.parts.items()}
        gate = self.params.gate.model_dump() if self.params.gate else None
        return content_hash({"reward": self.name, "parts": parts, "weights": self.weights, "gate": gate})

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        open_items = list(range(len(items)))
        per_part: dict[str, dict[int, RewardResult]] = {}
        gate = self.params.gate
        if gate is not None:  # the gate first: closed candidates are not scored by the others
            per_part[gate.component] = dict(enumerate(self.parts[gate.component].score_safely(items)))
            open_items = [i for i, r in per_part[gate.component].items() if r.score is not None and r.score >= gate.min]
        for label, part in self.parts.items():
            if label not in per_part:
                results = part.score_safely([items[i] for i in open_items])
                per_part[label] = dict(zip(open_items, results))
        return [self._combine(i, per_part) for i in range(len(items))]

    def _combine(self, index: int, per_part: dict[str, dict[int, RewardResult]]) -> RewardResult:
        components = {
            label: {"score": r.score, "weight": self.weights[label], "reason": r.reason, "details": r.details}
            for label, results in per_part.items()
            if (r := results.get(index)) is not None
        }
        gate = self.params.gate
        if gate is not None:
            gate_score = components[gate.component]["score"]
            if gate_score is not None and gate_score < gate.min:
                return RewardResult(0.0, {"components": components, "gate": "closed"})
        missing = [(label, c["reason"]) for label, c in components.items() if c["score"] is None]
        if missing:
            label, reason = missing[0]
            return RewardResult(None, {"components": components}, f"{label}: {reason}")
        total = sum(c["score"] * c["weight"] for c in components.values())
        return RewardResult(total, {"components": components, **({"gate": "open"} if gate else {})})

    def loop_metrics(self, heldout) -> dict[str, float | int | None]:
        """Each component's method metrics, named ``<component>.<metric>``; each component sees its
        own scores and details, as if it were the run's only reward."""
        return {
            f"{label}.{name}": value
            for label, part in self.parts.items()
            for name, value in part.loop_metrics(_component_view(heldout, label)).items()
        }

    def describe(self, scored: Sequence[Scored]) -> str:
        lines = ["## Reward components", "", "| component | weight | scored | null | mean | min | median | max |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for label in self.labels:
            values = [c.get("score") for s in scored if (c := s.details.get("components", {}).get(label))]
            numbers = [v for v in values if v is not None]
            stats = (
                f"{statistics.fmean(numbers):.4f} | {min(numbers):.4f} | {statistics.median(numbers):.4f} | {max(numbers):.4f}"
                if numbers else "— | — | — | —"
            )
            lines.append(f"| {label} | {self.weights[label]:g} | {len(numbers)} | {len(values) - len(numbers)} | {stats} |")
        sections = [part.describe(scored) for part in self.parts.values()]
        return "\n".join(lines) + "".join(f"\n\n{s}" for s in sections if s)


def _component_view(heldout, label: str):
    """The held-out round with each sample's score, reason and details those of one component."""
    from dataclasses import replace

    def view(row: Scored) -> Scored:
        part = row.details.get("components", {}).get(label) or {"score": None, "reason": row.reason, "details": {}}
        return row.model_copy(update={"reward": label, "score": part["score"], "reason": part["reason"],
                                      "details": part["details"]})

    first = _component_view(heldout.first, label) if heldout.first is not None else None
    return replace(heldout, scored=[view(r) for r in heldout.scored], first=first, memo={})
