"""What a reward is: a class that scores a batch of candidates and never fails the run for one.

A reward module stays cheap to import (the registry imports it to validate the config); heavy
libraries and files are loaded in :meth:`Reward.setup`, which runs once per worker process.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from prefgen.hashing import content_hash
from prefgen.plugin import PluginParams
from prefgen.records import Candidate, Prompt, Scored

if TYPE_CHECKING:
    from prefgen.config import ModelConfig
    from prefgen.method_metrics import HeldoutRound


class RewardParams(PluginParams):
    """Parameters of a reward, from the YAML's ``reward:`` block (minus ``name``).

    Subclasses add fields; unknown keys are config errors.
    """



@dataclass
class RewardResult:
    """The outcome for one candidate: a score, or None with the reason it could not be scored."""

    score: float | None
    details: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


class Reward:
    """Base class of every reward.

    Subclasses set ``name`` and ``Params`` and implement :meth:`score_batch`.
    """

    name: ClassVar[str] = "reward"
    Params: ClassVar[type[RewardParams]] = RewardParams

    def __init__(self, params: RewardParams | None = None, **kwargs: Any):
        self.params = params if params is not None else self.Params(**kwargs)
        self._ready = False

    # --- to implement -------------------------------------------------------------------
    def prepare(self) -> None:
        """Build or fetch shared resources once, in the driver, before work is distributed
        (e.g. the demo corpus index), so workers do not race to build them."""

    def setup(self) -> None:
        """Load heavy resources (indexes, models). Called once per worker before the first batch."""

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        """Score candidates with their prompts; return one result per item, in order."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """What determines this reward's scores: name, params and any external state.

        Override to add the fingerprint of external inputs (a corpus index, a test set), so that
        a change to them invalidates cached scores.
        """
        return content_hash({"reward": self.name, "params": self.params.model_dump(mode="json")})

    def extra_datasets(self, prompts: dict[str, Prompt], scored: Sequence[Scored]) -> dict[str, list[dict]]:
        """Extra datasets this reward derives from scored candidates, written beside ``pairs/``.

        Keys are dataset names, values lists of flat rows. The execution reward uses this for
        LeTI's feedback-conditioned training records. Default: none.
        """
        return {}

    def describe(self, scored: Sequence[Scored]) -> str:
        """Markdown for the dataset card about this reward's results (pass rates, sources...)."""
        return ""

    def loop_metrics(self, heldout: HeldoutRound) -> dict[str, float | int | None]:
        """The method's own metrics of one policy on held-out prompts, for a training loop.

        Called by the loop for policy 0, 1, ... with that policy's scored held-out samples
        (:class:`prefgen.method_metrics.HeldoutRound`); flat ``name -> number`` (None when a
        metric has no data). They go to ``metrics.jsonl``, the loop's card and a plot. Default: none.
        """
        return {}

    def task_problem(self, task: dict[str, Any], chat: bool = False) -> str | None:
        """Why a prompt's task cannot be scored by this reward (the reader rejects it), or None."""
        return None

    def worker_paths(self) -> dict[str, str]:
        """The local paths a scoring worker opens, by the key they come from (``index``, ``python``):
        on a cluster, pre-flight checks each exists on every node. Default: the absolute paths that
        exist here among the params' values."""
        found = {}
        for key, value in self.params.model_dump(mode="json").items():
            items = [(f"{key}[{i}]", v) for i, v in enumerate(value)] if isinstance(value, list) else [(key, value)]
            for name, item in items:
                if isinstance(item, str) and os.path.isabs(item) and os.path.exists(item):
                    found[name] = item
        return found

    def check(self) -> list[str]:
        """Cheap checks before any heavy work (files exist, ...). Returns error messages."""
        return []

    def figures(self, scored: Sequence[Scored]) -> dict[str, Any]:
        """Figures about this reward's results for ``version.json`` (flat JSON). Default: none."""
        return {}

    # --- rewards that are models ----------------------------------------------------------
    def engine_model(self) -> ModelConfig | None:
        """The model this reward scores with (a judge, a reward model), or None for a program.

        A reward that returns one gets an engine handle from the run's runtime before scoring
        (:meth:`attach_engines`): the policy's pool when it is the same model, its own otherwise."""
        return None

    def attach_engines(self, engines: Any) -> None:
        """Receive the engine handle (``run(job)``) that :meth:`score_batch` sends its engine jobs to."""
        self.engines = engines

    # --- used by the pipeline -----------------------------------------------------------
    def score_safely(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        """Score a batch so that one bad candidate cannot fail it.

        Candidates that failed generation get ``None`` without being scored. If the batch call
        raises, each candidate is retried alone and the ones that still raise get ``None`` with
        the exception as reason.
        """
        if not self._ready:
            self.setup()
            self._ready = True
        results: list[RewardResult | None] = [None] * len(items)
        todo = []
        for i, (prompt, cand) in enumerate(items):
            if cand.error:
                results[i] = RewardResult(None, {}, f"generation_error: {cand.error}")
            else:
                todo.append(i)
        for i, result in zip(todo, self._score_with_fallback([items[i] for i in todo])):
            results[i] = result
        return [r if r is not None else RewardResult(None, {}, "missing result") for r in results]

    def _score_with_fallback(self, items: list[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        if not items:
            return []
        try:
            results = self.score_batch(items)
            if len(results) != len(items):
                raise RuntimeError(f"{self.name} returned {len(results)} results for {len(items)} items")
            return [_sanitise(r) for r in results]
        except Exception:
            if len(items) == 1:
                return [RewardResult(None, {"traceback": traceback.format_exc(limit=3)}, _reason())]
            return [self._score_with_fallback([item])[0] for item in items]


def _reason() -> str:
    import sys

    exc = sys.exc_info()[1]
    return f"reward_error: {type(exc).__name__}: {exc}"[:500]


def _sanitise(result: RewardResult) -> RewardResult:
    """NaN and infinite scores are not scores."""
    score = result.score
    if score is not None and (score != score or score in (float("inf"), float("-inf"))):
        return RewardResult(None, result.details, "reward returned a non-finite score")
    return result
