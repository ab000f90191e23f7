"""What a generation strategy is: the plug-in that turns prompt chunks into candidates.

A strategy gets its ``Params`` (the ``generate:`` keys other than ``strategy`` and ``shard_size``)
and a :class:`GenerationContext`: the engine handle, a scorer handle (so a strategy may score
inside its own loop, as a tree search does), the model's identity and the run's prompts. Its
``run(chunks)`` yields ``(chunk, candidates)`` as each chunk is done; the run checkpoints every
chunk, so a killed run resumes where it stopped. :meth:`key_content` enters the content key of the
samples, so changing a setting regenerates and keeping it reuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from prefgen.plugin import PluginParams
from prefgen.records import Candidate, Prompt, RejectedInput, Scored


class StrategyParams(PluginParams):
    """A strategy's keys from the YAML's ``generate:`` block (minus ``strategy`` and ``shard_size``)."""


@dataclass(frozen=True)
class ModelIdentity:
    """What generates: a name for the card, a loadable path (if any), and the fingerprint keying samples."""

    name: str
    path: str | None
    fingerprint: str


class Engines(Protocol):
    """Batched generation: ``generate(requests)`` for each batch, results as each batch finishes."""

    def map_unordered(self, batches: Sequence[Any]) -> Iterator[tuple[int, Any]]: ...


class Scorer(Protocol):
    """Scores (prompt, candidate) pairs now, with the run's reward."""

    def score(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[Scored]: ...


@dataclass
class GenerationContext:
    """Handles a strategy works with; engines start only when ``engines()`` is first called."""

    model: ModelIdentity
    engines: Callable[[], Engines]
    scorer: Scorer
    prompts: list[Prompt] = field(default_factory=list)  # every prompt of the run, done or not
    reject: Callable[[list[RejectedInput]], None] = lambda rows: None


class GenerationStrategy:
    """Base class of generation strategies."""

    Params: ClassVar[type[BaseModel]] = StrategyParams
    uses_model: ClassVar[bool] = True  # preflight checks ``model.path`` for strategies that load it
    resamples: ClassVar[bool] = False  # can draw fresh samples for a prompt (what target_pairs needs)

    def __init__(self, params: BaseModel | None = None, context: GenerationContext | None = None):
        # Built without a context to run check() before anything starts; run() needs the context.
        self.params = params if params is not None else self.Params()
        self.context = context
        self.round = 0  # re-sampling round: 0 is the first sampling

    def for_round(self, round: int) -> GenerationStrategy:
        """This strategy drawing re-sampling round ``round``'s samples: fresh ones, never round 0's.

        Strategies that set ``resamples`` derive their seeds from the round (see :attr:`round`)."""
        if not self.resamples:
            raise TypeError(f"{type(self).__name__} cannot sample a prompt again")
        again = type(self)(self.params, self.context)
        again.round = round
        return again

    def samples_per_prompt(self) -> int:
        """Samples one prompt costs (what a re-sampling budget counts)."""
        return int(getattr(self.params, "n", 1))

    @classmethod
    def identify(cls, params: BaseModel, config: Any) -> ModelIdentity:
        """The model this strategy generates with (resolved before any work starts)."""
        raise NotImplementedError

    def check(self) -> list[str]:
        """Cheap checks of the params before any work (files exist, ...), each naming its key."""
        return []

    def key_content(self) -> Any:
        """What, besides the model, determines the samples: enters their content key."""
        return self.params.model_dump(mode="json")

    def run(self, chunks: list[list[Prompt]]) -> Iterator[tuple[list[Prompt], list[Candidate]]]:
        """Yield each chunk with its candidates, in any order."""
        raise NotImplementedError
