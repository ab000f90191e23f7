"""Vectorised suffix-array search over a memory-mapped index: many queries per numpy call.

Calling infini-gram's engine once per query costs about 70 µs, almost all of it call overhead;
the search itself is some 25 probes of the suffix array. Here a batch of queries is searched in
lockstep: every step of the binary search is a handful of numpy operations over all queries of
the batch, reading the memory-mapped ``tokenized.0`` / ``table.0`` files directly.

Two standard refinements keep each step cheap:

- a table of the suffix-array range of every two-byte prefix (65,536 entries, computed once) starts
  every search about ten steps in;
- the common prefix that a query is known to share with both ends of its current range (the
  smaller of the two LCPs) is skipped, so each step compares one short block of bytes.

The question answered is the one QUIP's matching statistics need: the longest prefix of a query
that occurs in the text, and one position where it occurs. It is the larger of the query's
longest common prefixes with the two suffixes around its insertion point.
"""

from __future__ import annotations

import numpy as np

from prefgen.corpus.index import CorpusIndex

BLOCK = 16  # bytes compared per query per step; longer equal runs take extra rounds
_ARANGE = np.arange(BLOCK, dtype=np.int64)


class SuffixSearcher:
    """Longest-prefix search of byte strings in one :class:`CorpusIndex`."""

    def __init__(self, index: CorpusIndex):
        self.index = index
        self.text = np.asarray(index.text)  # plain ndarray view of the memmap: cheaper fancy indexing
        self.size = index.size
        self.buckets = self._bucket_table()

    # --- public ----------------------------------------------------------------------------
    def longest_prefix(
        self, buffer: np.ndarray, starts: np.ndarray, lengths: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each query ``buffer[starts[k] : starts[k] + lengths[k]]``: the length of its longest
        prefix found in the text, and a text position where that prefix occurs.

        ``buffer`` must extend at least :data:`BLOCK` bytes past the last query (padding).
        """
        starts = np.asarray(starts, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        lo, hi, known = self._initial_range(buffer, starts, lengths)
        lo, hi, low_lcp, high_lcp, low_set, high_set = self._lower_bound(buffer, starts, lengths, lo, hi, known)
        left_lcp = self._lcp_at(buffer, starts, lengths, lo - 1, low_lcp, low_set)
        right_lcp = self._lcp_at(buffer, starts, lengths, hi, high_lcp, high_set)
        use_right = right_lcp >= left_lcp
        best = np.where(use_right, right_lcp, left_lcp)
        rank = np.clip(np.where(use_right, hi, lo - 1), 0, self.size - 1)
        positions = self.index.suffix_positions(rank)
        return best, positions

    def prefix_range(self, buffer: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each query: the suffix-array ranks ``[lo, hi)`` of the suffixes that start with it, so
        ``hi - lo`` is how often it occurs (infini-gram's ``count``) and ``suffix_positions(lo..hi-1)``
        are where. Same padding rule as :meth:`longest_prefix`."""
        starts = np.asarray(starts, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        lo, hi, known = self._initial_range(buffer, starts, lengths)
        first, _, _, _, _, _ = self._lower_bound(buffer, starts, lengths, lo, hi, known)
        end, _, _, _, _, _ = self._lower_bound(buffer, starts, lengths, first, hi, known, past_prefix=True)
        return first, end

    def extend_left(self, buffer: np.ndarray, ends: np.ndarray, limits: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """How many bytes before ``buffer[ends]`` equal the bytes before ``text[positions]``
        (at most ``limits``): the length by which a known occurrence extends to the left."""
        ends = np.asarray(ends, dtype=np.int64)
        positions = np.asarray(positions, dtype=np.int64)
        limits = np.asarray(limits, dtype=np.int64)
        width = int(limits.max(initial=0))
        if width == 0:
            return np.zeros(len(ends), dtype=np.int64)
        back = np.arange(1, width + 1, dtype=np.int64)
        query_bytes = buffer[np.maximum(ends[:, None] - back, 0)]
        text_index = positions[:, None] - back
        text_bytes = self.text[np.maximum(text_index, 0)]
        differ = (query_bytes != text_bytes) | (text_index < 0) | (back > limits[:, None])
        return np.where(differ.any(axis=1), differ.argmax(axis=1), width)

    # --- the search --------------------------------------------------------------------------
    def _initial_range(self, buffer, starts, lengths):
        """Start each search within the range of its first two bytes."""
        two = lengths >= 2
        first = buffer[starts].astype(np.int64)
        second = buffer[starts + 1].astype(np.int64)
        key = first * 256 + second
        lo = np.where(two, self.buckets[key], 0)
        hi = np.where(two, self.buckets[key + 1], self.size)
        known = np.where(two, 2, 0)  # every suffix in a two-byte bucket shares those two bytes
        return lo, hi, known

    def _lower_bound(self, buffer, starts, lengths, lo, hi, known, past_prefix=False):
        """Binary search for the first suffix >= query, tracking LCPs with both range ends; with
        ``past_prefix``, for the first suffix that is > query and does not start with it."""
        lo, hi = lo.copy(), hi.copy()
        low_lcp, high_lcp = known.copy(), known.copy()
        low_set = np.zeros(len(lo), dtype=bool)
        high_set = np.zeros(len(lo), dtype=bool)
        active = np.flatnonzero(lo < hi)
        while active.size:
            mid = (lo[active] + hi[active]) >> 1
            skip = np.minimum(low_lcp[active], high_lcp[active])
            lcp, less = self._compare(buffer, starts[active], lengths[active], self.index.suffix_positions(mid), skip)
            if past_prefix:
                less |= lcp >= lengths[active]  # a suffix starting with the query sorts before the bound
            lo[active] = np.where(less, mid + 1, lo[active])
            low_lcp[active] = np.where(less, lcp, low_lcp[active])
            low_set[active] |= less
            hi[active] = np.where(less, hi[active], mid)
            high_lcp[active] = np.where(less, high_lcp[active], lcp)
            high_set[active] |= ~less
            active = active[lo[active] < hi[active]]
        return lo, hi, low_lcp, high_lcp, low_set, high_set

    def _lcp_at(self, buffer, starts, lengths, ranks, tracked, tracked_exact):
        """The LCP of each query with the suffix at ``ranks`` (0 outside the array)."""
        lcp = np.where(tracked_exact, tracked, 0)
        todo = np.flatnonzero(~tracked_exact & (ranks >= 0) & (ranks < self.size))
        if todo.size:
            positions = self.index.suffix_positions(ranks[todo])
            lcp[todo], _ = self._compare(buffer, starts[todo], lengths[todo], positions, np.zeros(todo.size, np.int64))
        return lcp

    def _compare(self, buffer, starts, lengths, positions, skip):
        """LCP of each query with the suffix at ``positions`` (both known to share ``skip`` bytes),
        and whether that suffix sorts before the query."""
        lcp = np.minimum(skip, lengths).astype(np.int64)
        less = np.zeros(len(starts), dtype=bool)
        todo = np.flatnonzero(lcp < lengths)
        while todo.size:
            offset = lcp[todo][:, None] + _ARANGE
            query = buffer[starts[todo][:, None] + offset]
            text_index = positions[todo][:, None] + offset
            beyond = text_index >= self.size  # the suffix has ended: it sorts first
            text = self.text[np.minimum(text_index, self.size - 1)]
            differ = ((query != text) | beyond) & (offset < lengths[todo][:, None])
            found = differ.any(axis=1)
            first = differ.argmax(axis=1)
            rows = np.flatnonzero(found)
            at = first[rows]
            lcp[todo[rows]] = offset[rows, at]
            less[todo[rows]] = beyond[rows, at] | (text[rows, at] < query[rows, at])
            rest = todo[~found]
            lcp[rest] = np.minimum(lcp[rest] + BLOCK, lengths[rest])
            todo = rest[lcp[rest] < lengths[rest]]
        return lcp, less

    def _bucket_table(self) -> np.ndarray:
        """``table[k]``: rank of the first suffix >= the two bytes ``k``; ``table[65536]`` = size."""
        # A suffix's first two bytes as one number that sorts like the bytes; a one-byte suffix
        # (the last byte of the text) sorts before every two-byte string that starts with it.
        def code(positions: np.ndarray) -> np.ndarray:
            first = self.text[positions].astype(np.int64)
            has_second = positions + 1 < self.size
            second = self.text[np.minimum(positions + 1, self.size - 1)].astype(np.int64) + 1
            return first * 257 + np.where(has_second, second, 0)

        keys = np.arange(65536, dtype=np.int64)
        wanted = (keys >> 8) * 257 + (keys & 255) + 1
        lo = np.zeros(65536, dtype=np.int64)
        hi = np.full(65536, self.size, dtype=np.int64)
        active = np.flatnonzero(lo < hi)
        while active.size:
            mid = (lo[active] + hi[active]) >> 1
            less = code(self.index.suffix_positions(mid)) < wanted[active]
            lo[active] = np.where(less, mid + 1, lo[active])
            hi[active] = np.where(less, hi[active], mid)
            active = active[lo[active] < hi[active]]
        return np.append(lo, self.size)
