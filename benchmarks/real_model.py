"""Every method, one DPO round on a real instruction-tuned model (SmolLM2-135M-Instruct).

For each method and seed this runs ``prefgen run pipelines/smollm2/<method>.yaml rounds=1
generate.seed=<seed>`` through the CLI (held-out prompts are measured by the loop itself, before
and after the round), reads the loop's ``metrics.jsonl``, checks the method's target and writes
every run -- including the ones that failed, with their error -- to
``benchmarks/results/real_model.{md,json}``. Runs already in the JSON file are kept, so a partial
benchmark can be resumed or extended method by method.

    python benchmarks/real_model.py                                   # every method, seeds 0 1 2
    python benchmarks/real_model.py --methods quote_tuning --seeds 0 --set prompts.limit=80

Targets (issue 22), on each seed:
- quote_tuning: held-out grounded QUIP up >= 30% relative, mean answer length within +-20%;
- refusal_awareness: hallucination on unknown questions down >= 30% relative, on unanswerable ones
  down, accuracy on known questions within 5 points, AP up;
- tool_use: held-out call accuracy up >= 10 points or doubled (whichever is smaller), with the
  flat baseline (``generate.flat=true``, same token budget) run beside the tree;
- execution_feedback: held-out pass rate up >= 30% relative.

Speed beside each run: sampling tokens/s (generated tokens of round 0 over the time from the
run's start to its samples being written, engine start included) and DPO tokens/s (tokens of
the pairs' prompt+chosen and prompt+rejected sequences over every epoch -- TRL's own
``num_tokens`` count when it logs one -- over the training time; the reference model's forward
passes are in that time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("quote_tuning", "refusal_awareness", "tool_use", "execution_feedback")


def run_loop(method: str, seed: int, out: Path, extra: list[str], flat: bool = False) -> dict:
    """One training loop through the CLI; the record of what ran and how long it took."""
    overrides = [f"generate.seed={seed}", "rounds=1", f"output.dir={out}", *extra]
    if flat:
        overrides += ["generate.flat=true", "name=tool_use_smollm2_flat"]
    command = [sys.executable, "-m", "prefgen.cli", "run", str(ROOT / "pipelines" / "smollm2" / f"{method}.yaml"),
               "--quiet", *overrides]
    start = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(), check=False)
    record = {"method": method + ("_flat" if flat else ""), "seed": seed, "overrides": overrides,
              "command": "prefgen run " + " ".join(command[4:]), "exit_code": done.returncode,
              "seconds": round(time.monotonic() - start, 1), "load_average": os.getloadavg()}
    loop = next(out.glob("*/metrics.jsonl"), None)
    if done.returncode != 0 or loop is None:
        record["error"] = (done.stderr or done.stdout)[-1500:]
        return record
    record["metrics"] = [json.loads(line) for line in loop.read_text().splitlines() if line.strip()]
    record.update(speeds(loop.parent))
    record["target"] = target(method, record["metrics"])
    return record


def recorded_loop(method: str, seed: int, out: Path, command: str, seconds: float | None) -> dict:
    """The record of a loop already run by hand (``--record``): the same fields as :func:`run_loop`."""
    record = {"method": method, "seed": seed, "command": command, "exit_code": 0 if seconds is not None else None,
              "seconds": seconds or 0.0, "load_average": None, "recorded_from": str(out)}
    loop = next(out.glob("*/metrics.jsonl"), None)
    if loop is None:
        record["error"] = f"no metrics.jsonl under {out}"
        return record
    record["metrics"] = [json.loads(line) for line in loop.read_text().splitlines() if line.strip()]
    record.update(speeds(loop.parent))
    record["target"] = target(method, record["metrics"])
    return record


def speeds(loop_dir: Path) -> dict:
    """Sampling and DPO tokens/s of the loop's round 0 and its training (see the module docstring)."""
    import pyarrow.parquet as pq

    round0 = loop_dir / "rounds" / "round_0"
    run = round0  # round k is an ordinary run directory
    started = dt.datetime.fromisoformat(json.loads((run / "status.json").read_text())["started"])
    generated = list((run / "work" / "generate").glob("*.parquet"))
    tokens = sum(sum(t or 0 for t in pq.read_table(p, columns=["num_tokens"]).column(0).to_pylist()) for p in generated)
    written = max(dt.datetime.fromtimestamp(p.stat().st_mtime) for p in generated)
    result = {"sampling_tokens": tokens, "sampling_seconds": round((written - started).total_seconds(), 1)}
    result["sampling_tokens_per_s"] = round(tokens / max(1e-9, result["sampling_seconds"]), 1)
    marker = loop_dir / "rounds" / "round_1" / "policy" / "prefgen_round.json"
    if marker.exists():
        trained = json.loads(marker.read_text())
        epochs = trained.get("metrics", {}).get("epoch") or 1
        # TRL's own count of the tokens it trained on (every epoch) when it logs one
        tokens = trained.get("metrics", {}).get("num_tokens") or \
            pair_tokens(run / "latest" / "pairs", trained["out_dir"]) * epochs
        result.update(dpo_seconds=round(trained["seconds"], 1), dpo_pairs=trained["num_pairs"],
                      dpo_precision=trained.get("precision"), dpo_epochs=epochs, dpo_steps=trained.get("steps"),
                      dpo_tokens=tokens, dpo_tokens_per_s=round(tokens / max(1e-9, trained["seconds"]), 1))
    return result


