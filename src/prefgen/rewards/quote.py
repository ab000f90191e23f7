"""The ``quote`` reward: QUIP, the share of a response that is verbatim from a trusted corpus.

Quote-Tuning rewards a response for the fraction of its character 25-grams (after whitespace
normalisation) that occur in the corpus. The paper checked them with a Bloom filter; this reward
checks them exactly against suffix-array indexes (``prefgen index build``) and reports where each
quote comes from, so a reader can verify it. See :mod:`prefgen.corpus.quip` for the method.

Config::

    reward:
      name: quote
      index: demo            # or a directory built by `prefgen index build`, or a list of them
      n: 25
      corpus_fingerprint: null   # optional: the corpus a dataset card claims; checked before the run
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from prefgen.hashing import content_hash
from prefgen.records import Candidate, Prompt, Scored
from prefgen.rewards.base import Reward, RewardParams, RewardResult

DEMO_INDEX = "demo"
_TEXTS_PER_CALL = 512  # bounds the scorer's per-window arrays on very large batches
_MIN_FINGERPRINT_PREFIX = 8


class QuoteParams(RewardParams):
    index: str | list[str] = Field(
        description="Corpus index directory built with `prefgen index build`, 'demo' for the standard-library "
        "docstring index (built on first use and cached), or a list of them: a window counts if any holds it."
    )
    n: int = Field(25, ge=1, le=10_000, description="Window length in characters (QUIP's n-gram size).")
    corpus_fingerprint: str | list[str] | None = Field(
        None,
        description="Corpus fingerprint(s) the indexes must have, e.g. copied from a dataset card or "
        "`prefgen index info` (a prefix of at least 8 hex digits is enough); a mismatch stops the run.",
    )

    @field_validator("index")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        specs = [value] if isinstance(value, str) else value
        if not specs or any(not spec.strip() for spec in specs):
            raise ValueError("index must name at least one index directory (or 'demo')")
        # Scoring runs in Ray workers whose working directory is not the user's: anchor paths here.
        absolute = [spec if spec == "demo" else str(Path(spec).expanduser().absolute()) for spec in specs]
        return absolute[0] if isinstance(value, str) else absolute


class QuoteReward(Reward):
    """Score = QUIP: found windows / all windows of the normalised response; None below n characters."""

    name = "quote"
    Params = QuoteParams

    def __init__(self, params: RewardParams | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        self._scorer = None

    def __getstate__(self) -> dict[str, Any]:
        # The scorer holds memory maps; a copy sent to another process loads its own in setup().
        state = dict(self.__dict__)
        state["_scorer"] = None
        state["_ready"] = False
        return state

    # --- configuration ---------------------------------------------------------------------------
    @property
    def index_specs(self) -> list[str]:
        index = self.params.index
        return [index] if isinstance(index, str) else list(index)

    def _claimed_fingerprints(self) -> list[str] | None:
        claimed = self.params.corpus_fingerprint
        if claimed is None:
            return None
        return [claimed] if isinstance(claimed, str) else list(claimed)

    # --- pre-flight --------------------------------------------------------------------------------
    def prepare(self) -> None:
        if DEMO_INDEX in self.index_specs:
            from prefgen.corpus.demo import demo_index_dir

            demo_index_dir()

    def check(self) -> list[str]:
        from prefgen.corpus.index import CorpusIndex, InvalidIndexError, MissingIndexError

        problems: list[str] = []
        corpus_fingerprints: list[str | None] = []
        for spec in self.index_specs:
            if spec == DEMO_INDEX:
                try:
                    import prefgen.demo.stdlib_corpus  # noqa: F401
                except ImportError as exc:
                    problems.append(f"reward.index: the demo corpus is not available ({exc})")
                corpus_fingerprints.append(None)  # computed below only if a fingerprint is claimed
                continue
            try:
                corpus_fingerprints.append(CorpusIndex(spec).corpus_fingerprint)
            except MissingIndexError as exc:
                problems.append(f"reward.index: {exc} (build one with `prefgen index build CORPUS --out {spec}`)")
                corpus_fingerprints.append(None)
            except InvalidIndexError as exc:
                problems.append(f"reward.index: {exc} (rebuild it with `prefgen index build CORPUS --out {spec} --force`)")
                corpus_fingerprints.append(None)
        if not problems:
            problems += self._check_claimed(corpus_fingerprints)
        return problems

    def _check_claimed(self, corpus_fingerprints: list[str | None]) -> list[str]:
        claimed = self._claimed_fingerprints()
        if claimed is None:
            return []
        if len(claimed) != len(self.index_specs):
            return [f"reward.corpus_fingerprint: {len(claimed)} fingerprints for {len(self.index_specs)} indexes"]
        problems = []
        for spec, actual, expected in zip(self.index_specs, corpus_fingerprints, claimed):
            if actual is None:
                from prefgen.corpus.demo import demo_corpus_fingerprint

                actual = demo_corpus_fingerprint()
            if not fingerprint_matches(actual, expected):
                problems.append(
                    f"reward.corpus_fingerprint: the index '{spec}' was built from corpus {actual[:16]}, "
                    f"not {expected[:16]} as claimed: it indexes a different corpus"
                )
        return problems

    # --- identity ------------------------------------------------------------------------------------
    def index_identities(self) -> list[dict[str, Any]]:
        """For each index (in order): its fingerprints and size, e.g. for a dataset card."""
        from prefgen.corpus.demo import demo_corpus_fingerprint
        from prefgen.corpus.index import index_fingerprint, read_settings

        identities = []
        for position, spec in enumerate(self.index_specs):
            if spec == DEMO_INDEX:
                corpus_fp = demo_corpus_fingerprint()
                identity = {"corpus_fingerprint": corpus_fp, "fingerprint": index_fingerprint(corpus_fp)}
            else:
                settings = read_settings(spec)
                corpus = settings["corpus"]
                identity = {
                    "corpus_fingerprint": corpus["fingerprint"],
                    "fingerprint": settings["fingerprint"],
                    "documents": corpus["documents"],
                    "text_bytes": corpus["text_bytes"],
                }
            identities.append({"index": position, "demo": spec == DEMO_INDEX, **identity})
        return identities

    def fingerprint(self) -> str:
        # Where an index lives and which fingerprint a card claims do not change scores; what the
        # indexes hold does.
        params = self.params.model_dump(mode="json", exclude={"index", "corpus_fingerprint"})
        indexes = [identity["fingerprint"] for identity in self.index_identities()]
        return content_hash({"reward": self.name, "params": params, "indexes": indexes})

    # --- scoring ------------------------------------------------------------------------------------
    def setup(self) -> None:
        from prefgen.corpus.index import CorpusIndex
        from prefgen.corpus.quip import QuipScorer

        indexes = []
        for spec in self.index_specs:
            if spec == DEMO_INDEX:
                from prefgen.corpus.demo import demo_index_dir

                spec = str(demo_index_dir())
            indexes.append(CorpusIndex(spec))
        claimed = self._claimed_fingerprints()
        if claimed is not None:
            problems = self._check_claimed([index.corpus_fingerprint for index in indexes])
            if problems:
                raise ValueError("; ".join(problems))
        self._scorer = QuipScorer(indexes, n=self.params.n)

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        if self._scorer is None:
            self.setup()
        texts = [candidate.text for _, candidate in items]
        results: list[RewardResult] = []
        for start in range(0, len(texts), _TEXTS_PER_CALL):
            for quip in self._scorer.score(texts[start : start + _TEXTS_PER_CALL]):
                details = {
                    "n": self.params.n,
                    "chars": quip.chars,
                    "windows_found": quip.windows_found,
                    "windows_total": quip.windows_total,
                    "longest_quote": quip.longest_quote,
                    "quotes": [quote.as_dict() for quote in quip.quotes],
                }
                results.append(RewardResult(quip.score, details, quip.reason))
        return results

    # --- dataset card ------------------------------------------------------------------------------------
    def describe(self, scored: Sequence[Scored]) -> str:
        lines = ["### Quoting (QUIP, exact)", ""]
        for identity in self.index_identities():
            size = f", {identity['documents']} documents" if "documents" in identity else ""
            label = "the standard-library docstrings (demo)" if identity["demo"] else f"index {identity['index']}"
            lines.append(
                f"- corpus: {label}{size}; corpus fingerprint `{identity['corpus_fingerprint']}`, "
                f"index fingerprint `{identity['fingerprint'][:16]}`"
            )
        scores = [row.score for row in scored]
        counted = [score for score in scores if score is not None]
        if scores:
            lines.append(
                f"- n = {self.params.n}; {len(counted)} of {len(scores)} samples scored "
                f"({len(scores) - len(counted)} shorter than n, counted as 0 in the first mean); "
                f"mean QUIP {sum(counted) / len(scores):.3f}, over scored samples "
                f"{(sum(counted) / len(counted)) if counted else 0.0:.3f}"
            )
        sources = Counter(
            quote["source"].get("id", f"doc {quote['source'].get('doc')}")
            for row in scored
            for quote in (row.details or {}).get("quotes", [])
        )
        if sources:
            top = ", ".join(f"`{name}` ({count})" for name, count in sources.most_common(8))
            lines.append(f"- most quoted documents: {top}")
        lines.append(
            "- every quote in `details.quotes` names a document and a character offset in its "
            "normalised text where it occurs verbatim"
        )
        return "\n".join(lines) + "\n"


def fingerprint_matches(actual: str, claimed: str) -> bool:
    """A claimed fingerprint matches if it is the actual one or a prefix of it (>= 8 hex digits)."""
    claimed = claimed.strip().lower()
    return len(claimed) >= _MIN_FINGERPRINT_PREFIX and actual.lower().startswith(claimed)
