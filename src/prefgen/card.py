"""The dataset card (``README.md``) and score plot written with every published version."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from prefgen.markdown import markdown_table
from prefgen.models import model_licence
from prefgen.pair_quality import render_pair_quality
from prefgen.records import PreferencePair, Scored


@dataclass
class CardFacts:
    """Everything the card reports about one published version."""

    name: str
    version: str
    created: str
    config: dict[str, Any]
    config_hash: str
    model: str
    model_fingerprint: str
    reward: str
    reward_fingerprint: str
    counts: dict[str, int]
    unpaired: dict[str, int]
    fingerprint: str
    changes: dict[str, Any] = field(default_factory=dict)
    reward_section: str = ""
    pair_quality: dict[str, Any] = field(default_factory=dict)
    extra_sections: list[str] = field(default_factory=list)
    target_section: str = ""  # with target_pairs: reached or not, rounds and samples it took


def score_summary(scored: list[Scored]) -> dict[str, Any]:
    """Mean (nulls as 0, as Quote-Tuning reports), mean over scored, quantiles and null count."""
    values = [s.score for s in scored if s.score is not None]
    summary: dict[str, Any] = {"candidates": len(scored), "null": len(scored) - len(values)}
    if values:
        summary["mean_nulls_as_0"] = sum(values) / len(scored)
        summary["mean_scored"] = statistics.fmean(values)
        ordered = sorted(values)
        for q in (0.1, 0.5, 0.9):
            summary[f"p{int(q * 100)}"] = ordered[min(len(ordered) - 1, int(q * len(ordered)))]
        summary["min"], summary["max"] = ordered[0], ordered[-1]
    return summary


def text_histogram(values: list[float], bins: int = 10, width: int = 40) -> str:
    """A fixed-width text histogram, readable on the hub and in a terminal."""
    if not values:
        return "(no scores)"
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    top = max(counts)
    lines = []
    for i, count in enumerate(counts):
        start = low + span * i / bins
        lines.append(f"{start:8.3f} | {'#' * round(width * count / top):<{width}} {count}")
    return "\n".join(lines)


def plot_scores(scored: list[Scored], pairs: list[PreferencePair], path: Path) -> None:
    """PNG: the score distribution of all samples, and of chosen vs rejected."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [s.score for s in scored if s.score is not None]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    axes[0].hist(values, bins=20, color="#4c72b0")
    axes[0].set(title="All samples", xlabel="score", ylabel="samples")
    axes[1].hist([p.chosen_score for p in pairs], bins=20, alpha=0.6, label="chosen")
    axes[1].hist([p.rejected_score for p in pairs], bins=20, alpha=0.6, label="rejected")
    axes[1].set(title="Pairs", xlabel="score")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def render_card(facts: CardFacts, scored: list[Scored], pairs: list[PreferencePair], examples: int = 3) -> str:
    """The card's markdown, with hub-style YAML front matter."""
    values = [s.score for s in scored if s.score is not None]
    summary = score_summary(scored)
    front = {
        "tags": ["prefgen", "dpo", "preference-data", facts.reward],
        "prefgen": {"version": facts.version, "fingerprint": facts.fingerprint, "config_hash": facts.config_hash},
    }
    parts = [
        "---\n" + yaml.safe_dump(front, sort_keys=False) + "---",
        f"# {facts.name} — preference pairs ({facts.version})",
        f"Made by prefgen on {facts.created}. Load it with "
        f"`datasets.load_from_disk('<this directory>/pairs')`; columns follow TRL's DPO format.",
        "## Provenance",
        key_value_table(
            [
                ("version", facts.version),
                ("dataset fingerprint", facts.fingerprint),
                ("config hash", facts.config_hash),
                ("model", facts.model),
                *([("model licence", model_licence(facts.model))] if model_licence(facts.model) else []),
                ("model fingerprint", facts.model_fingerprint),
                ("reward", facts.reward),
                ("reward fingerprint", facts.reward_fingerprint),
            ]
        ),
        "## Counts",
        key_value_table(sorted(facts.counts.items())),
    ]
    if facts.unpaired:
        parts += ["Prompts without a pair, by reason:", key_value_table(sorted(facts.unpaired.items()))]
    if facts.target_section:
        parts += [facts.target_section]
    if facts.changes:
        parts += ["## Changes since the previous version", key_value_table(sorted(facts.changes.items()))]
    if facts.pair_quality:
        parts += [render_pair_quality(facts.pair_quality)]
    parts += [
        "## Score distribution",
        "Means count unscorable samples (null) as 0, as Quote-Tuning reports them; `mean_scored` leaves them out.",
        key_value_table([(k, f"{v:.4f}" if isinstance(v, float) else v) for k, v in summary.items()]),
        "```\n" + text_histogram(values) + "\n```",
        "![score distribution](score_distribution.png)",
    ]
    if facts.reward_section:
        parts += [facts.reward_section]
    parts += facts.extra_sections
    parts += ["## Example pairs"] + [_example(p) for p in pairs[:examples]]
    if not pairs:
        parts.append("(no pairs)")
    parts += ["## Configuration", "```yaml\n" + yaml.safe_dump(facts.config, sort_keys=False) + "```"]
    return "\n\n".join(parts) + "\n"


def key_value_table(rows) -> str:
    """A two-column ``key | value`` markdown table."""
    return markdown_table(("key", "value"), rows)


def _example(pair: PreferencePair) -> str:
    def text(value) -> str:
        if isinstance(value, list):
            value = "\n".join(f"{m.role}: {m.content}" for m in value)
        return value.strip()[:600]

    details = json.dumps(pair.details, ensure_ascii=False)[:800]
    return (
        f"**prompt** `{pair.prompt_id}` (margin {pair.margin:.3f})\n\n"
        f"```text\n{text(pair.prompt)}\n```\n\n"
        f"chosen ({pair.chosen_score:.3f}):\n\n```text\n{text(pair.chosen)}\n```\n\n"
        f"rejected ({pair.rejected_score:.3f}):\n\n```text\n{text(pair.rejected)}\n```\n\n"
        f"<details><summary>details</summary>\n\n```json\n{details}\n```\n</details>"
    )