def pair_tokens(pairs_dir: Path, model_dir: str) -> int:
    """Tokens of every pair's prompt+chosen and prompt+rejected sequence (chat template applied)."""
    from datasets import load_from_disk
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def text(prompt, answer) -> str:
        if isinstance(prompt, list):
            return tokenizer.apply_chat_template(list(prompt) + list(answer), tokenize=False)
        return prompt + answer

    total = 0
    for row in load_from_disk(str(pairs_dir)):
        for side in ("chosen", "rejected"):
            total += len(tokenizer(text(row["prompt"], row[side]))["input_ids"])
    return total


def target(method: str, metrics: list[dict]) -> dict:
    """Whether one round met the method's target (each part, and all of them)."""
    if len(metrics) < 2:  # the loop stopped before the trained policy was measured
        return {"met": None, "policy 1 measured": False}
    before, after = metrics[0], metrics[-1]
    b, a = before.get("method") or {}, after.get("method") or {}
    checks: dict[str, bool | None] = {}
    if method == "quote_tuning":
        checks["grounded QUIP +30% rel"] = after["heldout_mean_score"] >= 1.3 * before["heldout_mean_score"] > 0
        checks["length within 20%"] = abs(after["heldout_mean_tokens"] / before["heldout_mean_tokens"] - 1) <= 0.2
    elif method == "refusal_awareness":
        hu, hu2 = b.get("hallucination_rate_unknown"), a.get("hallucination_rate_unknown")
        hn, hn2 = b.get("hallucination_rate_unanswerable"), a.get("hallucination_rate_unanswerable")
        checks["halluc unknown -30% rel"] = None if hu is None or hu2 is None else hu2 <= 0.7 * hu
        checks["halluc unanswerable down"] = None if hn is None or hn2 is None else hn2 < hn
        checks["known acc within 5 pts"] = None if b.get("accuracy_known") is None or a.get("accuracy_known") is None \
            else abs(a["accuracy_known"] - b["accuracy_known"]) <= 0.05
        checks["AP up"] = None if b.get("ap") is None or a.get("ap") is None else a["ap"] > b["ap"]
    elif method.startswith("tool_use"):
        # call accuracy (share of held-out samples the checker accepts), not the mean partial credit
        acc, acc2 = b.get("accuracy"), a.get("accuracy")
        gain = None if acc is None or acc2 is None else acc2 - acc
        need = None if acc is None else min(0.10, acc)  # +10 points, or doubled when that is less
        shown = "?" if gain is None else f"{acc:.3f} -> {acc2:.3f}"
        checks[f"call accuracy {shown}: +10 pts or doubled"] = None if gain is None else gain >= need and gain > 0
    elif method == "execution_feedback":
        checks["pass rate +30% rel"] = after["heldout_mean_score"] >= 1.3 * before["heldout_mean_score"] > 0
    checks["met"] = all(v is True for v in checks.values())
    return checks


