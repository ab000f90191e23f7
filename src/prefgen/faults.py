"""Crash points for testing resume: ``PREFGEN_CRASH_AT=point[:n]`` makes the process SIGKILL
itself the n-th time (default 1st) it reaches ``point``.

A SIGKILL cannot be caught, cleaned up after or flushed: exactly what a scheduler's kill, an
OOM kill or a lost machine does. Points: ``engine_start``, ``generate_shard``, ``score_shard``,
``publish_write`` (datasets half written), ``publish_commit`` (version in place, ``latest`` not
yet swapped). Unset, this costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_seen: dict[str, int] = {}


def crash_point(point: str) -> None:
    """SIGKILL this process if ``PREFGEN_CRASH_AT`` names this point (and count)."""
    target = os.environ.get("PREFGEN_CRASH_AT")
    if not target:
        return
    name, _, count = target.partition(":")
    if name != point:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
