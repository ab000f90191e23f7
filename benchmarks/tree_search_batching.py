"""Tree search batched across prompts (prefgen) vs one engine request per expansion (the reference pattern).

The same tool-calling prompts (``builtin:stdlib_tools``) are searched with the same settings (the
reference code's: 3 expansions, temperature 1.5, <= 50 tokens per step, depth 3, 5 iterations)
on the same in-process vLLM engine, a tiny random Llama built in a temporary directory:

- **batched**: :func:`prefgen.methods.tool_use.tree.search` over all prompts at once; each iteration makes
  one engine call for every tree's expansions and one for the completions.
- **per request**: each prompt's tree searched alone, and every request (one expansion of one
  node, or one completion) sent to the engine as its own ``generate`` call, as iTool's code does.

Requests are seeded by prompt and prefix, so both sides should grow the same trees; the script
reports how many of the scored answers are identical. Sides alternate (per request, batched, ...)
because the machine may be shared. Writes benchmarks/results/tree_search_batching.{md,json}.

    python benchmarks/tree_search_batching.py                 # committed results
    python benchmarks/tree_search_batching.py --prompts 4 --repeats 1 --tag smoke
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MAX_MODEL_LEN = 1024


def build_engine(workdir: Path):
    from prefgen.demo.tiny_model import build_tiny_llama
    from prefgen.generation.engine_jobs import TreeExpander
    from prefgen.generation.vllm_engine import VLLMGenerator
    from prefgen.methods.tool_use.stdlib_tools import load_rows
    from prefgen.methods.tool_use.task import reference_answer

    texts = [row["prompt"] + " " + reference_answer(row["task"]["ground_truth"]) for row in load_rows()]
    model = build_tiny_llama(workdir / "model", texts, vocab_size=512, max_position_embeddings=MAX_MODEL_LEN)
    generator = VLLMGenerator(str(model), max_model_len=MAX_MODEL_LEN, engine={})
    return TreeExpander(generator.llm, MAX_MODEL_LEN, seed=0)


def run_side(side: str, expander, rows, settings) -> dict:
    """Search every prompt on one side; return wall seconds, engine calls and the scored answers."""
    from prefgen.methods.tool_use.tree import search
    from prefgen.registry import rewards

    reward = rewards.build("tool_call", {"format": "python"})
    answers: list[tuple[int, str]] = []

    def reward_fn(offset):
        def score(items):
            answers.extend((offset + i, text) for i, text in items)
            return [reward.score_text(text, rows[offset + i]["task"]).score for i, text in items]

        return score

    def one_per_request(requests):
        return [expander.expand([request])[0] for request in requests]

    before, start = expander.engine_calls, time.perf_counter()
    if side == "batched":
        search([row["prompt"] for row in rows], expander.expand, reward_fn(0), settings)
    else:
        for offset, row in enumerate(rows):
            search([row["prompt"]], one_per_request, reward_fn(offset), settings)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "engine_calls": expander.engine_calls - before, "answers": sorted(answers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()

    from prefgen.methods.tool_use.stdlib_tools import load_rows
    from prefgen.methods.tool_use.tree import TreeSettings

    settings = TreeSettings()
    rows = load_rows(limit=args.prompts)
    with tempfile.TemporaryDirectory() as tmp:
        expander = build_engine(Path(tmp))
        run_side("batched", expander, rows[:1], TreeSettings(iterations=1))  # warm-up, not timed
        runs = []
        for repeat in range(args.repeats):
            for side in ("per_request", "batched"):
                result = run_side(side, expander, rows, settings)
                runs.append({"repeat": repeat, "side": side, **result})
                print(
                    f"{side:12s} repeat {repeat}: {result['seconds']:.1f}s, {result['engine_calls']} engine calls"
                )
    write_results(args, settings, runs)


def write_results(args, settings, runs) -> None:
    by_side = {side: [r for r in runs if r["side"] == side] for side in ("per_request", "batched")}
    median = {side: statistics.median(r["seconds"] for r in rs) for side, rs in by_side.items()}
    same = sum(a == b for a, b in zip(by_side["per_request"][0]["answers"], by_side["batched"][0]["answers"]))
    summary = {
        "prompts": args.prompts,
        "repeats": args.repeats,
        "settings": settings.model_dump(),
        "median_seconds": median,
        "speedup": median["per_request"] / median["batched"],
        "engine_calls": {side: rs[0]["engine_calls"] for side, rs in by_side.items()},
        "answers_scored": {side: len(rs[0]["answers"]) for side, rs in by_side.items()},
        "identical_answers": same,
        "runs": [{k: v for k, v in r.items() if k != "answers"} for r in runs],
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    name = "tree_search_batching" + (f"_{args.tag}" if args.tag else "")
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Tree search: batched across prompts vs one engine request per expansion",
        "",
        (
            f"{args.prompts} prompts of builtin:stdlib_tools, the reference code's settings, tiny random Llama on vLLM "
            f"(CPU), {args.repeats} alternating repeats; medians."
        ),
        "",
        "| side | seconds (median) | engine calls | answers scored |",
        "|---|---|---|---|",
        *(
            f"| {side} | {median[side]:.1f} | {summary['engine_calls'][side]} | {summary['answers_scored'][side]} |"
            for side in ("per_request", "batched")
        ),
        "",
        (
            f"Speed-up (per request / batched): **{summary['speedup']:.1f}x**. Identical scored answers in the "
            f"first repeat: {same} of {summary['answers_scored']['batched']}."
        ),
        "",
        "Every run: " + "; ".join(f"{r['side']} {r['seconds']:.1f}s" for r in runs) + ".",
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
