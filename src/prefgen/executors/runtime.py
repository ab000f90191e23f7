"""Where a run's work executes: Ray (engines as actors, scoring as tasks) or in this process.

Both runtimes take the same calls and give the same results; only :mod:`prefgen.executors`
imports Ray. A runtime starts what it needs on first use (a rerun with nothing to do starts
nothing) and :meth:`Runtime.shutdown` stops it, in one place: the run's ``finally``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from prefgen.config import ModelConfig


class ScoringJobs(Protocol):
    """Scoring jobs in flight: ``submit`` as generation produces them, ``finished`` as they end."""

    def submit(self, key: Any, prompts: list[dict], candidates: list[dict]) -> None: ...

    def finished(self, wait: bool = False) -> Iterator[tuple[Any, list[dict]]]: ...


class Runtime:
    """The interface of a runtime."""


    def scoring_jobs(self, reward_name: str, reward_params: dict[str, Any]) -> ScoringJobs:
        raise NotImplementedError

    def engines(self, model_path: str, fingerprint: str, model: ModelConfig) -> Any:
        """Engines for this model (``map_unordered(batches)``), started on first use."""
        raise NotImplementedError

    def live_engines(self, fingerprint: str) -> Any | None:
        """The engines already running for the model with this fingerprint, if any (a
        model-backed reward of the policy's own model shares them)."""
        return None

    def release_engines(self) -> None:
        """Free the engines' memory (before training, say)."""

    def shutdown(self) -> None:
        """Stop everything this runtime started."""


def map_in_order(engine: Any, batches: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """``map_unordered`` for a single in-process engine: batches one after another."""
    for index, batch in enumerate(batches):
        yield index, engine.generate(batch)
