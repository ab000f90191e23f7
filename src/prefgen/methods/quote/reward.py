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
      relevant_field: null       # grounded quoting: the task field listing the relevant document ids
      relevant_match: exact      # how those ids name documents: exact ids, or id prefixes
      relevant_id_prefix: null   # documents relevant to every prompt: ids starting with this (or these)
      count: null                # what `score` counts: relevant | all (default: relevant when grounded)
      max_other_docs: 2          # grounded credit only for text at most this many other documents hold
      opening: any               # relevant: an answer opening with another document's quote scores 0
      max_chars: 20000           # responses are scored on their first max_chars characters

Grounded quoting (:mod:`prefgen.corpus.grounding`): with ``relevant_field`` and/or
``relevant_id_prefix`` set, a window counts for ``details.quip_grounded`` only if a document
relevant to the prompt holds it; ``details.quip_all`` is plain QUIP over every document, and every
quote says whether it comes from the relevant set. ``count`` picks which of the two is the score;
the default scores grounded QUIP whenever grounding is configured, since a quote from an unrelated
document does not answer the prompt. A prompt lacking the field while the score is grounded is
unscorable (null, with the reason); with ``count: all`` it keeps its plain score.

Grounding means "about the object asked" (``max_other_docs``, default 2). A window a relevant
document holds earns grounded credit only if at most ``max_other_docs`` documents *outside* the
relevant set hold it too. Why: text many documents share (a boilerplate paragraph such as the
``dir_fd`` note of a dozen ``os`` functions, a common signature line) says nothing about which
object an answer is about. Counting it let an answer to "what does ``os.mkfifo`` do?" that recites
``os.mkdir``'s docstring score 0.93, since the paragraph it goes on with is also in ``os.mkfifo``'s
docstring. Why a count of *other* documents rather than of all: text that an object's docstring
shares with its class's or module's (all relevant) is still about the object; and why 2 rather
than 0: near-identical docstrings of two or three objects (``json.dump`` / ``json.dumps``, the
``close`` methods of sibling classes) would otherwise earn nothing even when quoted for the right
object. A hard limit rather than a 1/df weight: a paragraph shared by ten documents is not a
tenth about each of them. ``null`` restores the earlier counting (every relevant window).
``details.quip_relevant`` keeps that earlier figure beside ``quip_grounded``; ``quip_all`` is plain
QUIP exactly as Quote-Tuning defines it, untouched by any grounding setting. The document counts
come from one batched suffix-array range search per index over the distinct relevant windows of a
whole batch (infini-gram's ``count``, then the occurrences' documents); a window that occurs more
than :data:`~prefgen.corpus.grounding.COMMON_OCCURRENCES` times in one index counts as common.

``opening: relevant`` adds a rule on how an answer begins: if its first quote (the earliest quoted
span) is not text of a relevant document, grounded QUIP is 0 (``details.opening_rule`` says so).
``details.opens_relevant`` records the opening either way. Specificity alone does not stop such
answers from being chosen: sibling objects share most of a docstring (``statistics.median_low`` and
``median_high``, ``str.rfind`` and ``str.rindex``), so an answer that opens with the sibling's
first sentence and goes on with the shared text still earns credit; on the demo, 24% of round 0's
chosen answers opened with another object's documentation under ``max_other_docs: 2`` alone (32%
without it). The rule is off by default (``any``), since what "the first quote" should be depends
on the task; the quote_tuning pipeline turns it on.

Hostile text: a response is cut at ``max_chars`` characters (default 20,000, some 5,000 tokens)
before anything else looks at it, and scored on that part; ``details.cut`` records the cut and the
response's length. Normalisation is linear and the quote cover is batched, so a megabyte of
anything (one repeated character, spaces in a code fence, a repeated phrase) is scored in well
under a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from prefgen.hashing import content_hash
from prefgen.records import Candidate, Prompt, Scored
from prefgen.rewards.base import Reward, RewardParams, RewardResult