def headline(record: dict) -> str:
    """One Markdown table row for a run."""
    if "metrics" not in record:
        return (f"| {record['method']} | {record['seed']} | failed (exit {record['exit_code']}) | | | | | | "
                f"{record['seconds']:.0f} | {record['error'].strip().splitlines()[-1][:80] if record.get('error') else ''} |")
    before, after = record["metrics"][0], record["metrics"][-1]
    met = record["target"]
    return (f"| {record['method']} | {record['seed']} | {before['heldout_mean_score']:.4f} → "
            f"{after['heldout_mean_score']:.4f} | {before['heldout_mean_tokens']:.1f} → {after['heldout_mean_tokens']:.1f} "
            f"| {before['pairs']} | {record.get('sampling_tokens_per_s', '—')} | {record.get('dpo_tokens_per_s', '—')} "
            f"| {({True: 'yes', False: 'no'}).get(met['met'], 'not measured')} | {record['seconds']:.0f} | "
            + ", ".join(f"{k}: {v}" for k, v in met.items() if k != "met") + " |")


def write(records: list[dict]) -> None:
    """The JSON (every record) and the Markdown table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for r in records:  # derived from the metrics: recomputed, so a corrected rule applies to every run
        if "metrics" in r:
            r["target"] = target(r["method"], r["metrics"])
    text = json.dumps(records, indent=1, sort_keys=True, default=str)
    text = text.replace(str(ROOT) + "/", "")  # paths relative to the checkout, not this machine's
    (RESULTS / "real_model.json").write_text(text + "\n")
    lines = [
        "# Every method, one DPO round on SmolLM2-135M-Instruct (held-out prompts)",
        "",
        "Written by `python benchmarks/real_model.py` (every run is in real_model.json, failed ones too).",
        "Score: the method's held-out reward (grounded QUIP, refusal reward, call accuracy, pass rate).",
        "",
        ("| method | seed | held-out score before → after | mean tokens before → after | pairs | sampling tok/s "
         "| DPO tok/s | target met | seconds | checks |"),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [headline(r) for r in records]
    methods = {r["method"] for r in records}
    lines += ["", "Refusal awareness, per policy (held-out):", ""]
    for r in records:
        if r["method"] == "refusal_awareness" and "metrics" in r:
            for m in r["metrics"]:
                kept = {k: m["method"].get(k) for k in ("accuracy_known", "hallucination_rate_unknown",
                                                        "hallucination_rate_unanswerable", "ap", "answer_rate")}
                lines.append(f"- seed {r['seed']}, policy {m['round']}: " + ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in kept.items()))
    if "refusal_awareness" not in methods:
        lines.append("(no refusal-awareness loop ran yet)")
    if not methods:
        lines.append("(no runs yet)")
    (RESULTS / "real_model.md").write_text("\n".join(lines) + "\n" + written_notes())


NOTES_HEADING = "\n## What ran and what did not"


def written_notes() -> str:
    """The hand-written part of real_model.md (from its NOTES_HEADING on), kept across rewrites."""
    path = RESULTS / "real_model.md"
    text = path.read_text() if path.exists() else ""
    return text[text.index(NOTES_HEADING):] if NOTES_HEADING in text else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--set", dest="extra", action="append", default=[], help="an override for every run")
    parser.add_argument("--arms", nargs="+", default=["tree", "flat"], choices=["tree", "flat"],
                        help="tool use: the tree search, the flat baseline at its token budget, or both")
    parser.add_argument("--work", type=Path, default=Path("runs/real_model"), help="where the loops run")
    parser.add_argument("--record", nargs=4, metavar=("METHOD", "SEED", "OUTPUT_DIR", "SECONDS"),
                        help="add a loop already run (its output.dir) instead of running any")
    parser.add_argument("--command", default="", help="with --record: the command that ran it")
    args = parser.parse_args()
    path = RESULTS / "real_model.json"
    records = json.loads(path.read_text()) if path.exists() else []
    if args.record:
        method, seed, out, seconds = args.record
        records.append(recorded_loop(method, int(seed), Path(out), args.command, float(seconds)))
        write(records)
        print(headline(records[-1]))
        return
    for method in args.methods:
        for seed in args.seeds:
            arms = [arm == "flat" for arm in args.arms] if method == "tool_use" else [False]
            for flat in arms:
                out = args.work / f"{method}{'_flat' if flat else ''}-seed{seed}"
                record = run_loop(method, seed, out, args.extra, flat=flat)
                record["finished"] = dt.datetime.now().isoformat(timespec="seconds")
                records.append(record)
                write(records)
                print(headline(record), flush=True)


if __name__ == "__main__":
    main()
