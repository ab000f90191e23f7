"""How long each reward takes over adversarial text, and whether that time grows linearly with its size.

For every registered reward this script can build offline (``execution``, ``length``, ``regex``,
``combined`` of those three, ``quote`` on the demo index when it is cached or builds within the
cap, ``tool_call``, ``refusal``), each adversarial input (a run of one character, whitespace in a
fence, unclosed brackets and quotes, deep nesting, a 100,000-digit integer, mixed Unicode with
zero-width and combining characters, repeated fence openers, ...) is scored at 10 kB, 100 kB and
1 MB (10,000 / 100,000 / 1,000,000 characters) through ``score_safely``, as the pipeline calls it.
Reported: seconds, seconds per MB at each size, and ``t(1 MB) / (10 * t(100 kB))``, which is
about 1 for a linear reward and about 10 for a quadratic one (a reward that turns text over its
size limit away early shows a ratio well below 1).

Each (reward, input) pair runs in a subprocess of its own, sizes in increasing order, each size
timed as the median of up to three scorings after one untimed warm-up on a benign answer (which
starts the sandbox, loads indexes). Each scoring of one input has a wall-clock cap (``--cap``):
past it the subprocess is killed and the input, and the larger ones after it, are recorded as
"timed out". Nothing here asserts a speed.

    python benchmarks/hostile_text.py [--cap 30] [--rewards execution,length]

Writes benchmarks/results/hostile_text.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = {"10 kB": 10_000, "100 kB": 100_000, "1 MB": 1_000_000}
REWARDS = ("execution", "length", "regex", "combined", "quote", "tool_call", "refusal")
REGEX = {"require": [r"(?m)^def \w+\(", r"return\s+\w+"], "forbid": [r"(?i)as an ai\b", r"```\s*$"]}
REPEATS = 3


# --- the adversarial inputs ----------------------------------------------------------------------

def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _docstring_run(size: int) -> str:
    import json as module  # any standard-library docstring: text the demo index holds

    return _repeat(module.__doc__, size)


INPUTS = {
    "one_char_run": lambda n: "a" * n,
    "spaces_after_fence": lambda n: "```" + " " * (n - 3),
    "whitespace_in_fence": lambda n: "```python\n" + _repeat(" \t \n", n - 14) + "```\n",
    "unclosed_fence_of_spaces": lambda n: "```\n" + " " * (n - 4),
    "unclosed_brackets_and_quotes": lambda n: _repeat("x, (['\"{", n),
    "nested_parens": lambda n: "(" * n,
    "nested_brackets": lambda n: "[" * n,
    "nested_json": lambda n: _repeat('{"a": [', n),
    "nested_calls": lambda n: _repeat("f(x=", n),
    "huge_integer": lambda n: ("x = " + "9" * 100_000 + "\n" + " " * n)[:n],
    "unicode_mix": lambda n: _repeat("a\u200b\u0301\u00e9\U0001d518\u202e\u200d\u0663 ", n),
    "repeated_fence_openers": lambda n: _repeat("```python\n", n),
    "repeated_refusal_phrase": lambda n: _repeat("I don't know. ", n),
    "repeated_docstring": _docstring_run,
}


# --- one reward, one input: the subprocess ---------------------------------------------------------

def build(name: str):
    """(reward, prompt, benign answer) for ``name``; only offline resources."""
    from prefgen.records import Prompt
    from prefgen.registry import rewards

    if name in ("execution", "length", "regex", "combined"):
        task = {"tests": ["assert add(1, 2) == 3", "assert add(2, 2) == 4"], "format": "full"}
        prompt = Prompt(id=Prompt.make_id("Write add(a, b).", task), prompt="Write add(a, b).", task=task)
        params = {"execution": {"timeout_s": 5.0}, "length": {}, "regex": REGEX,
                  "combined": {"components": [{"name": "execution", "timeout_s": 5.0},
                                              {"name": "length", "weight": 0.2},
                                              {"name": "regex", "weight": 0.5, **REGEX}]}}[name]
        return rewards.build(name, params), prompt, "```python\ndef add(a, b):\n    return a + b\n```\n"
    if name == "quote":
        reward = rewards.build("quote", {"index": "demo"})
        reward.prepare()
        prompt = Prompt(id=Prompt.make_id("What does json do?", {}), prompt="What does json do?", task={})
        return reward, prompt, "JSON (JavaScript Object Notation) is a lightweight data interchange format."
    if name == "tool_call":
        from prefgen.methods.tool_use.stdlib_tools import load_rows

        row = load_rows(limit=1)[0]
        prompt = Prompt(id=Prompt.make_id(row["prompt"], row["task"]), prompt=row["prompt"], task=row["task"])
        from prefgen.methods.tool_use.task import reference_answer

        return rewards.build("tool_call", {}), prompt, reference_answer(row["task"]["ground_truth"])
    if name == "refusal":
        task = {"question": "What is the capital of France?", "answers": ["Paris"]}
        prompt = Prompt(id=Prompt.make_id(task["question"], task), prompt="Question: What is the capital of France?"
                        "\nAnswer:", task=task)
        return rewards.build("refusal", {}), prompt, " Paris"
    raise SystemExit(f"unknown reward {name}")


def worker(name: str, kind: str) -> None:
    """Print one JSON line per size: the median seconds of up to REPEATS scorings, score, reason."""
    from prefgen.records import Candidate

    reward, prompt, benign = build(name)

    def score(text: str):
        cand = Candidate(id="c0", prompt_id=prompt.id, sample_index=0, text=text)
        started = time.perf_counter()
        result = reward.score_safely([(prompt, cand)])[0]
        return time.perf_counter() - started, result

    score(benign)  # warm-up: sandbox start, index load, pattern compilation
    print(json.dumps({"ready": True}), flush=True)
    for label, size in SIZES.items():
        text = INPUTS[kind](size)
        times = []
        for _ in range(REPEATS):
            print(json.dumps({"scoring": label}), flush=True)  # the parent's cap restarts here
            elapsed, result = score(text)
            times.append(elapsed)
            if sum(times) > 2.0:
                break  # slow enough that one more run tells nothing new
        print(json.dumps({"size": label, "chars": len(text), "seconds": statistics.median(times),
                          "runs": len(times), "score": result.score, "reason": result.reason}), flush=True)


def run_pair(name: str, kind: str, cap: float, setup_cap: float) -> dict:
    """Run one (reward, input) subprocess, killing it when one scoring passes ``cap`` seconds."""
    command = [sys.executable, __file__, "--worker", name, kind]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    # A thread reads the lines: a selector on the pipe would miss lines already in the file's buffer.
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout] + [lines.put("")],
                     daemon=True).start()
    sizes: dict[str, dict] = {}
    deadline, waiting_for, killed = time.monotonic() + setup_cap, "set-up", False
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            killed = True
            break
        if not line:
            break
        event = json.loads(line)
        if "scoring" in event:
            deadline, waiting_for = time.monotonic() + cap, event["scoring"]
        elif "size" in event:
            sizes[event.pop("size")] = event
            waiting_for = None
        elif event.get("ready"):
            waiting_for = None
    process.wait()
    stderr = process.stderr.read().strip()
    process.stdout.close()
    process.stderr.close()
    for label in SIZES:
        if label in sizes:
            sizes[label]["status"] = "ok"
            sizes[label]["s_per_mb"] = sizes[label]["seconds"] / (sizes[label]["chars"] / 1_000_000)
        elif label == waiting_for and killed:
            sizes[label] = {"status": f"timed out (> {cap:g} s)"}
        elif waiting_for is not None and label == waiting_for or waiting_for == "set-up":
            why = f"killed after {setup_cap:g} s" if killed else stderr[-300:]
            sizes[label] = {"status": f"failed: {why}"}
        else:
            sizes[label] = {"status": "not run (a smaller input timed out or failed)"}
    return {"reward": name, "input": kind, "sizes": sizes, "linearity": _linearity(sizes)}


def _linearity(sizes: dict[str, dict]) -> float | None:
    """t(1 MB) / (10 t(100 kB)): ~1 when linear, ~10 when quadratic."""
    big, mid = sizes.get("1 MB", {}), sizes.get("100 kB", {})
    if big.get("status") != "ok" or mid.get("status") != "ok" or mid["seconds"] <= 0:
        return None
    return big["seconds"] / (10 * mid["seconds"])


def quote_available(cap: float) -> str | None:
    """None if the demo index is cached or builds within ``cap`` seconds, else why it is skipped."""
    code = "from prefgen.methods.quote.demo_index import demo_index_dir; demo_index_dir()"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=cap, check=False)
    except subprocess.TimeoutExpired:
        return f"the demo index is not cached and did not build within {cap:g} s"
    if done.returncode != 0:
        return f"the demo index cannot be built offline: {done.stderr.strip()[-300:]}"
    return None


# --- report ----------------------------------------------------------------------------------------

def markdown(report: dict) -> str:
    lines = [
        "# Rewards over hostile text: time per input size",
        "",
        f"`{report['command']}`",
        "",
        ("Each cell: seconds to score one answer (median of up to 3 scorings), then seconds per MB. "
        "`lin` = t(1 MB) / (10 × t(100 kB)): about 1 when linear, about 10 when quadratic, well "
        "below 1 when the reward turns text over its size limit away before looking at it. "
        f"Cap per scoring: {report['cap_s']:g} s (killed and recorded as timed out past it). "
        f"Sizes are characters ({', '.join(f'{k} = {v:,}' for k, v in SIZES.items())}). "
        f"{report['machine']['cpus']} CPUs, shared with other work: timings are noisy."),
        "",
    ]
    if report["note"]:
        lines += [report["note"], ""]
    for name, why in report["skipped"].items():
        lines += [f"- `{name}` skipped: {why}"]
    if report["skipped"]:
        lines.append("")
    lines += ["## Worst case per reward", "", "| reward | slowest 1 MB input | its time | worst s/MB (any size) | inputs not scored (timed out, failed, not run) |",
              "| --- | --- | ---: | ---: | ---: |"]
    for name, rows in _by_reward(report["results"]).items():
        timed_out = sum(1 for r in rows for s in r["sizes"].values() if s["status"] != "ok")
        big = [(r["sizes"]["1 MB"].get("seconds", float("inf")), r["input"]) for r in rows]
        worst_big = max(big)
        per_mb = [s["s_per_mb"] for r in rows for s in r["sizes"].values() if "s_per_mb" in s]
        worst_per_mb = f"{max(per_mb):.3g}" if per_mb else "—"
        lines.append(f"| {name} | {worst_big[1]} | {_seconds(worst_big[0])} | {worst_per_mb} | {timed_out} |")
    lines += ["", "## Every input", "", "| reward | input | " + " | ".join(SIZES) + " | lin | 1 MB result |",
              "| --- | --- | " + " | ".join("---:" for _ in SIZES) + " | ---: | --- |"]
    for row in report["results"]:
        cells = []
        for label in SIZES:
            size = row["sizes"][label]
            cells.append(f"{_seconds(size['seconds'])} ({size['s_per_mb']:.3g}/MB)" if size["status"] == "ok"
                         else size["status"].split(" (")[0].split(":")[0])
        big = row["sizes"]["1 MB"]
        outcome = f"{_score(big.get('score'))} {big.get('reason') or ''}".strip() if big["status"] == "ok" else "—"
        lin = f"{row['linearity']:.2f}" if row["linearity"] is not None else "—"
        lines.append(f"| {row['reward']} | {row['input']} | " + " | ".join(cells) + f" | {lin} | {outcome[:60]} |")
    return "\n".join(lines) + "\n"


def _by_reward(results: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in results:
        grouped.setdefault(row["reward"], []).append(row)
    return grouped


def _score(value: float | None) -> str:
    return "None" if value is None else f"{value:.3g}"


def _seconds(value: float) -> str:
    if value == float("inf"):
        return "not scored"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=float, default=30.0, help="seconds one scoring may take before it is killed")
    parser.add_argument("--rewards", default=",".join(REWARDS), help="comma-separated reward names")
    parser.add_argument("--inputs", default=",".join(INPUTS), help="comma-separated input kinds")
    parser.add_argument("--note", default="", help="a sentence put at the top of the markdown report")
    parser.add_argument("--worker", nargs=2, metavar=("REWARD", "INPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    names = [n for n in args.rewards.split(",") if n]
    skipped = {}
    if "quote" in names and (why := quote_available(cap=300)):
        print(f"quote skipped: {why}", flush=True)
        skipped["quote"] = why
        names.remove("quote")
    results = []
    for name in names:
        for kind in [k for k in args.inputs.split(",") if k]:
            row = run_pair(name, kind, args.cap, setup_cap=300)
            results.append(row)
            cells = ", ".join(f"{label}: {_seconds(s['seconds']) if s['status'] == 'ok' else s['status']}"
                              for label, s in row["sizes"].items())
            print(f"{name:10} {kind:30} {cells}", flush=True)
    command = "python benchmarks/hostile_text.py" + "".join(
        f" --{k} {v}" for k, v in (("cap", f"{args.cap:g}"), ("rewards", args.rewards)) if v)
    report = {"benchmark": "hostile_text", "command": command, "cap_s": args.cap, "sizes": SIZES,
              "note": args.note, "skipped": skipped, "results": results,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hostile_text.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "hostile_text.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
