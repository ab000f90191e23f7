"""Benchmark: pairwise judgements batched on the engine (one engine job per scoring shard, as the
``judge`` reward sends them) against one request per judgement (the pattern of judge tools that
call a server once per item), on the same engine.

    python benchmarks/judge_throughput.py                 # writes results/judge_throughput.{md,json}
    python benchmarks/judge_throughput.py --prompts 8 --tag smoke

The work: ``--prompts`` prompts with ``--answers`` answers each; every two answers to a prompt are
judged in both orders (``answers*(answers-1)`` judgements per prompt), replies of at most
``--max-tokens`` tokens, greedy, no retries. The engine is one in-process vLLM engine holding a
tiny Llama built here (random weights, head_dim 64): its replies are not verdicts, which does not
matter for throughput (every reply runs to ``--max-tokens``, the same in both modes). Batched: the
``judge`` reward scores shards of ``--shard-prompts`` prompts through an engine handle, one engine
call per shard. One by one: the same judgement requests (same messages, same seeds), each its own
engine call. The modes alternate ``--repeats`` times; the ratio is of the median wall-clock times.
The replies of the two modes are compared (share identical).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent / "src"))

WORDS = ["fox", "hill", "dog", "cat", "field", "owl", "horse", "bridge", "cow", "river", "stone", "light"]


def make_items(prompts: int, answers: int):
    from prefgen.records import Candidate, Prompt

    items = []
    for p in range(prompts):
        text = f"Describe the {WORDS[p % len(WORDS)]} number {p} in one sentence."
        prompt = Prompt(id=Prompt.make_id(text, {}), prompt=text)
        for a in range(answers):
            answer = f"The {WORDS[(p + a) % len(WORDS)]} {a} runs over the {WORDS[(p * 3 + a) % len(WORDS)]}."
            items.append((prompt, Candidate(id=f"{prompt.id}-{a}", prompt_id=prompt.id, sample_index=a, text=answer)))
    return items


def batched(reward, items, shard_prompts: int, answers: int) -> tuple[float, list[str]]:
    """Score shard by shard (one engine job each); returns seconds and every reply in order."""
    started = time.perf_counter()
    results = []
    step = shard_prompts * answers
    for start in range(0, len(items), step):
        results += reward.score_batch(items[start : start + step])
    seconds = time.perf_counter() - started
    return seconds, [r.details["judge"]["comparisons"] for r in results]


def one_by_one(reward, items, shard_prompts: int, answers: int) -> tuple[float, list]:
    """The same judgements, each sent to the engine alone."""
    from prefgen.methods.judge.job import JudgeJob

    captured = []
    real_run = reward.engines.run

    def capture(job):  # record the shard's requests instead of running them
        captured.append(job)
        return _empty(job)

    reward.engines.run = capture
    step = shard_prompts * answers
    for start in range(0, len(items), step):
        reward.score_batch(items[start : start + step])
    reward.engines.run = real_run
    requests = [(request, job.settings) for job in captured for request in job.requests]
    started = time.perf_counter()
    replies = [real_run(JudgeJob([request], settings))[0] for request, settings in requests]
    return time.perf_counter() - started, replies


def _empty(job):
    from prefgen.methods.judge.job import Judgement

    return [Judgement() for _ in job.requests]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--answers", type=int, default=4)
    parser.add_argument("--shard-prompts", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()

    from prefgen.demo.tiny_model import build_tiny_llama
    from prefgen.executors.engine_scoring import EngineHandle
    from prefgen.executors.local_runtime import LocalEngines
    from prefgen.generation.vllm_engine import VLLMGenerator
    from prefgen.methods.judge.reward import JudgeReward

    texts = [" ".join(WORDS[i % 12:] + WORDS[: i % 12]) + f" number {i} answer A B tie" for i in range(200)]
    model_dir = build_tiny_llama(Path(tempfile.mkdtemp()) / "judge", texts, vocab_size=512)
    engine = VLLMGenerator(str(model_dir), 512, {})
    reward = JudgeReward(JudgeReward.Params(model=str(model_dir), mode="pairwise", retries=0, max_tokens=args.max_tokens))
    handle = EngineHandle(LocalEngines(engine))
    reward.attach_engines(handle)
    items = make_items(args.prompts, args.answers)
    judgements = args.prompts * args.answers * (args.answers - 1)
    batched(reward, items[: 2 * args.answers], 2, args.answers)  # warm-up

    times = {"batched": [], "one_by_one": []}
    for _ in range(args.repeats):
        calls_before = handle.calls
        seconds, _ = batched(reward, items, args.shard_prompts, args.answers)
        batched_calls = handle.calls - calls_before
        times["batched"].append(seconds)
        calls_before = handle.calls
        seconds, singles = one_by_one(reward, items, args.shard_prompts, args.answers)
        single_calls = handle.calls - calls_before
        times["one_by_one"].append(seconds)
    batched_replies = _replies_of(reward, items, args)
    same = sum(a == b.replies for a, b in zip(batched_replies, singles)) / max(1, len(singles))
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    result = {
        "judgements": judgements, "prompts": args.prompts, "answers": args.answers, "max_tokens": args.max_tokens,
        "shard_prompts": args.shard_prompts, "repeats": args.repeats,
        "engine_calls": {"batched": batched_calls, "one_by_one": single_calls},
        "seconds": {mode: [round(v, 3) for v in values] for mode, values in times.items()},
        "median_seconds": {mode: round(v, 3) for mode, v in medians.items()},
        "judgements_per_second": {mode: round(judgements / v, 1) for mode, v in medians.items()},
        "speedup": round(medians["one_by_one"] / medians["batched"], 2),
        "identical_replies": round(same, 4),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}",
        "command": "python benchmarks/judge_throughput.py " + " ".join(sys.argv[1:]),
    }
    write(result, args.tag)
    print(json.dumps(result, indent=2))


def _replies_of(reward, items, args) -> list[list[str]]:
    """Every judgement's replies in the batched mode, in the order the one-by-one mode sends them."""
    from prefgen.methods.judge.job import JudgeJob

    replies = []
    real_run = reward.engines.run

    def run(job: JudgeJob):
        results = real_run(job)
        replies.extend(r.replies for r in results)
        return results

    reward.engines.run = run
    step = args.shard_prompts * args.answers
    for start in range(0, len(items), step):
        reward.score_batch(items[start : start + step])
    reward.engines.run = real_run
    return replies


