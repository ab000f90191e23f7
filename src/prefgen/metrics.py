"""Reward per split, measured on a run's scored samples (in memory, no re-reading of a version)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from prefgen.records import Scored


def split_metrics(scored: Sequence[Scored]) -> dict[str, dict[str, Any]]:
    """Per split: prompts, samples, mean score (nulls as 0), mean length, and per-prompt means."""
    metrics = {}
    for split in ("train", "heldout"):
        rows = [s for s in scored if s.split == split]
        if not rows:
            continue
        per_prompt: dict[str, list[float]] = {}
        for row in rows:
            per_prompt.setdefault(row.prompt_id, []).append(row.score or 0.0)
        metrics[split] = {
            "prompts": len(per_prompt),
            "samples": len(rows),
            "mean_score": statistics.fmean(r.score or 0.0 for r in rows),
            "mean_tokens": statistics.fmean(r.num_tokens for r in rows),
            "per_prompt": {pid: statistics.fmean(v) for pid, v in per_prompt.items()},
        }
    return metrics
