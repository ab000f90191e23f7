"""QUIP, exactly: the share of a text's character n-grams that occur verbatim in a corpus index.

Both the text and the corpus are normalised the same way (:mod:`prefgen.corpus.normalise`). The
windows are the ``L - n + 1`` character n-grams of the normalised text at stride 1 (a character,
not a byte, is one position); a window counts if some index holds it as a substring of one
document. The result is exact: no Bloom filter, no sampling.

Matching statistics make this cheap. Let ``m(i)`` be the length of the longest prefix of the text
from position ``i`` that occurs in the corpus. Window ``i`` is found iff ``m(i) >= n``, and one
search for ``m(i)`` settles many windows at once:

- if ``m(i) >= n``, windows ``i .. i + m(i) - n`` are all found (they lie inside that match);
- if ``m(i) < n``, windows ``i - (n - 1 - m(i)) .. i`` are all absent (each contains the absent
  string of ``m(i) + 1`` characters at ``i``).

So the scorer searches a sparse grid of positions, then only the gaps the grid left undecided,
from their right ends; a found window just right of a gap is first extended leftwards along the
occurrence already found (a byte comparison, no search). All searches of one round, over all
texts of a batch, go to :class:`~prefgen.corpus.suffix_search.SuffixSearcher` together.

The quotes reported for a text cover exactly its quoted characters: each starts at the first found
window not yet covered and runs as far as the corpus allows (the longest match from there), with
one place in the corpus where it occurs. Quotes may overlap when quoted text joins two passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prefgen.corpus.index import CorpusIndex
from prefgen.corpus.normalise import normalise
from prefgen.corpus.suffix_search import BLOCK, SuffixSearcher

UNKNOWN, FOUND, ABSENT = 0, 1, 2
# Rounds of the quote cover searched one quote per run at a time; runs still open after them are
# finished from one batched search of all their windows (few answers need more than three rounds).
SERIAL_QUOTE_ROUNDS = 8
@dataclass
class Quote:
    """A span of the normalised text found verbatim in the corpus, with one place it occurs."""

    start: int
    end: int
    text: str
    source: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "length": self.end - self.start, "text": self.text,
                "source": self.source}


@dataclass
class QuipResult:
    """The QUIP score of one text, or None (with a reason) below ``n`` characters."""

    score: float | None
    windows_found: int
    windows_total: int
    chars: int
    quotes: list[Quote] = field(default_factory=list)
    reason: str | None = None
    # Found or not for every window (``chars - n + 1`` of them): what grounded counting refines.
    window_found: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)
    text: str = field(default="", repr=False)  # the normalised text the windows are taken from

    @property
    def longest_quote(self) -> int:
        return max((quote.end - quote.start for quote in self.quotes), default=0)


@dataclass
class ScorerStats:
    """Work done, for benchmarks: searches issued, left extensions, rounds."""

    windows: int = 0
    searches: int = 0
    extensions: int = 0
    rounds: int = 0


class _Batch:
    """The normalised texts of one call laid out end to end: bytes, char offsets, windows."""

    def __init__(self, texts: Sequence[str], n: int):
        self.texts = list(texts)
        encoded = [text.encode("utf-8", "surrogatepass") for text in self.texts]
        lengths = np.array([len(text) for text in self.texts], dtype=np.int64)
        self.char_start = np.concatenate([[0], np.cumsum(lengths)])
        byte_lengths = [_char_byte_lengths(text) for text in self.texts]
        per_char = np.concatenate(byte_lengths) if byte_lengths else np.zeros(0, np.int64)
        # byte_of[c]: where global character c starts in the buffer (one entry past the end too).
        self.byte_of = np.concatenate([[0], np.cumsum(per_char)]).astype(np.int64)
        self.buffer = np.frombuffer(b"".join(encoded) + bytes(4 * BLOCK), dtype=np.uint8)
        windows = np.maximum(lengths - n + 1, 0)
        self.window_start = np.concatenate([[0], np.cumsum(windows)])
        total = int(self.window_start[-1])
        owner = np.repeat(np.arange(len(self.texts)), windows)
        # For every window: its text, its first character (global) and the end of its text (global).
        self.window_text = owner
        self.window_char = self.char_start[owner] + (np.arange(total) - self.window_start[owner])
        self.text_end_char = self.char_start[owner + 1]
        self.first_window = self.window_start[owner]
        self.last_window = self.window_start[owner + 1] - 1
        self.total = total


def _char_byte_lengths(text: str) -> np.ndarray:
    """UTF-8 length of every character (lone surrogates count 3, as ``surrogatepass`` writes them)."""
    if text.isascii():
        return np.ones(len(text), dtype=np.int64)
    code = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return 1 + (code >= 0x80).astype(np.int64) + (code >= 0x800) + (code >= 0x10000)


class QuipScorer:
    """Exact QUIP over one or more corpus indexes (a window counts if any index holds it)."""

    def __init__(self, indexes: Sequence[CorpusIndex], n: int = 25):
        if n < 1:
            raise ValueError("n must be at least 1")
        if not indexes:
            raise ValueError("at least one index is needed")
        self.indexes = list(indexes)
        self.searchers = [SuffixSearcher(index) for index in self.indexes]
        self.n = n
        # Grid step of the first round: a search that matches fewer than n - step + 1 characters
        # marks the whole step absent, and longer matches are rare in text that is not a quote.
        self.step = max(1, n - n // 2)
        self.cap = n + self.step  # a search inside a quote then reaches the next grid position
        self.stats = ScorerStats()

    # --- public --------------------------------------------------------------------------------
    def score(self, texts: Sequence[str], *, with_quotes: bool = True) -> list[QuipResult]:
        """QUIP of each text (normalised here), with its quotes and their sources."""
        normalised = [normalise(text) for text in texts]
        batch = _Batch(normalised, self.n)
        found, witness = self._window_status(batch)
        results = []
        quotes = self._quotes(batch, found, witness) if with_quotes else {}
        for t, text in enumerate(normalised):
            total = int(batch.window_start[t + 1] - batch.window_start[t])
            if len(text) < self.n:
                reason = f"too short: {len(text)} characters after normalisation, QUIP needs at least {self.n}"
                results.append(QuipResult(None, 0, 0, len(text), reason=reason, text=text))
                continue
            window_found = found[batch.window_start[t] : batch.window_start[t + 1]].copy()
            hits = int(window_found.sum())
            results.append(QuipResult(hits / total, hits, total, len(text), quotes.get(t, []), None, window_found, text))
        return results

    def window_hits(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Found (True) or not for every window of every text: the raw material of the score."""
        normalised = [normalise(text) for text in texts]
        batch = _Batch(normalised, self.n)
        found, _ = self._window_status(batch)
        return [found[batch.window_start[t] : batch.window_start[t + 1]].copy() for t in range(len(texts))]

    # --- searching -------------------------------------------------------------------------------
    def _probe(self, batch: _Batch, windows: np.ndarray, caps: np.ndarray):
        """Search at these windows' first characters, up to ``caps`` characters (and the text end)."""
        self.stats.searches += len(windows)
        chars = batch.window_char[windows]
        stop = np.minimum(chars + caps, batch.text_end_char[windows])
        starts = batch.byte_of[chars]
        lengths = batch.byte_of[stop] - starts
        best = np.full(len(windows), -1, dtype=np.int64)
        which = np.zeros(len(windows), dtype=np.int64)
        where = np.zeros(len(windows), dtype=np.int64)
        for k, searcher in enumerate(self.searchers):
            lcp, positions = searcher.longest_prefix(batch.buffer, starts, lengths)
            better = lcp > best
            best = np.where(better, lcp, best)
            which = np.where(better, k, which)
            where = np.where(better, positions, where)
        # Whole characters inside the matched bytes (a match can stop inside a multi-byte one).
        matched = np.searchsorted(batch.byte_of, starts + best, side="right") - 1 - chars
        truncated = (matched == stop - chars) & (stop < batch.text_end_char[windows])
        return matched, truncated, which, where

    def _window_status(self, batch: _Batch) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n, total = self.n, batch.total
        self.stats.windows += total
        status = np.zeros(total, dtype=np.int8)
        witness = {
            "match": np.zeros(total, dtype=np.int64),   # m at a searched found window
            "exact": np.zeros(total, dtype=bool),       # m is the true, uncapped m(i)
            "index": np.full(total, -1, dtype=np.int64),
            "position": np.zeros(total, dtype=np.int64),
            "extendable": np.zeros(total, dtype=bool),  # not yet extended leftwards
        }
        first_round = True
        while True:
            gap_start, gap_end = _runs(status == UNKNOWN, batch)
            if gap_start.size == 0:
                break
            self.stats.rounds += 1
            if not first_round and self._extend_into_gaps(batch, status, witness, gap_start, gap_end):
                gap_start, gap_end = _runs(status == UNKNOWN, batch)
                if gap_start.size == 0:
                    break
            first_round = False
            # Search each gap's right end, and every `step` windows to its left.
            counts = (gap_end - gap_start) // self.step + 1
            owner = np.repeat(np.arange(len(gap_end)), counts)
            back = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            probes = gap_end[owner] - back * self.step
            matched, truncated, which, where = self._probe(batch, probes, np.full(len(probes), self.cap))
            is_found = matched >= n
            hit = probes[is_found]
            _mark(status, FOUND, hit, hit + matched[is_found] - n)
            witness["match"][hit] = matched[is_found]
            witness["exact"][hit] = ~truncated[is_found]
            witness["index"][hit] = which[is_found]
            witness["position"][hit] = where[is_found]
            witness["extendable"][hit] = True
            miss = probes[~is_found]
            lowest = np.maximum(miss - (n - 1 - matched[~is_found]), batch.first_window[miss])
            _mark(status, ABSENT, lowest, miss)
        return status == FOUND, witness

    def _extend_into_gaps(self, batch, status, witness, gap_start, gap_end) -> bool:
        """Extend found runs that start right after a gap leftwards along their known occurrence."""
        right = gap_end + 1
        inside = right <= batch.last_window[np.minimum(gap_end, batch.total - 1)]
        right, left = right[inside], gap_start[inside]
        usable = witness["extendable"][right] & (status[right] == FOUND)
        right, left = right[usable], left[usable]
        if right.size == 0:
            return False
        self.stats.extensions += right.size
        witness["extendable"][right] = False
        end_char = batch.window_char[right]
        end_byte = batch.byte_of[end_char]
        limit = end_byte - batch.byte_of[batch.window_char[left]]
        changed = False
        for k, searcher in enumerate(self.searchers):
            mine = witness["index"][right] == k
            if not mine.any():
                continue
            r = right[mine]
            matched_bytes = searcher.extend_left(batch.buffer, end_byte[mine], limit[mine], witness["position"][r])
            # Whole characters only: the first character that starts at or after the match start.
            first_char = np.searchsorted(batch.byte_of, end_byte[mine] - matched_bytes, side="left")
            extended = end_char[mine] - first_char
            grow = extended > 0
            if grow.any():
                changed = True
                r, extended, first_char = r[grow], extended[grow], first_char[grow]
                new = r - extended
                _mark(status, FOUND, new, r - 1)
                witness["match"][new] = witness["match"][r] + extended
                witness["exact"][new] = False  # a longer match may exist at another occurrence
                witness["index"][new] = k
                witness["position"][new] = witness["position"][r] - (end_byte[mine][grow] - batch.byte_of[first_char])
        return changed

    # --- quotes ------------------------------------------------------------------------------------
    def _walk_runs(self, batch: _Batch, cursor: np.ndarray, limit: np.ndarray) -> list[tuple[int, int, int, int]]:
        """The rest of the greedy cover of runs that needed many quotes, from one search per window.

        A run covered by many short quotes (text that keeps leaving one passage for another, such
        as a long run of one character the corpus holds a few dozen times) would cost one round of
        searches per quote; a megabyte of it, thousands. Searching every remaining window of those
        runs at once gives each window's longest match, and the cover is then a walk along them."""
        counts = limit - cursor + 1
        offsets = np.cumsum(counts) - counts
        owner = np.repeat(np.arange(len(cursor)), counts)
        windows = np.repeat(cursor, counts) + np.arange(int(counts.sum())) - np.repeat(offsets, counts)
        matched, _, which, where = self._probe(batch, windows, limit[owner] - windows + self.n)
        spans = []
        for run, (first, last, offset) in enumerate(zip(cursor.tolist(), limit.tolist(), offsets.tolist())):
            window = first
            while window <= last:
                j = offset + window - first
                length = int(matched[j])
                spans.append((window, length, int(which[j]), int(where[j])))
                window += length - self.n + 1
        return spans

    def _quotes(self, batch: _Batch, found: np.ndarray, witness: dict[str, np.ndarray]) -> dict[int, list[Quote]]:
        """Cover every found run greedily with right-maximal matches, each with a source."""
        run_start, run_end = _runs(found, batch)
        cursor, limit = run_start, run_end
        spans: list[tuple[int, int, int, int]] = []  # (window, length, index, position)
        rounds = 0
        while cursor.size:
            rounds += 1
            if rounds > SERIAL_QUOTE_ROUNDS:
                spans += self._walk_runs(batch, cursor, limit)
                break
            exact = witness["exact"][cursor]
            length = np.where(exact, witness["match"][cursor], 0)
            index = witness["index"][cursor].copy()
            position = witness["position"][cursor].copy()
            todo = np.flatnonzero(~exact)
            if todo.size:
                # No match can run past the run's last window + n - 1: the next window is absent.
                caps = limit[todo] - cursor[todo] + self.n
                matched, _, which, where = self._probe(batch, cursor[todo], caps)
                length[todo], index[todo], position[todo] = matched, which, where
            spans.extend(zip(cursor.tolist(), length.tolist(), index.tolist(), position.tolist()))
            following = cursor + length - self.n + 1
            more = following <= limit
            cursor, limit = following[more], limit[more]
        quotes: dict[int, list[Quote]] = {}
        for window, length, k, position in sorted(spans):
            t = int(batch.window_text[window])
            start = int(batch.window_char[window] - batch.char_start[t])
            source = {"index": k, **self.indexes[k].locate(int(position))}
            text = batch.texts[t][start : start + length]
            quotes.setdefault(t, []).append(Quote(start, start + length, text, source))
        return quotes


def _runs(mask: np.ndarray, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
    """First and last window of every maximal run of ``mask`` that stays within one text."""
    if mask.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    boundary = np.zeros(mask.size, dtype=bool)
    boundary[batch.window_start[:-1][batch.window_start[:-1] < mask.size]] = True
    previous = np.concatenate([[False], mask[:-1]]) & ~boundary
    following = np.concatenate([mask[1:], [False]]) & ~np.concatenate([boundary[1:], [True]])
    starts = np.flatnonzero(mask & ~previous)
    ends = np.flatnonzero(mask & ~following)
    return starts, ends


def _mark(status: np.ndarray, value: int, first: np.ndarray, last: np.ndarray) -> None:
    """Set still-unknown windows in the inclusive ranges ``first..last`` to ``value``."""
    if first.size == 0:
        return
    delta = np.zeros(status.size + 1, dtype=np.int64)
    np.add.at(delta, first, 1)
    np.add.at(delta, last + 1, -1)
    covered = np.cumsum(delta[:-1]) > 0
    status[covered & (status == UNKNOWN)] = value
