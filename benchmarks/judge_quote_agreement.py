"""Benchmark: how far an LLM judge agrees with grounded QUIP on the quote-tuning demo.

    python benchmarks/judge_quote_agreement.py                 # judge: smollm2 (the embedded real model)
    python benchmarks/judge_quote_agreement.py --judge Qwen/Qwen2.5-1.5B-Instruct --prompts 400

Step 1 runs ``pipelines/quote_tuning.yaml`` with ``rounds=0`` (no training), ``runtime=local`` and
``--prompts`` prompts, ``--n`` samples each: the demo policy's answers, scored by grounded QUIP.
Step 2 takes every held-out prompt whose best and worst answers differ in grounded QUIP by at
least ``--min-gap`` (different texts) and asks the judge, pairwise in both orders, which answer
quotes the Python documentation more faithfully (the rubric below, answered with a letter; the
judge sees no documents).
It reports: agreed verdicts (both orders the same), the share of agreed non-tie verdicts that
prefer the higher-QUIP answer, flip, tie, abstain and failure rates, retries, tokens and seconds,
and writes ``--show`` judgements (prompt, both answers, QUIP, both replies) for a person to read
to ``results/judge_quote_agreement-judgements.md``. Figures go to
``results/judge_quote_agreement.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent / "src"))

RUBRIC = {
    "system": "You judge answers about the Python standard library.",
    "pairwise": (
        "A user asked about the Python standard library. Which answer quotes the official Python "
        "documentation more faithfully (exact wording of the docstring, about the object asked)?\n\n"
        "[Question]\n{prompt}\n\n[Answer A]\n{answer_a}\n\n[Answer B]\n{answer_b}\n\n"
        "Which answer is more faithful to the documentation, A or B? Reply with the letter only."
    ),
}
# A small judge answers with a letter more reliably than with [[A]]: the reply's first word is read.
VERDICT_PATTERN = r"^\W*(A|B|tie)\b"


def make_candidates(args) -> tuple[list, dict]:
    """Step 1: the demo policy's scored samples (a quote_tuning run without training)."""
    from prefgen.pipeline import PipelineRun
    from prefgen.preflight import load_config

    out = Path(tempfile.mkdtemp(prefix="judge-quote-"))
    overrides = ["rounds=0", "runtime=local", f"prompts.limit={args.prompts}", f"generate.n={args.n}",
                 f"prompts.options.heldout_fraction={args.heldout_fraction}", f"output.dir={out}",
                 # a small KV cache is plenty here, and leaves memory to the machine's other work
                 "model.engine.gpu_memory_utilization=0.1"]
    config = load_config(HERE.parent / "pipelines" / "quote_tuning.yaml", overrides)
    summary = PipelineRun(config).run()
    prompts = {p.id: p for p in summary.heldout_prompts.values()}
    return summary.heldout_scored, prompts


def quip_pairs(scored, prompts, min_gap: float) -> list[tuple]:
    """Per held-out prompt: (prompt, best, worst) by grounded QUIP, if they differ enough."""
    by_prompt: dict[str, list] = {}
    for s in scored:
        if s.score is not None:
            by_prompt.setdefault(s.prompt_id, []).append(s)
    pairs = []
    for pid, samples in sorted(by_prompt.items()):
        ranked = sorted(samples, key=lambda s: (-s.score, s.sample_index))
        best, worst = ranked[0], ranked[-1]
        if best.score - worst.score >= min_gap and best.text != worst.text:
            pairs.append((prompts[pid], best, worst))
    return pairs


