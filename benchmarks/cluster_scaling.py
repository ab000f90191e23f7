"""Benchmark: quote-reward scoring throughput on a one-node Ray cluster against a two-node one.

    python benchmarks/cluster_scaling.py                  # writes results/cluster_scaling.{md,json}
    python benchmarks/cluster_scaling.py --responses 2000 --repeats 1 --tag smoke

The same work on both layouts: ``--responses`` synthetic responses (a third quoting the standard
library's docstrings heavily, a third lightly, a third not at all: ``quote_reward.ResponseMaker``)
scored by prefgen's scoring tasks (``prefgen.executors.scoring.ScoringQueue``, the ``quote``
reward on the demo docstring index) in jobs of ``--batch-size``. The clusters are real ``ray
start`` nodes on this machine (``prefgen.executors.local_cluster``: loopback-only network
namespace, token auth): one node with 1 CPU, then a head and a second node with 1 CPU each. The
driver runs inside the namespace. Before timing, one warm-up job per node loads the index in each
node's worker; the timed part is submitting every job and collecting every result. Layouts
alternate (one, two, one, two, ...) to spread out noise from a shared machine; the ratio is of the
median throughputs. Both layouts must return the same scores (checked).

Needs root (network and mount namespaces). Takes a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SRC = HERE.parent / "src"
PARAMS = {"index": "demo", "n": 25}


# --- the driver: runs inside the cluster's namespace ---------------------------------------------------------
def drive(address: str, work_file: Path, batch_size: int) -> dict:
    """Score the work on the cluster at ``address``; returns throughput, node use and scores."""
    import ray

    from prefgen.executors.scoring import ScoringQueue

    rows = json.loads(work_file.read_text())
    ray.init(address=address, log_to_driver=False, include_dashboard=False)
    node_count = sum(1 for node in ray.nodes() if node["Alive"])
    used = _count_scoring_nodes()
    queue = ScoringQueue("quote", PARAMS)
    for k in range(node_count):  # SPREAD puts one warm-up job on each node: each worker loads the index
        queue.submit(("warm-up", k), [rows["prompt"]], rows["candidates"][:8])
    list(queue.finished(wait=True))
    used.clear()
    candidates = rows["candidates"]
    started = time.perf_counter()
    for start in range(0, len(candidates), batch_size):
        queue.submit(start, [rows["prompt"]], candidates[start : start + batch_size])
    scores = {}
    for _, scored in queue.finished(wait=True):
        scores.update({row["id"]: row["score"] for row in scored})
    seconds = time.perf_counter() - started
    characters = sum(len(c["text"]) for c in candidates)
    return {"nodes": node_count, "seconds": seconds, "responses": len(candidates), "characters": characters,
            "responses_per_s": len(candidates) / seconds, "chars_per_s": characters / seconds,
            "jobs_per_node": dict(used), "scores": scores}


def _count_scoring_nodes() -> Counter:
    """Counts the scoring queue's 'scored shard ... on node X' log records, per node."""
    used: Counter = Counter()

    class NodeCounter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            used[record.args[1]] += 1

    logger = logging.getLogger("prefgen.executors.scoring")
    logger.setLevel(logging.INFO)
    logger.addHandler(NodeCounter())
    return used


# --- the orchestrator ------------------------------------------------------------------------------------------
def make_work(path: Path, responses: int, seed: int) -> None:
    """The responses as candidate rows of one prompt, written once and read by every driver."""
    sys.path.insert(0, str(HERE))
    from quote_reward import ResponseMaker, stdlib_docstrings

    from prefgen.records import Candidate, Prompt

    prompt = Prompt(id="p0", prompt="Explain the standard library.")
    texts = [r["text"] for r in ResponseMaker(stdlib_docstrings(), seed).responses(responses)]
    candidates = [Candidate(id=f"c{i}", prompt_id="p0", sample_index=i, text=t).to_row() for i, t in enumerate(texts)]
    path.write_text(json.dumps({"prompt": prompt.to_row(), "candidates": candidates}))


