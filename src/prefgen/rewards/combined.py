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

A judge beside a verifiable reward (``judge:``) plays one of two roles::

    reward:
      name: combined
      components: [{name: execution}, {name: judge, mode: pairwise}]
      judge: {component: judge, verifiable: execution, role: veto}

- ``tie_break``: the score is the verifiable score plus ``tie_scale`` times the judge's score
  brought to [0, 1], so the judge only orders answers the verifiable reward ties (keep
  ``tie_scale`` below the verifiable reward's smallest gap). Weights are not used.
- ``veto``: the judge's pairwise verdicts that prefer the answer the verifiable reward scores
  lower are vetoed: they make no pair (``judge`` pairing) and leave the judge's score.

The judge component must offer ``score_bounds()`` and ``defer_to(...)`` (the ``judge`` reward
does). The card and ``version.json`` count the ties broken and the verdicts vetoed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any, Literal

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


class JudgeRole(BaseModel):
    model_config = ConfigDict(extra="forbid")
    component: str = Field(description="The label of the judge component.")
    verifiable: str = Field(description="The label of the verifiable component the judge defers to.")
    role: Literal["tie_break", "veto"] = Field(description="Break the verifiable reward's ties, or be vetoed by it.")
    tie_scale: float = Field(0.01, gt=0, description="tie_break: the judge's whole range adds at most this.")


class CombinedParams(RewardParams):
    components: list[ComponentSpec] = Field(min_length=1)
    gate: Gate | None = None
    judge: JudgeRole | None = None

    @model_validator(mode="after")
    def _components_are_valid(self) -> CombinedParams:
        from prefgen.registry import rewards

        problems = []
        for i, spec in enumerate(self.components):
            problems += rewards.params_problems(spec.name, spec.params, f"components.{i}")
        labels = component_labels(self.components)
        if self.gate is not None and self.gate.component not in labels:
            problems.append(f"gate.component: {self.gate.component!r} is none of the components {labels}")
        if self.judge is not None:
            for key in ("component", "verifiable"):
                if getattr(self.judge, key) not in labels:
                    problems.append(f"judge.{key}: {getattr(self.judge, key)!r} is none of the components {labels}")
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
        problems = [f"{label}: {problem}" for label, part in self.parts.items() for problem in part.check()]
        role = self.params.judge
        if role is not None and not all(hasattr(self.parts[role.component], a) for a in ("score_bounds", "defer_to")):
            problems.append(f"judge.component: {role.component!r} is not a judge (no score_bounds / defer_to)")
        models = {label: m.path for label, part in self.parts.items() if (m := part.engine_model()) is not None}
        if len(set(models.values())) > 1:
            problems.append(f"components: at most one model scores on engines, got {models}")
        return problems

    def engine_model(self):
        """The model of the component that is a model (a judge, a reward model), if any."""
        return next((m for part in self.parts.values() if (m := part.engine_model()) is not None), None)

    def attach_engines(self, engines) -> None:
        for part in self.parts.values():
            if part.engine_model() is not None:
                part.attach_engines(engines)

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
        roles = self._defer(items, per_part) if self.params.judge else {}
        return [self._combine(i, per_part, roles.get(i)) for i in range(len(items))]

    def _defer(self, items, per_part: dict[str, dict[int, RewardResult]]) -> dict[int, dict[str, Any]]:
        """Let the judge defer to the verifiable component; per item, what its role did."""
        role = self.params.judge
        judged, reference = per_part[role.component], per_part[role.verifiable]
        indices = sorted(judged)
        counts = self.parts[role.component].defer_to(
            [items[i] for i in indices], [judged[i] for i in indices],
            [reference[i].score if i in reference else None for i in indices], role.role,
        )
        roles = {i: {"role": role.role, **c} for i, c in zip(indices, counts)}
        if role.role == "tie_break":
            for i, ties in self._ties_broken(items, judged, reference).items():
                roles.setdefault(i, {"role": role.role})["ties_broken"] = ties
        return roles

    @staticmethod
    def _ties_broken(items, judged, reference) -> dict[int, int]:
        """Per item, the answers to its prompt it ties with on the verifiable reward and the judge
        separates (each such couple counted on its first item)."""
        broken: dict[int, int] = {}
        for i in sorted(judged):
            for j in sorted(judged):
                if j <= i or items[i][0].id != items[j][0].id or i not in reference or j not in reference:
                    continue
                ref_i, ref_j, judge_i, judge_j = reference[i].score, reference[j].score, judged[i].score, judged[j].score
                if None not in (ref_i, ref_j, judge_i, judge_j) and ref_i == ref_j and judge_i != judge_j:
                    broken[i] = broken.get(i, 0) + 1
        return broken

    def _combine(self, index: int, per_part: dict[str, dict[int, RewardResult]], role: dict | None = None) -> RewardResult:
        components = {
            label: {"score": r.score, "weight": self.weights[label], "reason": r.reason, "details": r.details}
            for label, results in per_part.items()
            if (r := results.get(index)) is not None
        }
        details: dict[str, Any] = {"components": components}
        if role is not None:
            details["judge_role"] = role
        gate = self.params.gate
        if gate is not None:
            gate_score = components[gate.component]["score"]
            if gate_score is not None and gate_score < gate.min:
                return RewardResult(0.0, {**details, "gate": "closed"})
        missing = [(label, c["reason"]) for label, c in components.items() if c["score"] is None]
        if missing:
            label, reason = missing[0]
            return RewardResult(None, details, f"{label}: {reason}")
        if gate is not None:
            details["gate"] = "open"
        judge = self.params.judge
        if judge is not None and judge.role == "tie_break":
            low, high = self.parts[judge.component].score_bounds()
            unit = (components[judge.component]["score"] - low) / (high - low)
            return RewardResult(components[judge.verifiable]["score"] + judge.tie_scale * unit, details)
        return RewardResult(sum(c["score"] * c["weight"] for c in components.values()), details)

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
        if self.params.judge is not None:
            lines += ["", _render_role(self.params.judge, self.figures(scored)["judge_role"])]
        sections = [part.describe(scored) for part in self.parts.values()]
        return "\n".join(lines) + "".join(f"\n\n{s}" for s in sections if s)

    def figures(self, scored: Sequence[Scored]) -> dict[str, Any]:
        """Each component's figures, and what the judge's role did (ties broken, verdicts vetoed)."""
        figures: dict[str, Any] = {label: f for label, part in self.parts.items() if (f := part.figures(scored))}
        if self.params.judge is not None:
            roles = [s.details.get("judge_role") or {} for s in scored]
            figures["judge_role"] = {
                "role": self.params.judge.role,
                "ties_broken": sum(r.get("ties_broken", 0) for r in roles),
                "vetoed": sum(r.get("vetoed", 0) for r in roles),
            }
        return figures


def _render_role(role: JudgeRole, counts: dict[str, Any]) -> str:
    what = ("the judge orders only the answers the verifiable reward ties" if role.role == "tie_break"
            else "the judge's verdicts that prefer the answer the verifiable reward scores lower make no pair")
    return (f"Judge `{role.component}` beside `{role.verifiable}` ({role.role}): {what}. "
            f"Ties broken: {counts['ties_broken']}; verdicts vetoed: {counts['vetoed']}.")


def _component_view(heldout, label: str):
    """The held-out round with each sample's score, reason and details those of one component."""
    from dataclasses import replace

    def view(row: Scored) -> Scored:
        part = row.details.get("components", {}).get(label) or {"score": None, "reason": row.reason, "details": {}}
        return row.model_copy(update={"reward": label, "score": part["score"], "reason": part["reason"],
                                      "details": part["details"]})

    first = _component_view(heldout.first, label) if heldout.first is not None else None
    return replace(heldout, scored=[view(r) for r in heldout.scored], first=first, memo={})
