"""Crash points for testing resume: ``PREFGEN_CRASH_AT=point[:n][,point[:n]]`` makes the process
SIGKILL itself the n-th time (default 1st) it reaches ``point``.

A SIGKILL cannot be caught, cleaned up after or flushed: exactly what a scheduler's kill, an
OOM kill or a lost machine does. Points: ``engine_start``, ``generate_shard``, ``score_shard``,
``publish_write`` (datasets half written), ``publish_commit`` (version in place, ``latest`` not
yet swapped), and in Ray workers ``engine_generate`` (an engine actor, its shard computed but not
returned) and ``score_task`` (a scoring worker). With ``PREFGEN_CRASH_ONCE=DIR`` each point fires
once across all processes (a marker file in DIR), so a replaced worker does not crash again.
Unset, this costs one dictionary lookup.
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
    counts = dict(entry.partition(":")[::2] for entry in target.split(","))
    if point not in counts:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] >= int(counts[point] or 1) and _first_time(point):
        os.kill(os.getpid(), signal.SIGKILL)


def _first_time(point: str) -> bool:
    """False if another process already fired this point (only with ``PREFGEN_CRASH_ONCE``)."""
    folder = os.environ.get("PREFGEN_CRASH_ONCE")
    if not folder:
        return True
    try:
        with open(os.path.join(folder, point), "x"):
            return True
    except FileExistsError:
        return False