def write(result: dict, tag: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    name = "judge_throughput" + (f"-{tag}" if tag else "")
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    med = result["median_seconds"]
    rate = result["judgements_per_second"]
    lines = [
        "# Judge throughput: batched on the engine vs one request per judgement",
        "",
        (f"`{result['command'].strip()}` — {result['judgements']} pairwise judgements ({result['prompts']} prompts x "
         f"{result['answers']} answers, both orders), replies of {result['max_tokens']} tokens, one in-process vLLM "
         f"engine (tiny Llama, CPU), {result['repeats']} alternating repeats, medians."),
        "",
        "| mode | engine calls | median seconds | judgements / s |",
        "| --- | --- | --- | --- |",
        (f"| batched (one engine job per shard of {result['shard_prompts']} prompts) | {result['engine_calls']['batched']} "
         f"| {med['batched']} | {rate['batched']} |"),
        f"| one request per judgement | {result['engine_calls']['one_by_one']} | {med['one_by_one']} | {rate['one_by_one']} |",
        "",
        (f"**Speed-up: {result['speedup']}x** (target: at least 5x). Identical replies in both modes: "
         f"{result['identical_replies']:.1%}. Machine: {result['machine']} (2 cores shared with other work)."),
        "",
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines))


if __name__ == "__main__":  # vLLM starts its engine's workers with spawn
    main()
