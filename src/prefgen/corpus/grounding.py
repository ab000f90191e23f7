"""Grounded quoting: which of a response's quoted windows come from the documents a prompt names.

Plain QUIP counts a window wherever the corpus holds it, so an answer about ``io.FileIO.close``
that recites the docstring of ``seek`` scores as well as one that quotes ``close``. Grounded QUIP
counts a window only if one of the prompt's *relevant* documents holds it: the same denominator
(every window of the normalised response), a stricter numerator.

The relevant documents of a prompt are found by their ``id`` metadata, in every index:

- ids listed in the prompt (a task field), matched exactly, or as id prefixes (``match="prefix"``:
  ``json.`` names every document whose id starts with ``json.``);
- plus, for every prompt, the documents whose id starts with one of the fixed ``id_prefixes``.

The check is exact: a window is grounded iff it is a substring of a relevant document's normalised
text (the text the index holds), found by looking it up in the set of those texts' windows.
"""

from __future__ import annotations

import bisect
import functools
from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass, field

import numpy as np

from prefgen.corpus.index import CorpusIndex
from prefgen.corpus.suffix_search import BLOCK, SuffixSearcher

MATCH_MODES = ("exact", "prefix")
_CACHED_SETS = 256  # relevant-window sets kept (one per prompt; samples of a prompt share it)
COMMON_OCCURRENCES = 64  # a window found more often than this in one index is common text


@dataclass(frozen=True)
class RelevantSet:
    """The documents relevant to one prompt: (index, doc) pairs, their ids, and ids not found."""

    documents: tuple[tuple[int, int], ...]
    ids: tuple[str, ...]
    unknown: tuple[str, ...] = field(default=())


class DocumentLookup:
    """Finds documents by id (exactly or by prefix) across indexes; holds their window sets."""

    def __init__(self, indexes: Sequence[CorpusIndex], n: int):
        self.indexes = list(indexes)
        self.n = n
        # Sorted (id, index, doc) triples: exact and prefix lookups are binary searches.
        triples = []
        for k, index in enumerate(self.indexes):
            triples += [(doc_id, k, doc) for doc, doc_id in enumerate(index.document_ids()) if doc_id is not None]
        triples.sort()
        self._triples = triples
        self._ids = [doc_id for doc_id, _, _ in triples]
        self.windows = functools.lru_cache(maxsize=_CACHED_SETS)(self._windows)
        self.texts = functools.lru_cache(maxsize=_CACHED_SETS)(self._texts)
        self.window_holders = functools.lru_cache(maxsize=_CACHED_SETS)(self._window_holders)

    def find(self, names: Sequence[str], match: str = "exact", id_prefixes: Sequence[str] = ()) -> RelevantSet:
        """The documents ``names`` designate (``match``: exact ids or id prefixes), plus those
        whose id starts with one of ``id_prefixes``."""
        if match not in MATCH_MODES:
            raise ValueError(f"match must be one of {MATCH_MODES}, got {match!r}")
        found: dict[tuple[int, int], str] = {}
        unknown = []
        for name in names:
            hits = self._prefixed(name) if match == "prefix" else self._exact(name)
            if not hits:
                unknown.append(name)
            found.update(hits)
        for prefix in id_prefixes:
            found.update(self._prefixed(prefix))
        ordered = tuple(sorted(found))
        return RelevantSet(ordered, tuple(found[key] for key in ordered), tuple(unknown))

    def _exact(self, name: str) -> dict[tuple[int, int], str]:
        start = bisect.bisect_left(self._ids, name)
        end = bisect.bisect_right(self._ids, name)
        return {(k, doc): doc_id for doc_id, k, doc in self._triples[start:end]}

    def _prefixed(self, prefix: str) -> dict[tuple[int, int], str]:
        start = bisect.bisect_left(self._ids, prefix)
        hits = {}
        for doc_id, k, doc in self._triples[start:]:
            if not doc_id.startswith(prefix):
                break
            hits[(k, doc)] = doc_id
        return hits

    def _texts(self, documents: tuple[tuple[int, int], ...]) -> tuple[str, ...]:
        return tuple(self.indexes[k].document_text(doc) for k, doc in documents)

    def _window_holders(self, documents: tuple[tuple[int, int], ...]) -> dict[str, int]:
        """Every window of these documents, with how many of them hold it."""
        n = self.n
        holders: Counter[str] = Counter()
        for text in self.texts(documents):
            holders.update({text[i : i + n] for i in range(len(text) - n + 1)})
        return dict(holders)

    def _windows(self, documents: tuple[tuple[int, int], ...]) -> frozenset[str]:
        n = self.n
        return frozenset(text[i : i + n] for text in self.texts(documents) for i in range(len(text) - n + 1))


def document_frequency(searchers: Sequence[SuffixSearcher], windows: Sequence[str], limit: int) -> np.ndarray:
    """How many documents (over all indexes) hold each window: exact up to ``limit``, ``limit + 1``
    for anything more.

    One batched suffix-array range search per index counts a window's occurrences (infini-gram's
    ``count``); the occurrences' documents are then read from the document offsets. A window that
    occurs more than :data:`COMMON_OCCURRENCES` times in an index counts as held by more than
    ``limit`` documents without locating them: text repeated that often is boilerplate even if a
    few documents repeat it, and it keeps the work per window bounded.
    """
    counts = np.zeros(len(windows), dtype=np.int64)
    if not windows:
        return counts
    encoded = [window.encode("utf-8", "surrogatepass") for window in windows]
    lengths = np.array([len(raw) for raw in encoded], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    buffer = np.frombuffer(b"".join(encoded) + bytes(4 * BLOCK), dtype=np.uint8)
    for searcher in searchers:
        lo, hi = searcher.prefix_range(buffer, starts, lengths)
        occurrences = hi - lo
        common = occurrences > COMMON_OCCURRENCES
        counts[common] += limit + 1
        few = np.flatnonzero(~common & (occurrences > 0))
        if few.size:
            owner = np.repeat(few, occurrences[few])
            ranks = np.repeat(lo[few] - np.cumsum(occurrences[few]) + occurrences[few], occurrences[few])
            ranks += np.arange(ranks.size)
            positions = searcher.index.suffix_positions(ranks)
            docs = np.searchsorted(searcher.index.doc_offsets, positions, side="right") - 1
            pairs = np.unique(owner * searcher.index.documents + docs)
            counts += np.bincount(pairs // searcher.index.documents, minlength=len(windows))
    return np.minimum(counts, limit + 1)


def grounded_windows(text: str, found: np.ndarray, windows: Container[str], n: int) -> np.ndarray:
    """For each window of the normalised ``text``: found in the corpus and held by a relevant document."""
    grounded = np.zeros(len(found), dtype=bool)
    for i in np.flatnonzero(found).tolist():
        grounded[i] = text[i : i + n] in windows
    return grounded


def covered_mask(windows: np.ndarray, n: int) -> np.ndarray:
    """For each character of the text: inside at least one marked window (a window covers ``n``)."""
    if windows.size == 0:
        return np.zeros(0, dtype=bool)
    cover = np.zeros(windows.size + n, dtype=np.int64)
    starts = np.flatnonzero(windows)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + n, -1)
    return np.cumsum(cover)[: windows.size + n - 1] > 0


def covered_chars(windows: np.ndarray, n: int) -> int:
    """How many characters the marked windows cover."""
    return int(np.count_nonzero(covered_mask(windows, n)))
