"""Pair-quality statistics: the biases a preference set can teach besides the reward.

A reward can be right and the pairs still teach something else: that longer answers win, that
any text beats a near copy of itself, that one component of a combined reward decides everything.
These statistics go into every dataset card and ``version.json``, with a warning when a bias
passes its threshold (``output.bias_warnings``).
"""

from __future__ import annotations

import difflib
import itertools
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from prefgen.records import PreferencePair, Scored, group_by_prompt

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


class BiasThresholds(BaseModel):
    """When the card warns (``output.bias_warnings``). Shares are fractions of the published pairs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    chosen_longer: float = Field(0.8, ge=0, le=1, description="Warn when the chosen side is longer in more pairs.")
    # a reward that prefers brevity teaches brevity just as surely
    chosen_shorter: float = Field(0.8, ge=0, le=1, description="Warn when the chosen side is shorter in more pairs.")
    near_duplicate_share: float = Field(0.05, ge=0, le=1, description="Warn when more pairs are near duplicates.")
    similarity: float = Field(0.9, ge=0, le=1, description="Texts at least this similar (0..1) are near duplicates.")


def pair_quality(
    pairs: Sequence[PreferencePair], train_samples: Sequence[Scored], thresholds: BiasThresholds = BiasThresholds()
) -> dict[str, Any]:
    """Statistics of a pair set and the warnings they raise.

    ``train_samples`` are the scored samples pairing chose from: they give the sample pairs
    the pairing rules refused (tied scores, identical texts).
    """
    lengths = [(_tokens(p, "chosen"), _tokens(p, "rejected")) for p in pairs]
    compared = [(c, r) for c, r in lengths if c is not None and r is not None]
    stats: dict[str, Any] = {"pairs": len(pairs), "thresholds": thresholds.model_dump()}
    if compared:
        stats["chosen_longer_share"] = sum(c > r for c, r in compared) / len(compared)
        stats["chosen_shorter_share"] = sum(c < r for c, r in compared) / len(compared)
        stats["same_length_share"] = sum(c == r for c, r in compared) / len(compared)
        stats["length_ratio"] = _quantiles([c / r for c, r in compared if r > 0])
    stats["margin"] = _quantiles([p.margin for p in pairs])
    similar = [_similar(_text(p.chosen), _text(p.rejected), thresholds.similarity) for p in pairs]
    stats["near_duplicate_pairs"] = sum(similar)
    stats["skipped_sample_pairs"] = skipped_sample_pairs(train_samples)
    deciding = Counter(d for d in (deciding_component(p) for p in pairs) if d)
    if deciding:
        stats["deciding_component"] = dict(deciding.most_common())
    stats["warnings"] = bias_warnings(stats, thresholds)
    return stats


def bias_warnings(stats: dict[str, Any], thresholds: BiasThresholds) -> list[str]:
    """One sentence per bias over its threshold, saying what the pairs would teach."""
    warnings = []
    if stats.get("chosen_longer_share", 0) > thresholds.chosen_longer:
        warnings.append(
            f"length bias: the chosen response is longer in {stats['chosen_longer_share']:.0%} of pairs "
            f"(threshold {thresholds.chosen_longer:.0%}); DPO on these pairs may learn 'longer wins'."
        )
    if stats.get("chosen_shorter_share", 0) > thresholds.chosen_shorter:
        warnings.append(
            f"length bias: the chosen response is shorter in {stats['chosen_shorter_share']:.0%} of pairs "
            f"(threshold {thresholds.chosen_shorter:.0%}); DPO on these pairs may learn 'shorter wins'."
        )
    if stats["pairs"] and stats["near_duplicate_pairs"] / stats["pairs"] > thresholds.near_duplicate_share:
        warnings.append(
            f"near duplicates: {stats['near_duplicate_pairs']} of {stats['pairs']} pairs have chosen and rejected "
            f"texts at least {thresholds.similarity:.0%} similar; their gradient goes to a few tokens."
        )
    return warnings


def skipped_sample_pairs(samples: Sequence[Scored]) -> dict[str, int]:
    """Per prompt, the sample pairs no strategy may use: tied scores, identical texts."""
    by_prompt = group_by_prompt(s for s in samples if s.score is not None)
    counts = {"tied_scores": 0, "identical_texts": 0}
    for group in by_prompt.values():
        for a, b in itertools.combinations(group, 2):
            if a.text == b.text:
                counts["identical_texts"] += 1
            elif a.score == b.score:
                counts["tied_scores"] += 1
    return counts


def deciding_component(pair: PreferencePair) -> str | None:
    """For a combined reward: the component whose weighted score gap favours the chosen side most.

    Reads ``details.chosen.components`` / ``details.rejected.components`` (name -> {score,
    weight}); None when the reward has no components or a component is unscored.
    """
    chosen = (pair.details.get("chosen") or {}).get("components")
    rejected = (pair.details.get("rejected") or {}).get("components")
    if not isinstance(chosen, dict) or not isinstance(rejected, dict):
        return None
    gaps = {}
    for name, part in chosen.items():
        other = rejected.get(name) or {}
        if not isinstance(part, dict) or not isinstance(other, dict):
            continue  # another reward's own "components" detail (tool_call: name/keys/values credit)
        if part.get("score") is None or other.get("score") is None:
            continue
        gaps[name] = part.get("weight", 1.0) * (part["score"] - other["score"])
    if not gaps:
        return None
    return max(gaps, key=lambda name: (gaps[name], name))


def render_pair_quality(stats: dict[str, Any]) -> str:
    """The card's "Pair quality" section (markdown)."""
    lines = ["## Pair quality", ""]
    lines += [f"> **Warning** — {w}" for w in stats.get("warnings", [])]
    if stats.get("warnings"):
        lines.append("")
    if not stats["pairs"]:
        return "\n".join(lines + ["No pairs.", ""])
    lines += ["| statistic | value |", "| --- | --- |"]
    if "chosen_longer_share" in stats:
        lines.append(
            f"| chosen longer / shorter / same length (tokens) | {stats['chosen_longer_share']:.1%} / "
            f"{stats['chosen_shorter_share']:.1%} / {stats['same_length_share']:.1%} |"
        )
    if stats.get("length_ratio"):
        lines.append(f"| chosen/rejected length ratio, p10 · p50 · p90 | {_q(stats['length_ratio'])} |")
    lines.append(f"| margin, p10 · p50 · p90 | {_q(stats['margin'])} |")
    lines.append(f"| near-duplicate pairs (similarity ≥ {stats['thresholds']['similarity']:.0%}) | "
                 f"{stats['near_duplicate_pairs']} |")
    skipped = stats["skipped_sample_pairs"]
    lines.append(f"| sample pairs skipped: tied scores · identical texts | {skipped['tied_scores']} · "
                 f"{skipped['identical_texts']} |")
    for name, count in stats.get("deciding_component", {}).items():
        lines.append(f"| pairs decided by component `{name}` | {count} ({count / stats['pairs']:.0%}) |")
    return "\n".join(lines + [""])


# --- helpers --------------------------------------------------------------------------------
def _tokens(pair: PreferencePair, side: str) -> int | None:
    """A side's length in tokens; None for a written (synthetic) side, whose length was never sampled."""
    if getattr(pair, f"{side}_id").startswith("synthetic:"):
        return None
    value = pair.details.get(f"{side}_tokens")
    return value if isinstance(value, int) else None


def _text(side: str | list) -> str:
    if isinstance(side, str):
        return side
    return "\n".join(m.content if hasattr(m, "content") else str(m.get("content", "")) for m in side)


def _similar(a: str, b: str, threshold: float) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # quick_ratio bounds ratio from above: most pairs are rejected without the quadratic match
    return matcher.quick_ratio() >= threshold and matcher.ratio() >= threshold


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    out = {f"p{int(q * 100)}": ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in QUANTILES}
    out.update(min=ordered[0], max=ordered[-1], mean=statistics.fmean(ordered))
    return out


def _q(quantiles: dict[str, float]) -> str:
    return " · ".join(f"{quantiles[k]:.3g}" for k in ("p10", "p50", "p90"))