DEMO_INDEX = "demo"
_TEXTS_PER_CALL = 512  # bounds the scorer's per-window arrays on very large batches
_CHARS_PER_CALL = 2_000_000  # the same, for long responses: some 20 int64 arrays per window
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

    relevant_field: str | None = Field(
        None,
        description="Task field listing the ids of the documents relevant to the prompt (a list of ids, or "
        "one id): with it, only quotes from those documents count for grounded QUIP.",
    )
    relevant_match: Literal["exact", "prefix"] = Field(
        "exact", description="How the ids in relevant_field name documents: 'exact' ids, or 'prefix' of ids."
    )
    relevant_id_prefix: str | list[str] | None = Field(
        None, description="Documents whose id starts with this (or one of these) are relevant to every prompt."
    )
    max_other_docs: int | None = Field(
        2,
        ge=0,
        description="Grounding means 'about the object asked': a window counts for grounded QUIP only if "
        "at most this many documents outside the prompt's relevant set also hold it (boilerplate shared by "
        "many documents says nothing about which object an answer is about); null: every window a relevant "
        "document holds counts.",
    )
    opening: Literal["any", "relevant"] = Field(
        "any",
        description="'relevant': an answer whose first quote is not from a relevant document (it opens by "
        "quoting another object's documentation) gets grounded QUIP 0; 'any': no rule on the opening.",
    )
    max_chars: int = Field(
        20_000,
        ge=1,
        le=10_000_000,
        description="A response is scored on its first max_chars characters (cut before normalisation, "
        "recorded in details.cut): the work per response is bounded whatever the policy writes.",
    )
    count: Literal["relevant", "all"] | None = Field(
        None,
        description="What the score counts: 'relevant' (grounded QUIP) or 'all' (plain QUIP); default: "
        "'relevant' when relevant_field or relevant_id_prefix is set, else 'all'.",
    )

    @property
    def grounded(self) -> bool:
        return self.relevant_field is not None or self.relevant_id_prefix is not None

    @property
    def id_prefixes(self) -> list[str]:
        prefixes = self.relevant_id_prefix
        return [] if prefixes is None else [prefixes] if isinstance(prefixes, str) else list(prefixes)

    @property
    def counts(self) -> str:
        """What the score counts, with the default resolved."""
        return self.count or ("relevant" if self.grounded else "all")

    @model_validator(mode="after")
    def _grounding_is_configured(self) -> QuoteParams:
        if self.count == "relevant" and not self.grounded:
            raise ValueError("count: relevant needs relevant_field (a task field of document ids) or relevant_id_prefix")
        if self.relevant_id_prefix is not None and not all(prefix.strip() for prefix in self.id_prefixes):
            raise ValueError("relevant_id_prefix must be a non-empty id prefix or a list of them")
        return self


