"""How the demo policy's QUIP scores spread: the figures behind ``prefgen.demo.training``'s budget.

Quote-Tuning needs a policy whose samples are neither all invented (every score 0) nor all
recited (every score 1), and whose samples for one prompt differ enough in score, at a similar
length, for Algorithm 1's pairs to form. This script trains (or reuses) the demo policy, samples
from it with transformers ``generate`` (the pipeline's sampling settings: temperature 1.0, top-p
0.95, 128 new tokens) on train and held-out questions of ``builtin:stdlib_docs``, and scores each
sample with a brute-force QUIP: the share of its character 25-grams found in the set of all
25-grams of the corpus documents (normalised as in the Quote-Tuning method; a window never spans
two documents). It writes benchmarks/results/demo_policy_spread.{md,json}.

    python benchmarks/demo_policy_spread.py                    # the default policy
    python benchmarks/demo_policy_spread.py --steps 60         # a quick, weaker one
    python benchmarks/demo_policy_spread.py --set num_layers=4 --set steps=300
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import sys
import time
from dataclasses import asdict, fields, replace
from pathlib import Path

N = 25
RESULTS = Path(__file__).resolve().parent / "results"


def normalise(text: str) -> str:
    """Quote-Tuning's normalisation: one space per whitespace run, one newline per newline run,
    no leading whitespace on a line, none at either end."""
    text = re.sub(r"[^\S\n]+", " ", text)
    text = re.sub(r"\n[\s]*", "\n", text)
    return text.strip()


def corpus_grams(documents, n: int = N) -> set[str]:
    grams: set[str] = set()
    for doc in documents:
        text = normalise(doc["text"])
        grams.update(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


def quip(text: str, grams: set[str], n: int = N) -> float | None:
    text = normalise(text)
    windows = len(text) - n + 1
    if windows <= 0:
        return None
    return sum(text[i : i + n] in grams for i in range(windows)) / windows


def first_pair(samples: list[tuple[float, int]], min_gap: float = 0.1, max_length_gap: float = 0.1):
    """Algorithm 1: best-first winners, the first loser with a big enough gap at a similar length."""
    ranked = sorted(samples, key=lambda s: -s[0])
    for i, (win_score, win_len) in enumerate(ranked):
        for lose_score, lose_len in ranked[i + 1 :]:
            if win_score - lose_score > min_gap and abs(win_len - lose_len) / max(1, min(win_len, lose_len)) < max_length_gap:
                return (win_score, lose_score)
    return None


def sample(model_dir: Path, prompts: list[str], per_prompt: int, max_new_tokens: int, seed: int, batch: int):
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    out: list[list[tuple[str, int]]] = []
    for start in range(0, len(prompts), batch):
        chunk = prompts[start : start + batch]
        encoded = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            generated = model.generate(
                **encoded,
                do_sample=True,
                temperature=1.0,
                top_p=0.95,
                top_k=0,
                max_new_tokens=max_new_tokens,
                num_return_sequences=per_prompt,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        new_tokens = generated[:, encoded["input_ids"].shape[1] :]
        for p in range(len(chunk)):
            group = []
            for row in new_tokens[p * per_prompt : (p + 1) * per_prompt].tolist():
                if tokenizer.eos_token_id in row:
                    row = row[: row.index(tokenizer.eos_token_id)]
                row = [t for t in row if t != tokenizer.pad_token_id]
                group.append((tokenizer.decode(row), len(row)))
            out.append(group)
    return out


def summarise(groups: list[list[tuple[float | None, int]]]) -> dict:
    scores = [s if s is not None else 0.0 for group in groups for s, _ in group]
    nulls = sum(s is None for group in groups for s, _ in group)
    bins = [0] * 10
    for s in scores:
        bins[min(9, int(s * 10))] += 1
    within = [statistics.pstdev([s or 0.0 for s, _ in g]) for g in groups if len(g) > 1]
    pairs = [first_pair([(s, n) for s, n in g if s is not None]) for g in groups]  # unscored: no pair
    lengths = [n for g in groups for _, n in g]
    return {
        "samples": len(scores),
        "mean": round(statistics.fmean(scores), 4),
        "quantiles_10_25_50_75_90": [round(q, 3) for q in _quantiles(scores, (0.1, 0.25, 0.5, 0.75, 0.9))],
        "share_in_0.1_0.8": round(sum(0.1 <= s <= 0.8 for s in scores) / len(scores), 3),
        "share_zero": round(sum(s == 0 for s in scores) / len(scores), 3),
        "share_one": round(sum(s == 1 for s in scores) / len(scores), 3),
        "share_null": round(nulls / len(scores), 3),
        "histogram_tenths": bins,
        "mean_within_prompt_std": round(statistics.fmean(within), 4) if within else None,
        "prompts_with_pair": round(sum(p is not None for p in pairs) / len(pairs), 3),
        "mean_pair_gap": round(statistics.fmean([a - b for a, b in filter(None, pairs)]), 4) if any(pairs) else None,
        "mean_tokens": round(statistics.fmean(lengths), 1),
        "share_at_max_tokens": None,
    }


def _round(value, digits: int = 3):
    return round(value, digits) if isinstance(value, float) else value


def _quantiles(values, qs):
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in qs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="score this policy instead of training one")
    parser.add_argument("--steps", type=int, help="training budget (default: the policy's default)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a TrainingSettings field")
    parser.add_argument("--prompts", type=int, default=48, help="questions per split")
    parser.add_argument("--samples", type=int, default=8, help="samples per question (the pipeline's generate.n)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="retrain even if cached")
    parser.add_argument("--tag", default="", help="suffix for the result file names")
    args = parser.parse_args(argv)

    from prefgen.demo.training import METADATA_FILE, TrainingSettings
    from prefgen.methods.quote.demo_policy import demo_policy_dir
    from prefgen.methods.quote.stdlib_docs import load_rows
    from prefgen.stdlib.corpus import iter_docstrings, python_build

    settings = TrainingSettings()
    types = {f.name: f.type for f in fields(TrainingSettings)}
    for item in args.set:
        key, value = item.split("=", 1)
        settings = replace(settings, **{key: (float if "float" in str(types[key]) else int)(value)})
    if args.steps is not None:
        settings = replace(settings, steps=args.steps)

    started = time.perf_counter()
    model_dir = args.model_dir or demo_policy_dir(settings=settings, force=args.force)
    prepare_seconds = time.perf_counter() - started
    metadata = json.loads((model_dir / METADATA_FILE).read_text()) if (model_dir / METADATA_FILE).exists() else {}

    grams = corpus_grams(iter_docstrings())
    rows = load_rows(seed=args.seed)
    rng = random.Random(args.seed)
    result: dict = {
        "python": python_build(),
        "machine": platform.machine(),
        "model_dir": model_dir.name,
        "settings": metadata.get("settings", asdict(settings)),
        "training_seconds": metadata.get("seconds"),
        "training_cpu_seconds": metadata.get("cpu_seconds"),
        "training_tokens": metadata.get("training_tokens"),
        "final_loss": metadata.get("final_loss"),
        "prepare_seconds_this_run": round(prepare_seconds, 1),
        "sampling": {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": args.max_new_tokens, "per_prompt": args.samples},
        "splits": {},
        "examples": {},
    }
    for split in ("train", "heldout"):
        chosen = [r for r in rows if r["split"] == split][: args.prompts]
        t0 = time.perf_counter()
        groups = sample(model_dir, [r["prompt"] for r in chosen], args.samples, args.max_new_tokens, args.seed, batch=8)
        scored = [[(quip(text, grams), n) for text, n in g] for g in groups]
        summary = summarise(scored)
        summary["share_at_max_tokens"] = round(
            sum(n >= args.max_new_tokens for g in groups for _, n in g) / sum(len(g) for g in groups), 3
        )
        summary["sampling_seconds"] = round(time.perf_counter() - t0, 1)
        result["splits"][split] = summary
        picks = rng.sample(range(len(chosen)), k=min(2, len(chosen)))
        result["examples"][split] = [
            {"prompt": chosen[i]["prompt"], "sample": groups[i][0][0][:400], "quip": scored[i][0][0]} for i in picks
        ]
    print(_write(result, args.tag))
    return 0


def _write(result: dict, tag: str) -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "demo_policy_spread" + (f"_{tag}" if tag else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    lines = [
        "# Demo policy: QUIP score spread",
        "",
        f"Command: `python benchmarks/demo_policy_spread.py{(' --tag ' + tag) if tag else ''}` ({result['python']}, {result['machine']}).",
        f"Policy: {result['settings']['num_layers']} layers, hidden {result['settings']['hidden_size']}, "
        f"vocabulary {result['settings']['vocab_size']}, {result['settings']['steps']} steps of "
        f"{result['settings']['batch_size']}x{result['settings']['seq_len']} tokens over a {result['training_tokens']}-token "
        f"training set; training took {result['training_seconds']} s wall, {result['training_cpu_seconds']} s CPU "
        f"(tokenizer, model and training loop), final loss {_round(result['final_loss'])}.",
        "Sampling: temperature 1.0, top-p 0.95, "
        f"{result['sampling']['max_new_tokens']} new tokens, {result['sampling']['per_prompt']} samples per question. "
        "QUIP: share of character 25-grams found in the stdlib docstring corpus (brute-force set).",
        "",
        "| split | samples | mean | p10 / p25 / p50 / p75 / p90 | in [0.1, 0.8] | =0 | =1 | within-prompt std | prompts with a pair | mean tokens | at max tokens |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for split, s in result["splits"].items():
        lines.append(
            f"| {split} | {s['samples']} | {s['mean']} | {' / '.join(map(str, s['quantiles_10_25_50_75_90']))} | "
            f"{s['share_in_0.1_0.8']} | {s['share_zero']} | {s['share_one']} | {s['mean_within_prompt_std']} | "
            f"{s['prompts_with_pair']} | {s['mean_tokens']} | {s['share_at_max_tokens']} |"
        )
    lines += ["", "Histogram of scores by tenths (0.0–0.1, …, 0.9–1.0):", ""]
    for split, s in result["splits"].items():
        lines.append(f"- {split}: {s['histogram_tenths']}")
    lines += ["", "Examples (first sample of a random question):", ""]
    for split, examples in result["examples"].items():
        for ex in examples:
            text = ex["sample"].replace("\n", " ⏎ ")
            lines.append(f"- {split}, QUIP {ex['quip']}: `{ex['prompt'].splitlines()[0]}` → {text}")
    report = "\n".join(lines) + "\n"
    (RESULTS / f"{stem}.md").write_text(report)
    return report


if __name__ == "__main__":
    sys.exit(main())