def run_layout(nodes: int, args, work_file: Path) -> dict:
    """Start a cluster of ``nodes`` 1-CPU nodes, run the driver in it, stop it."""
    from prefgen.executors.local_cluster import HEAD_ADDRESS, LocalCluster

    with LocalCluster(env={"PYTHONPATH": str(SRC)}) as cluster:
        for k in range(nodes):
            cluster.add_node("head" if k == 0 else f"node-{k}", num_cpus=1)
        command = [sys.executable, __file__, "--drive", HEAD_ADDRESS, "--work-file", str(work_file),
                   "--batch-size", str(args.batch_size)]
        done = subprocess.run([*cluster.prefix, *command], env=cluster.env, capture_output=True, text=True,
                              timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"driver failed on {nodes} node(s):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_benchmark(args) -> dict:
    import tempfile

    from prefgen.methods.quote.demo_index import demo_index_dir

    demo_index_dir()  # built (and cached) once here, not by the first worker
    with tempfile.TemporaryDirectory(prefix="cluster-scaling-") as work:
        work_file = Path(work) / "work.json"
        make_work(work_file, args.responses, args.seed)
        runs = []
        for repeat in range(args.repeats):
            for nodes in (1, 2):
                result = run_layout(nodes, args, work_file)
                print(f"repeat {repeat}, {nodes} node(s): {result['responses_per_s']:.1f} responses/s, "
                      f"jobs per node {result['jobs_per_node']}", flush=True)
                runs.append(result)
    return summarise(args, runs)


def summarise(args, runs: list[dict]) -> dict:
    one = [r for r in runs if r["nodes"] == 1]
    two = [r for r in runs if r["nodes"] == 2]
    same = all(r["scores"] == runs[0]["scores"] for r in runs)
    median_one = statistics.median(r["responses_per_s"] for r in one)
    median_two = statistics.median(r["responses_per_s"] for r in two)
    for r in runs:
        r.pop("scores")
    return {
        "command": " ".join(["python benchmarks/cluster_scaling.py", *sys.argv[1:]]),
        "machine": {"cpus": _cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version()},
        "responses": args.responses, "batch_size": args.batch_size, "repeats": args.repeats, "seed": args.seed,
        "median_responses_per_s": {"one_node": median_one, "two_nodes": median_two},
        "ratio": median_two / median_one, "target_ratio": 1.7, "same_scores": same, "runs": runs,
    }


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0))


def write_results(summary: dict, tag: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    name = "cluster_scaling" + (f"_{tag}" if tag else "")
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Cluster scaling: quote-reward scoring on one node vs two",
        "",
        (f"Command: `{summary['command']}` ({summary['machine']['cpus']} CPUs, "
        f"{summary['machine']['processor']}, Python {summary['machine']['python']})."),
        "",
        (f"{summary['responses']} responses scored by prefgen's scoring tasks (quote reward, demo index) in jobs "
        f"of {summary['batch_size']}; each layout run {summary['repeats']} time(s), alternating."),
        "",
        "| run | nodes (1 CPU each) | seconds | responses/s | characters/s | jobs per node |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for k, run in enumerate(summary["runs"]):
        lines.append(f"| {k} | {run['nodes']} | {run['seconds']:.2f} | {run['responses_per_s']:.1f} | "
                     f"{run['chars_per_s']:,.0f} | {run['jobs_per_node']} |")
    medians = summary["median_responses_per_s"]
    lines += [
        "",
        (f"- Median throughput: one node {medians['one_node']:.1f} responses/s, two nodes "
        f"{medians['two_nodes']:.1f} responses/s."),
        f"- **Ratio two nodes / one node: {summary['ratio']:.2f}x** (target >= {summary['target_ratio']}x).",
        f"- Same scores on every run: {summary['same_scores']}.",
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=200, help="Responses per scoring job.")
    parser.add_argument("--repeats", type=int, default=3, help="Runs of each layout.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="", help="Suffix of the results' file names.")
    parser.add_argument("--drive", metavar="ADDRESS", help=argparse.SUPPRESS)
    parser.add_argument("--work-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(args.drive, args.work_file, args.batch_size)))
        return
    summary = run_benchmark(args)
    write_results(summary, args.tag)
    print(f"ratio {summary['ratio']:.2f}x; results in {RESULTS}")


if __name__ == "__main__":
    main()
