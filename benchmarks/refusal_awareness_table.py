"""The refusal-awareness target, read from training loops' ``metrics.jsonl`` (the pipeline's own
measurement): for each run, policy 0 and policy 1 on held-out questions, and whether one round
met the target (hallucination on unknown and on unanswerable questions at most half of policy
0's, accuracy on known questions down at most 5 points, AP up).

    prefgen run pipelines/refusal_awareness.yaml rounds=1 generate.seed=0 output.dir=runs/s0
    python benchmarks/refusal_awareness_table.py runs/s0 runs/s1 runs/s2

Each argument is a loop's output directory (``output.dir``) or the loop directory itself.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COLUMNS = ("accuracy_known", "hallucination_rate_unknown", "hallucination_rate_unanswerable", "ap",
           "refusal_rate_known", "refusal_rate_unknown", "refusal_rate_unanswerable", "answer_rate")
SHORT = {"accuracy_known": "acc known", "hallucination_rate_unknown": "halluc unknown",
         "hallucination_rate_unanswerable": "halluc unanswerable", "ap": "AP",
         "refusal_rate_known": "refuse known", "refusal_rate_unknown": "refuse unknown",
         "refusal_rate_unanswerable": "refuse unanswerable", "answer_rate": "answer rate"}


def loop_metrics(run: Path) -> list[dict]:
    """The ``method`` metrics of each policy of the loop under ``run``."""
    candidates = [run / "metrics.jsonl", *sorted(run.glob("*/metrics.jsonl"))]
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        raise SystemExit(f"{run}: no metrics.jsonl (not a training loop's output)")
    return [json.loads(line)["method"] for line in path.read_text().splitlines() if line.strip()]


def target_checks(before: dict, after: dict) -> dict[str, bool]:
    """The four parts of the target for one round."""
    def halved(name: str) -> bool:
        return after[name] is not None and before[name] is not None and after[name] <= 0.5 * before[name]

    return {
        "halluc unknown halved": halved("hallucination_rate_unknown"),
        "halluc unanswerable halved": halved("hallucination_rate_unanswerable"),
        "known acc down <= 5 pts": before["accuracy_known"] - after["accuracy_known"] <= 0.05 + 1e-12,
        "AP up": after["ap"] is not None and before["ap"] is not None and after["ap"] > before["ap"],
    }


def _cell(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(runs: list[Path]) -> str:
    """Markdown: one row per (run, policy), then the target's checks per run."""
    checks_header = list(target_checks({k: 0.0 for k in COLUMNS}, {k: 0.0 for k in COLUMNS}))
    lines = ["| run | policy | " + " | ".join(SHORT[c] for c in COLUMNS) + " | " + " | ".join(checks_header) + " |",
             "| --- | --- | " + " | ".join("---" for _ in COLUMNS) + " | " + " | ".join("---" for _ in checks_header) + " |"]
    for run in runs:
        metrics = loop_metrics(run)
        for k, m in enumerate(metrics):
            checks = target_checks(metrics[0], m) if k else {}
            marks = [("yes" if checks[c] else "**no**") if checks else "" for c in checks_header]
            lines.append(f"| {run.name} | {k} | " + " | ".join(_cell(m.get(c)) for c in COLUMNS) + " | "
                         + " | ".join(marks) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+")
    print(table(parser.parse_args().runs))


if __name__ == "__main__":
    main()