class QuoteReward(Reward):
    """Score = QUIP: found windows / all windows of the normalised response; None below n characters."""

    name = "quote"
    Params = QuoteParams

    def __init__(self, params: RewardParams | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        self._scorer = None
        self._lookup = None

    def __getstate__(self) -> dict[str, Any]:
        # The scorer holds memory maps; a copy sent to another process loads its own in setup().
        state = dict(self.__dict__)
        state["_scorer"] = None
        state["_lookup"] = None
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
            from prefgen.methods.quote.demo_index import demo_index_dir

            demo_index_dir()

    def check(self) -> list[str]:
        from prefgen.corpus.index import CorpusIndex, InvalidIndexError, MissingIndexError

        problems: list[str] = []
        corpus_fingerprints: list[str | None] = []
        for spec in self.index_specs:
            if spec == DEMO_INDEX:
                try:
                    import prefgen.stdlib.corpus  # noqa: F401
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
                from prefgen.methods.quote.demo_index import demo_corpus_fingerprint

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
        from prefgen.corpus.index import index_fingerprint, read_settings
        from prefgen.methods.quote.demo_index import demo_corpus_fingerprint

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
        params["count"] = self.params.counts  # the default and its explicit spelling score alike
        indexes = [identity["fingerprint"] for identity in self.index_identities()]
        return content_hash({"reward": self.name, "params": params, "indexes": indexes})

    # --- scoring ------------------------------------------------------------------------------------
    def setup(self) -> None:
        from prefgen.corpus.index import CorpusIndex
        from prefgen.corpus.quip import QuipScorer

        indexes = []
        for spec in self.index_specs:
            if spec == DEMO_INDEX:
                from prefgen.methods.quote.demo_index import demo_index_dir

                spec = str(demo_index_dir())
            indexes.append(CorpusIndex(spec))
        claimed = self._claimed_fingerprints()
        if claimed is not None:
            problems = self._check_claimed([index.corpus_fingerprint for index in indexes])
            if problems:
                raise ValueError("; ".join(problems))
        self._scorer = QuipScorer(indexes, n=self.params.n)
        if self.params.grounded:
            from prefgen.corpus.grounding import DocumentLookup

            self._lookup = DocumentLookup(indexes, n=self.params.n)

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        if self._scorer is None:
            self.setup()
        results: list[RewardResult] = []
        for chunk in _chunks(items, self.params.max_chars):
            texts, cuts = [], []
            for _, candidate in chunk:
                # The cut comes before any regex or window: work per response is bounded by max_chars.
                text = candidate.text
                cuts.append(len(text) if len(text) > self.params.max_chars else None)
                texts.append(text[: self.params.max_chars])
            quips = self._scorer.score(texts)
            details = [self._plain_details(quip, cut) for quip, cut in zip(quips, cuts)]
            if not self.params.grounded:
                results += [RewardResult(quip.score, d, quip.reason) for quip, d in zip(quips, details)]
            else:
                results += self._grounded_results([prompt for prompt, _ in chunk], quips, details)
        return results

    def _plain_details(self, quip, cut: int | None) -> dict[str, Any]:
        from prefgen.corpus.grounding import covered_chars

        details = {
            "n": self.params.n,
            "chars": quip.chars,
            "windows_found": quip.windows_found,
            "windows_total": quip.windows_total,
            "longest_quote": quip.longest_quote,
            "quip_all": quip.score,
            "quoted_chars": covered_chars(quip.window_found, self.params.n),
            "quotes": [quote.as_dict() for quote in quip.quotes],
        }
        if cut is not None:
            # Scored: the first max_chars characters of the response (before normalisation).
            details["cut"] = {"at_chars": self.params.max_chars, "response_chars": cut}
        return details

    # --- grounded quoting ---------------------------------------------------------------------------
    def _relevant_names(self, prompt: Prompt) -> tuple[list[str] | None, str | None]:
        """The relevant ids the prompt lists, or None and why they cannot be read."""
        field = self.params.relevant_field
        if field is None:
            return [], None
        if field not in prompt.task:
            return None, (f"task has no '{field}' field (reward.relevant_field): grounded quoting needs "
                          "the ids of the documents relevant to the prompt")
        value = prompt.task[field]
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
            return None, f"task field '{field}' must be a document id or a list of them, got {value!r:.80}"
        return names, None

    def _relevant_set(self, prompt: Prompt, details: dict[str, Any]):
        """The prompt's relevant documents (recorded in ``details``), or None and why not."""
        names, problem = self._relevant_names(prompt)
        if problem is not None:
            return None, problem
        relevant = self._lookup.find(names, self.params.relevant_match, self.params.id_prefixes)
        details["relevant_docs"] = list(relevant.ids)
        if relevant.unknown:
            details["unknown_relevant_ids"] = list(relevant.unknown)
        if not relevant.documents:
            return None, f"none of the relevant document ids {names!r:.120} names a document of the index"
        return relevant, None

    def _grounded_results(self, prompts: Sequence[Prompt], quips, details: list[dict[str, Any]]) -> list[RewardResult]:
        """Grounded QUIP for a chunk: relevant windows first, then one batched specificity count."""
        from prefgen.corpus.grounding import grounded_windows

        n = self.params.n
        relevant_sets, relevant_windows, problems = [], [], []
        for prompt, quip, d in zip(prompts, quips, details):
            relevant, problem = self._relevant_set(prompt, d)
            relevant_sets.append(relevant)
            problems.append(problem)
            if relevant is None:
                relevant_windows.append(None)
                continue
            holders = self._lookup.window_holders(relevant.documents)
            relevant_windows.append(grounded_windows(quip.text, quip.window_found, holders, n))
        specific = self._specific(quips, relevant_sets, relevant_windows)
        results = []
        for quip, d, relevant, on_relevant, keep, problem in zip(
            quips, details, relevant_sets, relevant_windows, specific, problems
        ):
            if problem is not None:
                d.update(quip_grounded=None, grounded_chars=None, grounding_problem=problem)
                score = None if self.params.counts == "relevant" else quip.score
                results.append(RewardResult(score, d, problem if score is None else quip.reason))
                continue
            grounded = self._measure_grounding(quip, relevant, on_relevant, keep, d)
            score = grounded if self.params.counts == "relevant" else quip.score
            results.append(RewardResult(score, d, quip.reason))
        return results

    def _specific(self, quips, relevant_sets, relevant_windows) -> list[np.ndarray | None]:
        """For every relevant window: held by at most ``max_other_docs`` documents outside the relevant
        set. One document-frequency search for the distinct windows of the whole chunk."""
        from prefgen.corpus.grounding import document_frequency

        limit = self.params.max_other_docs
        if limit is None:
            return [None if mask is None else mask.copy() for mask in relevant_windows]
        n = self.params.n
        distinct: dict[str, int] = {}
        for quip, mask in zip(quips, relevant_windows):
            if mask is not None:
                for i in np.flatnonzero(mask).tolist():
                    distinct.setdefault(quip.text[i : i + n], len(distinct))
        most_relevant = max((len(r.documents) for r in relevant_sets if r is not None), default=0)
        frequency = document_frequency(self._scorer.searchers, list(distinct), limit + most_relevant)
        out: list[np.ndarray | None] = []
        for quip, relevant, mask in zip(quips, relevant_sets, relevant_windows):
            if mask is None:
                out.append(None)
                continue
            holders = self._lookup.window_holders(relevant.documents)
            keep = mask.copy()
            for i in np.flatnonzero(mask).tolist():
                window = quip.text[i : i + n]
                keep[i] = frequency[distinct[window]] - holders[window] <= limit
            out.append(keep)
        return out

    def _measure_grounding(self, quip, relevant, on_relevant, specific, details: dict[str, Any]) -> float | None:
        from prefgen.corpus.grounding import covered_mask

        n = self.params.n
        on_topic = covered_mask(specific, n)
        total = quip.windows_total
        score = None if quip.score is None else int(specific.sum()) / total
        details.update(
            quip_grounded=score,
            windows_grounded=int(specific.sum()),
            grounded_chars=int(on_topic.sum()),
            # Every window a relevant document holds, specific or not (grounded QUIP without max_other_docs).
            quip_relevant=None if quip.score is None else int(on_relevant.sum()) / total,
            windows_relevant=int(on_relevant.sum()),
        )
        texts = self._lookup.texts(relevant.documents)
        for quote in details["quotes"]:
            # A quote can run on past the relevant text it starts in (the scorer takes the longest
            # match anywhere): how much of it is on topic is counted apart from the whole-quote mark.
            quote["relevant_chars"] = int(on_topic[quote["start"] : quote["end"]].sum())
            self._mark_quote(quote, relevant, texts)
        if details["quotes"]:
            # Quotes are in order of their start: the first one is what the answer opens with.
            details["opens_relevant"] = details["quotes"][0]["relevant"]
            if self.params.opening == "relevant" and not details["opens_relevant"] and score:
                details["opening_rule"] = "the first quote is not from a relevant document: grounded QUIP 0"
                score = 0.0
                details["quip_grounded"] = score
        return score

    def _mark_quote(self, quote: dict[str, Any], relevant, texts: Sequence[str]) -> None:
        """Mark a quote in (whole quote in one relevant document) or out of the relevant set; an
        in quote names its relevant source."""
        holder = next((i for i, doc_text in enumerate(texts) if quote["text"] in doc_text), None)
        quote["relevant"] = holder is not None
        if holder is None or (quote["source"]["index"], quote["source"]["doc"]) in relevant.documents:
            return
        # The scorer named one occurrence; a reader checking the answer wants the relevant one.
        k, doc = relevant.documents[holder]
        index = self._lookup.indexes[k]
        quote["source"] = {"index": k, "doc": doc, **index.metadata(doc), "offset": texts[holder].index(quote["text"])}

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
            why = "shorter than n or without grounding" if self.params.counts == "relevant" else "shorter than n"
            measure = "grounded QUIP" if self.params.counts == "relevant" else "QUIP"
            lines.append(
                f"- n = {self.params.n}; {len(counted)} of {len(scores)} samples scored "
                f"({len(scores) - len(counted)} {why}, counted as 0 in the first mean); "
                f"mean {measure} {sum(counted) / len(scores):.3f}, over scored samples "
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
        if self.params.grounded:
            lines += self._describe_grounding(scored)
        lines.append(
            "- every quote in `details.quotes` names a document and a character offset in its "
            "normalised text where it occurs verbatim"
        )
        return "\n".join(lines) + "\n"


    def _describe_grounding(self, scored: Sequence[Scored]) -> list[str]:
        """Card lines: what grounding means here, grounded vs plain QUIP, how many quotes stay on topic."""
        where = []
        if self.params.relevant_field:
            where.append(f"the documents listed in the task field `{self.params.relevant_field}` "
                         f"({self.params.relevant_match} ids)")
        if self.params.id_prefixes:
            where.append("documents whose id starts with " + ", ".join(f"`{p}`" for p in self.params.id_prefixes))
        specific = self.params.max_other_docs
        limit = "" if specific is None else f" and at most {specific} other documents of the corpus hold it"
        rule = (
            f"- grounded quoting: a window counts for `quip_grounded` only if it comes from {' or '.join(where)}"
            f"{limit}; the score counts **{self.params.counts}** (`quip_all` is plain QUIP over every document)"
        )
        lines = [rule]
        if self.params.opening == "relevant":
            lines.append("- opening rule: an answer whose first quote is not from its relevant documents scores 0")
        details = [row.details or {} for row in scored]
        grounded = [d for d in details if d.get("quip_grounded") is not None]
        if grounded:
            mean_grounded = sum(d["quip_grounded"] for d in grounded) / len(grounded)
            mean_all = sum(d["quip_all"] for d in grounded) / len(grounded)
            quoting = [d for d in grounded if d.get("quoted_chars")]
            on_topic = sum(2 * d["grounded_chars"] >= d["quoted_chars"] for d in quoting)
            lines.append(
                f"- over {len(grounded)} samples with grounding: mean grounded QUIP {mean_grounded:.3f}, plain "
                f"{mean_all:.3f}; {on_topic} of {len(quoting)} quoting samples take at least half of their "
                "quoted characters from their relevant documents"
            )
        problems = Counter(d["grounding_problem"] for d in details if d.get("grounding_problem"))
        for problem, count in problems.most_common(3):
            lines.append(f"- {count} samples without grounding: {problem}")
        return lines


def _chunks(items: Sequence, max_chars: int):
    """Consecutive slices of ``items`` with at most _TEXTS_PER_CALL texts and about _CHARS_PER_CALL
    characters (each text counted up to ``max_chars``, where it is cut)."""
    start, chars = 0, 0
    for end, (_, candidate) in enumerate(items):
        size = min(len(candidate.text), max_chars)
        if end > start and (end - start >= _TEXTS_PER_CALL or chars + size > _CHARS_PER_CALL):
            yield items[start:end]
            start, chars = end, 0
        chars += size
    if start < len(items):
        yield items[start:]


def fingerprint_matches(actual: str, claimed: str) -> bool:
    """A claimed fingerprint matches if it is the actual one or a prefix of it (>= 8 hex digits)."""
    claimed = claimed.strip().lower()
    return len(claimed) >= _MIN_FINGERPRINT_PREFIX and actual.lower().startswith(claimed)