def judge_pairs(pairs, args):
    """Step 2: both orders of every pair, one engine job (the judge reward's own path)."""
    from prefgen.executors.engine_scoring import EngineHandle
    from prefgen.executors.local_runtime import LocalEngines
    from prefgen.generation.model_ref import resolve_model
    from prefgen.generation.vllm_engine import VLLMGenerator
    from prefgen.methods.judge.reward import JudgeReward

    reward = JudgeReward(JudgeReward.Params(model=args.judge, mode="pairwise", rubric=RUBRIC, retries=2,
                                            max_tokens=args.max_tokens, max_model_len=2048, max_answer_chars=1200,
                                            verdict_pattern=VERDICT_PATTERN))
    started = time.perf_counter()
    engine = VLLMGenerator(resolve_model(args.judge).path, 2048, {"gpu_memory_utilization": 0.1})
    start_seconds = time.perf_counter() - started
    reward.attach_engines(EngineHandle(LocalEngines(engine)))
    items = [item for prompt, best, worst in pairs for item in ((prompt, best), (prompt, worst))]
    started = time.perf_counter()
    results = reward.score_safely(items)
    return results, start_seconds, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", default="smollm2")
    parser.add_argument("--prompts", type=int, default=600)
    parser.add_argument("--heldout-fraction", type=float, default=0.5, help="The demo source's (default there: 0.1).")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--min-gap", type=float, default=0.1)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--show", type=int, default=20)
    parser.add_argument("--label", default=None, help="How the results name the judge (default: --judge).")
    args = parser.parse_args()

    scored, prompts = make_candidates(args)
    pairs = quip_pairs(scored, prompts, args.min_gap)
    results, start_seconds, seconds = judge_pairs(pairs, args)
    rows = []
    for k, (prompt, best, worst) in enumerate(pairs):
        comparison = results[2 * k].details["judge"]["comparisons"][0]  # seen from the higher-QUIP answer
        rows.append({"prompt": prompt, "best": best, "worst": worst, "comparison": comparison})
    verdicts = [r["comparison"]["verdict"] for r in rows]
    decided = [v for v in verdicts if v in ("win", "loss")]
    count = {v: verdicts.count(v) for v in sorted(set(verdicts))}
    figures = {
        "judge": args.label or args.judge,
        "heldout_samples": len(scored), "pairs": len(pairs), "verdicts": count,
        "agreed": sum(v in ("win", "loss", "tie") for v in verdicts),
        "agreement_with_quip": round(decided.count("win") / len(decided), 4) if decided else None,
        "agreed_non_tie": len(decided),
        # one order alone, as a judge asked once would be read: the share choosing the higher-QUIP answer
        "single_order_agreement": {
            "higher_quip_shown_as_A": _share([r["comparison"]["orders"][0] for r in rows]),
            "higher_quip_shown_as_B": _share([r["comparison"]["orders"][1] for r in rows]),
        },
        "flip_rate": round(count.get("flip", 0) / max(1, sum(v != "failed" and v != "abstain" for v in verdicts)), 4),
        "tie_rate": round(count.get("tie", 0) / max(1, len(verdicts)), 4),
        "abstain_rate": round(count.get("abstain", 0) / max(1, len(verdicts)), 4),
        "failed": count.get("failed", 0),
        "retries": sum(r["comparison"]["attempts"] - 2 for r in rows),
        "reply_tokens": sum(r["comparison"]["tokens"] for r in rows),
        "judge_engine_start_seconds": round(start_seconds, 1), "judge_seconds": round(seconds, 1),
        "mean_quip_gap": round(statistics.fmean(r["best"].score - r["worst"].score for r in rows), 4) if rows else None,
        "settings": {"prompts": args.prompts, "heldout_fraction": args.heldout_fraction, "n": args.n,
                     "min_gap": args.min_gap, "max_tokens": args.max_tokens, "verdict_pattern": VERDICT_PATTERN},
    }
    write(figures, rows[: args.show])
    print(json.dumps(figures, indent=2))


def _share(sides: list) -> float | None:
    """Of one order's verdicts that named a winner, the share naming the higher-QUIP answer ("x")."""
    named = [s for s in sides if s in ("x", "y")]
    return round(named.count("x") / len(named), 4) if named else None


def write(figures: dict, shown: list[dict]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "judge_quote_agreement.json").write_text(json.dumps(figures, indent=2) + "\n")
    s = figures["settings"]
    lines = [
        "# An LLM judge against grounded QUIP (quote-tuning demo, held-out prompts)",
        "",
        (f"`python benchmarks/judge_quote_agreement.py --judge {figures['judge']}` — the demo policy's answers "
         f"({s['prompts']} prompts, {s['heldout_fraction']:.0%} held out, n={s['n']}); per held-out prompt its best "
         f"and worst answer by grounded QUIP (gap ≥ {s['min_gap']}), judged pairwise in both orders (replies ≤ "
         f"{s['max_tokens']} tokens read by `{s['verdict_pattern']}`, 2 retries). The judge sees no documents."),
        "",
        "| figure | value |",
        "| --- | --- |",
    ]
    for key in ("pairs", "agreed", "agreed_non_tie", "agreement_with_quip", "single_order_agreement", "flip_rate", "tie_rate", "abstain_rate",
                "failed", "retries", "reply_tokens", "judge_seconds", "mean_quip_gap"):
        lines.append(f"| {key} | {figures[key]} |")
    lines += ["", f"Verdicts: {figures['verdicts']}.", "",
              ("`agreement_with_quip`: of the pairs whose two orders agreed on a winner, the share where the winner "
               "is the higher-QUIP answer (0.5 is chance). `single_order_agreement`: the same share for one order "
               "alone, as a judge asked once would be read."), ""]
    (RESULTS / "judge_quote_agreement.md").write_text("\n".join(lines))
    out = ["# Judgements to read (the first pairs; the judge's replies in both orders)", ""]
    for r in shown:
        c = r["comparison"]
        out += [f"## {r['prompt'].prompt.strip()[:200]}", "",
                f"- higher QUIP ({r['best'].score:.3f}): `{r['best'].text.strip()[:300]}`",
                f"- lower QUIP ({r['worst'].score:.3f}): `{r['worst'].text.strip()[:300]}`",
                f"- verdict (seen from the higher-QUIP answer): **{c['verdict']}**, orders {c['orders']}",
                f"- reply, higher-QUIP answer shown as A: `{c['replies'][0].strip()[:200]}`",
                f"- reply, higher-QUIP answer shown as B: `{c['replies'][1].strip()[:200]}`", ""]
    (RESULTS / "judge_quote_agreement-judgements.md").write_text("\n".join(out) + "\n")


if __name__ == "__main__":  # vLLM starts its engine's workers with spawn
    main()
