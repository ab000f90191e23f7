"""A method's own held-out metrics in a training loop (refusal rates, call accuracy by bucket...).

The loop measures every policy by the mean reward on held-out prompts. A method often has better
words for what changed: R-Tuning's hallucination rate and AP, iTool's call accuracy per difficulty.
A reward supplies them by overriding :meth:`prefgen.rewards.base.Reward.loop_metrics`, which gets a
:class:`HeldoutRound` per policy; the loop writes them to ``metrics.jsonl`` (key ``method``), a
table in the loop's card and ``method_metrics.png``. No core code changes for a new method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefgen.markdown import markdown_table
from prefgen.records import Prompt, Scored

MetricValue = float | int | None


class PolicyEngines:
    """A handle on one policy's engines for a reward's extra measurements: nothing is resolved or
    started until a reward asks (most never do). ``open()`` returns the policy's model directory
    (for its tokenizer) and its engine pool (shared with the run's own)."""

    def __init__(self, open: Callable[[], tuple[str, Any]]):
        self._open = open
        self._opened: tuple[str, Any] | None = None

    def _get(self) -> tuple[str, Any]:
        if self._opened is None:
            self._opened = self._open()
        return self._opened

    @property
    def model_dir(self) -> str:
        return self._get()[0]

    def engines(self) -> Any:
        """The pool (``map_unordered(batches)``), started now if it is not running yet."""
        return self._get()[1]


@dataclass
class HeldoutRound:
    """What a reward sees of one policy's held-out samples in a loop.

    ``first`` is policy 0's round (None for policy 0 itself): labels that must be decided once,
    such as which questions policy 0 knows, come from it so every policy is judged on the same
    buckets. ``policy_engines`` lets a reward make extra measurements on the policy's own engines
    (log-probabilities of fixed continuations, say) without knowing the runtime or the config.
    """

    round: int
    policy: str
    prompts: dict[str, Prompt]
    scored: list[Scored]
    first: HeldoutRound | None = None
    policy_engines: PolicyEngines | None = None
    memo: dict[str, Any] = field(default_factory=dict)  # a reward may keep what it derived here


def method_table(metrics: list[dict[str, Any]]) -> str:
    """Markdown: one row per method metric, one column per policy; empty when no reward gave any."""
    names = _metric_names(metrics)
    if not names:
        return ""
    rounds = [m["round"] for m in metrics]
    lines = [
        "## The method's held-out metrics by round",
        "",
        "Reported by the reward (see its section of the README for definitions).",
        "",
    ]
    rows = [[name, *(_cell(m.get("method", {}).get(name)) for m in metrics)] for name in names]
    lines.append(markdown_table(["metric", *(f"policy {r}" for r in rounds)], rows))
    return "\n".join(lines)


def plot_method_metrics(metrics: list[dict[str, Any]], path: Path, per_row: int = 4) -> bool:
    """PNG with one small panel per method metric over the policies; False when there are none."""
    names = _metric_names(metrics)
    if not names:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (len(names) + per_row - 1) // per_row
    cols = min(per_row, len(names))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.6 * rows), squeeze=False)
    rounds = [m["round"] for m in metrics]
    for ax, name in zip(axes.flat, names):
        values = [m.get("method", {}).get(name) for m in metrics]
        ax.plot(rounds, [float("nan") if v is None else v for v in values], marker="o")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(rounds)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.supxlabel("policy (round)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _metric_names(metrics: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for m in metrics:
        names += [n for n in m.get("method", {}) if n not in names]
    return names


def _cell(value: MetricValue) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.3f}"
