"""``judge``: an LLM judge with a rubric written in the YAML, on the run's engine pool.

Pointwise, each answer gets the judge's score on ``scale``. Pairwise, every two answers to a
prompt are judged in both orders (see :mod:`verdicts`); an answer's score is the share of its
agreed comparisons it won, and the comparisons themselves, with their confidence, are in its
details for the ``judge`` pairing strategy, which makes pairs only from agreed verdicts.

Pairwise judging is a reward over a prompt's answers, not a pairing strategy, because verdicts
need the engine and scoring is where the engines are: a shard holds all of its prompts' answers,
so its comparisons go to the engine in one call, and a rerun reuses them with the shard's scores.

An abstention or a reply with no readable verdict (after ``retries`` further tries) is an answer
the reward cannot score: null, with its reason, never 0.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from prefgen.config import EngineConfig, ModelConfig
from prefgen.hashing import content_hash
from prefgen.methods.judge.figures import judge_figures, render_judge_section
from prefgen.methods.judge.job import JudgeJob, JudgeRequest, JudgeSettings
from prefgen.methods.judge.rubric import Rubric, messages
from prefgen.methods.judge.verdicts import compare, copeland, mirrored, pointwise_outcome
from prefgen.records import Candidate, Prompt, Scored
from prefgen.rewards.base import Reward, RewardParams, RewardResult

DEFAULT_JUDGE = "smollm2"  # the embedded real model (a named model); any local or hub chat model works


class JudgeParams(RewardParams):
    model: str = Field(DEFAULT_JUDGE, description="The judge: a named model, a local directory or a hub id.")
    max_model_len: int = Field(2048, gt=0, description="The judge's context: rubric, prompt and answers must fit.")
    chat_template: Literal["auto", "never"] = "auto"
    engine: EngineConfig = Field(default_factory=EngineConfig, description="The judge's engines (when not the policy's).")
    mode: Literal["pointwise", "pairwise"] = "pointwise"
    rubric: Rubric = Field(default_factory=Rubric)
    scale: tuple[float, float] = Field((1.0, 10.0), description="Pointwise: lowest and highest score.")
    votes: int = Field(1, ge=1, description="Verdicts per judgement (per order, pairwise); >1 needs a temperature.")
    retries: int = Field(2, ge=0, description="Further tries for a reply with no readable verdict.")
    max_tokens: int = Field(64, gt=0, description="Longest reply.")
    temperature: float = Field(0.0, ge=0, description="First try; 0 is greedy.")
    retry_temperature: float = Field(0.8, gt=0, description="Retries sample, so they can differ from the first reply.")
    max_answer_chars: int = Field(4000, gt=0, description="Longer answers are cut (the judge sees the start).")
    verdict_pattern: str | None = Field(
        None, description="A regex with one group read as the verdict (its last match); default: the last [[...]]."
    )
    seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> JudgeParams:
        if self.scale[0] >= self.scale[1]:
            raise ValueError(f"scale: the lowest score must be below the highest, got {list(self.scale)}")
        if self.votes > 1 and self.temperature == 0:
            raise ValueError("votes > 1 needs temperature > 0 (greedy replies are all the same)")
        if self.verdict_pattern is not None:
            try:
                groups = re.compile(self.verdict_pattern).groups
            except re.error as exc:
                raise ValueError(f"verdict_pattern: not a regex: {exc}") from None
            if groups != 1:
                raise ValueError(f"verdict_pattern: needs exactly one group (the verdict), has {groups}")
        return self


class JudgeReward(Reward):
    """Scores answers with an LLM judge on the engine pool, one engine job per shard."""

    name = "judge"
    Params = JudgeParams

    def __init__(self, params: JudgeParams | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        self.engines = None  # attached by the run before scoring (see attach_engines)

    def engine_model(self) -> ModelConfig:
        p = self.params
        return ModelConfig(path=p.model, max_model_len=p.max_model_len, chat_template=p.chat_template, engine=p.engine)

    def check(self) -> list[str]:
        from prefgen.generation.model_ref import check_model_path

        return [problem.replace("model.path", "reward.model") for problem in check_model_path(self.params.model)]

    def fingerprint(self) -> str:
        from prefgen.generation.model_ref import fingerprint_model

        local = Path(self.params.model)
        model = fingerprint_model(local) if local.is_dir() else self.params.model  # a changed judge rescores
        return content_hash({"reward": self.name, "params": self.params.model_dump(mode="json"), "model": model})

    def score_bounds(self) -> tuple[float, float]:
        """The range of this reward's scores (a ``combined`` tie-break normalises with it)."""
        return tuple(self.params.scale) if self.params.mode == "pointwise" else (0.0, 1.0)

    # --- scoring -------------------------------------------------------------------------
    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        if self.engines is None:
            raise RuntimeError("the judge has no engine: model-backed rewards score in the run's scoring stage")
        if self.params.mode == "pointwise":
            return self._pointwise(items)
        return self._pairwise(items)

    def _settings(self) -> JudgeSettings:
        p = self.params
        return JudgeSettings(p.mode, tuple(p.scale), p.votes, p.retries, p.max_tokens, p.temperature,
                             p.retry_temperature, p.seed, p.verdict_pattern)

    def _values(self, prompt: Prompt) -> dict[str, str]:
        text = prompt.prompt if isinstance(prompt.prompt, str) else "\n".join(
            f"{m.role}: {m.content}" for m in prompt.prompt)
        scale = self.params.scale
        return {"prompt": text, "scale_min": f"{scale[0]:g}", "scale_max": f"{scale[1]:g}"}

    def _answer(self, candidate: Candidate) -> str:
        return candidate.text[: self.params.max_answer_chars]

    def _pointwise(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        template = self.params.rubric.pointwise
        requests = [
            JudgeRequest(cand.id, messages(self.params.rubric, template, {**self._values(prompt), "answer": self._answer(cand)}))
            for prompt, cand in items
        ]
        results = []
        for judgement in self.engines.run(JudgeJob(requests, self._settings())):
            outcome = pointwise_outcome(judgement)
            details = {"judge": {"mode": "pointwise", **outcome}}
            results.append(RewardResult(outcome["score"], details, _reason(outcome)))
        return results

    def _pairwise(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        groups: dict[str, list[int]] = defaultdict(list)
        for index, (prompt, _) in enumerate(items):
            groups[prompt.id].append(index)
        matches = [(a, b) for group in groups.values() for n, a in enumerate(group) for b in group[n + 1 :]]
        template = self.params.rubric.pairwise
        requests = []
        for a, b in matches:
            values = self._values(items[a][0])
            first, second = self._answer(items[a][1]), self._answer(items[b][1])
            key = f"{items[a][1].id}|{items[b][1].id}"
            requests.append(JudgeRequest(key + "|ab", messages(self.params.rubric, template, {**values, "answer_a": first, "answer_b": second})))
            requests.append(JudgeRequest(key + "|ba", messages(self.params.rubric, template, {**values, "answer_a": second, "answer_b": first})))
        judgements = self.engines.run(JudgeJob(requests, self._settings())) if requests else []
        comparisons: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for k, (a, b) in enumerate(matches):
            seen_from_a = compare(judgements[2 * k], judgements[2 * k + 1])
            comparisons[a].append({**seen_from_a, "opponent": items[b][1].id, "primary": True})
            comparisons[b].append({**mirrored(seen_from_a), "opponent": items[a][1].id, "primary": False})
        return [self._pairwise_result(comparisons[i], len(groups[items[i][0].id])) for i in range(len(items))]

    @staticmethod
    def _pairwise_result(comparisons: list[dict[str, Any]], answers: int) -> RewardResult:
        details = {"judge": {"mode": "pairwise", "comparisons": comparisons}}
        if answers < 2:
            return RewardResult(None, details, "judge: fewer than 2 answers to compare")
        score = copeland([c for c in comparisons if not c.get("vetoed")])
        if score is None:
            return RewardResult(None, details, f"judge: no agreed comparison ({_tally(comparisons)})")
        return RewardResult(score, details)

    # --- beside a verifiable reward (see prefgen.rewards.combined) --------------------------
    def defer_to(self, items, results: list[RewardResult], reference: list[float | None], role: str) -> list[dict[str, int]]:
        """Veto (``role == "veto"``) the pairwise verdicts that prefer the answer the reference
        (a verifiable reward) scores lower: they make no pair and no longer count in the score.
        Returns, per item, how many of its comparisons (counted once per pair) were vetoed."""
        counts = [{"vetoed": 0} for _ in items]
        if role != "veto" or self.params.mode != "pairwise":
            return counts
        by_id = {cand.id: ref for (_, cand), ref in zip(items, reference)}
        for index, ((_, cand), result) in enumerate(zip(items, results)):
            comps = result.details.get("judge", {}).get("comparisons", [])
            mine = by_id.get(cand.id)
            for comp in comps:
                theirs = by_id.get(comp["opponent"])
                if comp["verdict"] in ("win", "loss") and mine is not None and theirs is not None:
                    judged_better = comp["verdict"] == "win"
                    if mine != theirs and judged_better != (mine > theirs):
                        comp["vetoed"] = True
                        counts[index]["vetoed"] += int(comp["primary"])
            if comps:
                rescored = self._pairwise_result(comps, 2)
                result.score, result.reason = rescored.score, rescored.reason
        return counts

    # --- reporting -----------------------------------------------------------------------
    def describe(self, scored: Sequence[Scored]) -> str:
        return render_judge_section(judge_figures(scored), self.params.model, self.params.mode)

    def figures(self, scored: Sequence[Scored]) -> dict[str, Any]:
        return {"judge": judge_figures(scored)}


def _tally(comparisons: list[dict[str, Any]]) -> str:
    """A candidate's comparisons counted by verdict, vetoed ones apart: "2 flip, 1 failed"."""
    counts = Counter("vetoed" if c.get("vetoed") else c["verdict"] for c in comparisons)
    return ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))


def _reason(outcome: dict[str, Any]) -> str | None:
    if outcome["verdict"] == "abstain":
        return "judge abstained"
    if outcome["verdict"] == "failed":
        return f"judge_failed after {outcome['attempts']} tries: {outcome['reason']}"
    return None

