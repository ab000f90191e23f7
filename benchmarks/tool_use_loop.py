"""Tool use on the demo: does one round of tree-search pairs raise held-out call accuracy?

For each seed, runs the one-round loop of ``pipelines/tool_use.yaml`` on the demo tool policy
(``model.path=demo:tools``) twice: with iTool's tree search (the YAML's default) and with the flat
baseline (best vs worst of plain samples at the same token budget). Each run is an ordinary
``prefgen run`` in a subprocess, so a rerun of this script reuses finished loops (prefgen is
incremental). Held-out call accuracy (share of held-out samples the checker accepts) is read for
policy 0 (before) and policy 1 (after one DPO round) from the runs' candidates, with the reward's
own held-out metrics (``metrics.jsonl``, key ``method``) beside it when the reward reports them.

    python benchmarks/tool_use_loop.py --work-dir /tmp/tool_use_loop        # seeds 0 1 2, both arms
    python benchmarks/tool_use_loop.py --work-dir W --seeds 0 --arms tree --set dpo.beta=0.2 --tag beta02

Writes ``benchmarks/results/tool_use_loop[-TAG].{md,json}``. Not a test: nothing is asserted;
every run is written as measured, failures included. Heavy (vLLM, DPO): run it alone.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
PIPELINE = "pipelines/tool_use.yaml"
TARGET_GAIN = 0.10
# What makes an arm: overrides of pipelines/tool_use.yaml (its header documents the flat switch).
ARMS: dict[str, list[str]] = {
    "tree": [],
    "flat": ["generate.flat=true"],
}


def run_loop(work_dir: Path, arm: str, seed: int, extra: list[str]) -> dict[str, Any]:
    """One ``prefgen run`` of the loop; returns its exit code, seconds and log path (relative)."""
    out = work_dir / f"{arm}-s{seed}"
    command = [
        sys.executable, "-m", "prefgen.cli", "run", PIPELINE, "rounds=1", "model.path=demo:tools",
        f"generate.seed={seed}", f"generate.sampling.seed={seed}", f"dpo.seed={seed}", f"output.dir={out}",
        *ARMS[arm], *extra, "--quiet",
    ]
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(out / "benchmark.log", "w") as log:
        code = subprocess.run(command, check=False, stdout=log, stderr=subprocess.STDOUT).returncode
    return {"exit_code": code, "seconds": round(time.perf_counter() - started, 1),
            "overrides": ARMS[arm] + extra, "out": out}


def loop_dir(out: Path) -> Path:
    """The loop's run directory under ``output.dir`` (one pipeline name inside)."""
    found = [p.parent for p in out.glob("*/metrics.jsonl")]
    if len(found) != 1:
        raise FileNotFoundError(f"expected one */metrics.jsonl under {out}, found {len(found)}")
    return found[0]


def heldout_accuracy(round_dir: Path) -> dict[str, Any]:
    """Share of a round's held-out samples that are valid calls (score 1); by difficulty: the reward's metrics."""
    from datasets import load_from_disk

    rows = [r for r in load_from_disk(str(round_dir / "latest" / "candidates")).to_list() if r["split"] == "heldout"]
    valid = [row["score"] == 1.0 for row in rows]  # the tool_call reward gives 1 to valid calls only
    return {
        "samples": len(rows),
        "prompts": len({r["prompt_id"] for r in rows}),
        "accuracy": {"all": statistics.fmean(valid) if valid else float("nan")},
    }


def measure(run: dict[str, Any]) -> dict[str, Any]:
    """Before/after held-out accuracy of one finished loop, with its metrics.jsonl entries."""
    try:
        root = loop_dir(run["out"])
    except FileNotFoundError as exc:
        return {"error": str(exc)}
    metrics = [json.loads(line) for line in (root / "metrics.jsonl").read_text().splitlines() if line.strip()]
    result: dict[str, Any] = {"policies": {}}
    for entry in metrics:
        k = entry["round"]
        accuracy = heldout_accuracy(root / "rounds" / f"round_{k}")
        result["policies"][k] = {
            **accuracy,
            "pairs": entry.get("pairs"),
            "heldout_mean_score": entry.get("heldout_mean_score"),
            "method": entry.get("method") or {},
        }
    if {0, 1} <= set(result["policies"]):
        before, after = (result["policies"][k]["accuracy"]["all"] for k in (0, 1))
        result["gain"] = after - before
    return result


