"""Do the demo policies have the properties their demos are built on? Each is trained (or taken
from the cache) and checked against the bars the demos need; the figures go to
``benchmarks/results/demo_policies.{md,json}`` and the script exits 1 when a bar is missed.

- ``demo:tools`` (tool use): greedy call accuracy by BFCL's checker on the source's held-out
  requests above 0.15 (it copies values into calls of the right shape) and below 0.65 (room for a
  round to gain ten points); at most 6 parse errors; easy held-out requests (copying values it
  never saw) at least 0.6; the train split between 0.35 and 0.85, hard below easy (the
  curriculum stops before it has learnt even what it was taught).
- ``demo:facts`` (refusal awareness): greedy accuracy on the facts of seen modules at least 0.65 on
  both splits, on unseen ones at most 0.35, a gap of at least 0.45.

These were slow tests until the suite had to fit in 20 minutes: training the two policies takes
about 13 minutes on 2 cores, and what they check is a property of two trained artefacts, not of
a code path (the training code runs in the fast tests on tiny budgets).

    python benchmarks/demo_policies.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def check_tools_policy() -> tuple[dict, list[str]]:
    from prefgen.methods.tool_use.demo_policy import evaluate_policy, heldout_rows, tools_policy_dir
    from prefgen.methods.tool_use.stdlib_tools import load_rows

    model_dir = tools_policy_dir()
    heldout = evaluate_policy(model_dir, heldout_rows())
    train = evaluate_policy(model_dir, [r for r in load_rows() if r["split"] == "train"])
    bars = {
        "held-out accuracy in (0.15, 0.65)": 0.15 < heldout["accuracy"] < 0.65,
        "held-out parse errors <= 6": heldout["errors"].get("parse_error", 0) <= 6,
        "held-out easy >= 0.6": heldout["by_difficulty"]["easy"] >= 0.6,
        "train accuracy in (0.35, 0.85)": 0.35 < train["accuracy"] < 0.85,
        "train hard < train easy": train["by_difficulty"]["hard"] < train["by_difficulty"]["easy"],
    }
    figures = {"heldout": heldout, "train": train, "bars": bars}
    return figures, [name for name, ok in bars.items() if not ok]


def check_facts_policy() -> tuple[dict, list[str]]:
    from prefgen.methods.refusal.demo_policy import facts_policy_dir, knowledge_gap
    from prefgen.methods.refusal.stdlib_facts import load_rows

    gap = knowledge_gap(facts_policy_dir(), load_rows())
    bars = {}
    for split in ("train", "heldout"):
        seen, unseen = gap[f"seen/{split}"]["accuracy"], gap[f"unseen/{split}"]["accuracy"]
        bars[f"seen/{split} >= 0.65"] = seen >= 0.65
        bars[f"unseen/{split} <= 0.35"] = unseen <= 0.35
        bars[f"gap/{split} >= 0.45"] = seen - unseen >= 0.45
    return {"gap": gap, "bars": bars}, [name for name, ok in bars.items() if not ok]


def main() -> int:
    report, missed = {}, []
    for name, check in (("demo:tools", check_tools_policy), ("demo:facts", check_facts_policy)):
        started = time.perf_counter()
        figures, failed = check()
        figures["seconds"] = round(time.perf_counter() - started, 1)
        report[name] = figures
        missed += [f"{name}: {bar}" for bar in failed]
        print(f"{name}: {'ok' if not failed else 'MISSED ' + ', '.join(failed)} ({figures['seconds']} s)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "demo_policies.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    lines = ["# Demo policies against the bars their demos need", "", "`python benchmarks/demo_policies.py`", ""]
    for name, figures in report.items():
        lines += [f"## {name}", "", "| bar | met |", "| --- | --- |"]
        lines += [f"| {bar} | {'yes' if ok else '**no**'} |" for bar, ok in figures["bars"].items()]
        lines += ["", "```json", json.dumps({k: v for k, v in figures.items() if k != "bars"}, indent=1), "```", ""]
    (RESULTS / "demo_policies.md").write_text("\n".join(lines))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