def markdown(command: str, runs: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# Tool use on the demo: one round, held-out call accuracy",
        "",
        "```",
        command,
        "```",
        "",
        (f"Policy 0 = `demo:tools`; policy 1 = after one DPO round on the arm's pairs. Held-out call accuracy = "
         f"share of held-out samples BFCL's checker accepts. Target: tree arm +{TARGET_GAIN * 100:.0f} points on every seed."),
        "",
        "| arm | seed | exit | minutes | pairs | accuracy before | accuracy after | gain | by difficulty, before → after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, run in runs.items():
        arm, seed = label.rsplit("-s", 1)
        m = run["measured"]
        if "gain" not in m:
            lines.append(f"| {arm} | {seed} | {run['exit_code']} | {run['seconds'] / 60:.1f} | "
                         f"incomplete: {m.get('error', 'no policy 1')} | | | | |")
            continue
        before, after = m["policies"][0], m["policies"][1]
        was = difficulty_accuracy(before)
        by_difficulty = ", ".join(f"{k} {was.get(k, float('nan')):.2f} → {v:.2f}"
                                  for k, v in difficulty_accuracy(after).items())
        lines.append(
            f"| {arm} | {seed} | {run['exit_code']} | {run['seconds'] / 60:.1f} | {before['pairs']} | "
            f"{before['accuracy']['all']:.3f} | {after['accuracy']['all']:.3f} | {m['gain']:+.3f} | {by_difficulty} |"
        )
    lines += ["", *summary_lines(runs), ""]
    return "\n".join(lines)


def difficulty_accuracy(policy: dict[str, Any]) -> dict[str, float]:
    """Accuracy per difficulty bucket, as the tool_call reward reports it in the loop's metrics."""
    return {k.removeprefix("accuracy."): v for k, v in policy.get("method", {}).items() if k.startswith("accuracy.")}


def summary_lines(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Mean gain per arm over the seeds that finished."""
    lines = []
    for arm in ARMS:
        gains = [r["measured"]["gain"] for label, r in runs.items() if label.startswith(f"{arm}-s")
                 and "gain" in r["measured"]]
        if gains:
            lines.append(f"- {arm}: mean gain {statistics.fmean(gains):+.3f} over {len(gains)} seed(s) "
                         f"(min {min(gains):+.3f}, max {max(gains):+.3f})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work-dir", type=Path, required=True, help="where the runs' output directories go")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--arms", nargs="+", choices=sorted(ARMS), default=list(ARMS))
    parser.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE",
                        help="an override for every run (e.g. dpo.beta=0.2)")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args()
    command = "python benchmarks/tool_use_loop.py " + shlex.join(
        [a if not a.startswith("/") else "WORK_DIR" for a in sys.argv[1:]])
    runs: dict[str, dict[str, Any]] = {}
    for seed in args.seeds:
        for arm in args.arms:
            run = run_loop(args.work_dir, arm, seed, args.extra)
            run["measured"] = measure(run)
            run["out"] = run["out"].name  # results must not carry this machine's paths
            runs[f"{arm}-s{seed}"] = run
            print(f"{arm}-s{seed}", json.dumps(run, default=str), flush=True)
            write_results("tool_use_loop" + (f"-{args.tag}" if args.tag else ""), command, runs)


def write_results(name: str, command: str, runs: dict[str, dict[str, Any]]) -> None:
    """The figures so far (written after every run, so a long session keeps what it measured)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({"command": command, "runs": runs}, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(command, runs))
    print(f"wrote {RESULTS / name}.md and .json", flush=True)


if __name__ == "__main__":
    main()
