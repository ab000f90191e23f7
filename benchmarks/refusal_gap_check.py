"""Does one round of refusal-aware DPO close the demo policy's knowledge gap? A check of the
method's parts on the demo, outside the pipeline (samples drawn with transformers, not vLLM).

For each seed: the knowledge-gap policy (``demo:facts``) samples 8 answers (temperature 0.7) to
every ``builtin:stdlib_facts`` question; the ``refusal`` reward judges them; held-out questions
are labelled known / unknown / unanswerable from these samples (sampled rule); the ``refusal``
pairing makes pairs from the train questions; DPO (prefgen's trainer) trains policy 1; policy 1
samples the held-out questions again. Reported per policy on held-out questions: accuracy on
known, hallucination rate on unknown and unanswerable, answer rate, and R-Tuning's AP of the
greedy answers.

    python benchmarks/refusal_gap_check.py --seeds 0 1 2 --out /tmp/refusal-check
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from prefgen.records import Candidate, Prompt, Scored

N_SAMPLES, TEMPERATURE, MAX_NEW_TOKENS = 8, 0.7, 16


def sample(model_dir: Path, prompts: list[Prompt], seed: int, n: int = N_SAMPLES) -> list[Candidate]:
    """n sampled answers per prompt (transformers, left-padded batches)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    torch.manual_seed(seed)
    out = []
    for start in range(0, len(prompts), 32):
        batch_prompts = prompts[start : start + 32]
        batch = tokenizer([p.prompt for p in batch_prompts], return_tensors="pt", padding=True,
                          add_special_tokens=False)
        with torch.no_grad():
            ids = model.generate(**batch, do_sample=True, temperature=TEMPERATURE, top_p=1.0,
                                 max_new_tokens=MAX_NEW_TOKENS, num_return_sequences=n,
                                 pad_token_id=tokenizer.pad_token_id)
        texts = tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
        for i, text in enumerate(texts):
            prompt = batch_prompts[i // n]
            out.append(Candidate(id=f"{prompt.id}-{i % n}", prompt_id=prompt.id, split=prompt.split,
                                 sample_index=i % n, text=text))
    return out


def score(prompts: list[Prompt], candidates: list[Candidate]) -> list[Scored]:
    from prefgen.registry import rewards

    reward = rewards.build("refusal", {})
    by_id = {p.id: p for p in prompts}
    results = reward.score_safely([(by_id[c.prompt_id], c) for c in candidates])
    return [Scored(**c.model_dump(), reward="refusal", score=r.score, reason=r.reason, details=r.details)
            for c, r in zip(candidates, results)]


def greedy_ap(model_dir: Path, prompts: list[Prompt]) -> float | None:
    """R-Tuning's AP: correctness of each greedy answer against its confidence."""
    from prefgen.methods.refusal.classify import QATask, classify
    from prefgen.methods.refusal.confidence import answer_confidences, load_scorer
    from prefgen.methods.refusal.demo_policy import greedy_answers
    from prefgen.methods.refusal.detector import RefusalDetector
    from prefgen.methods.refusal.metrics import average_precision

    answers = greedy_answers(model_dir, [p.prompt for p in prompts])
    judged = [classify(a, QATask.from_task(p.task), RefusalDetector()) for p, a in zip(prompts, answers)]
    model, tokenizer = load_scorer(str(model_dir))
    confidences = answer_confidences(model, tokenizer, [p.prompt for p in prompts], [j.answer for j in judged])
    return average_precision([j.kind in ("correct", "hedged") for j in judged], confidences)


def run_seed(seed: int, out: Path, limit: int | None = None, dpo: dict | None = None) -> dict:
    from datasets import Dataset

    from prefgen.methods.refusal.demo_policy import facts_policy_dir
    from prefgen.methods.refusal.knowledge import label_prompts
    from prefgen.methods.refusal.metrics import heldout_report
    from prefgen.methods.refusal.pairing import RefusalPairing
    from prefgen.methods.refusal.stdlib_facts import load_rows
    from prefgen.train.dpo import train_dpo
    from prefgen.train.settings import DPOSettings

    prompts = [Prompt(id=Prompt.make_id(r["prompt"], r["task"]), prompt=r["prompt"], task=r["task"], split=r["split"])
               for r in load_rows(limit=limit)]
    heldout = [p for p in prompts if p.split == "heldout"]
    policy0 = facts_policy_dir()
    scored0 = score(prompts, sample(policy0, prompts, seed))
    by_prompt: dict[str, list[Scored]] = {}
    for s in scored0:
        by_prompt.setdefault(s.prompt_id, []).append(s)
    labels = label_prompts(prompts, by_prompt, "sampled", 0.5)
    train = [p for p in prompts if p.split == "train"]
    result = RefusalPairing(seed=seed).pair(train, [s for s in scored0 if s.split == "train"])
    pairs_dir = out / f"seed{seed}" / "pairs"
    Dataset.from_list([p.to_row() for p in result.pairs]).save_to_disk(str(pairs_dir))
    # The pipeline's defaults (pipelines/refusal_awareness.yaml), overridable from the command line.
    settings = DPOSettings(**{"beta": 0.1, "learning_rate": 1e-4, "epochs": 3, "batch_size": 8,
                              "sft_weight": 1.0, **(dpo or {}), "seed": seed})
    policy1 = out / f"seed{seed}" / "policy1"
    train_dpo(pairs_dir, policy0, policy1, settings)
    scored1 = score(heldout, sample(policy1, heldout, seed))
    report = {"seed": seed, "dpo": settings.model_dump(), "pairs": len(result.pairs), "unpaired": dict(result.unpaired),
              "pair_types": _count(p.details["pair_type"] for p in result.pairs)}
    for name, policy, scored in (("policy0", policy0, scored0), ("policy1", policy1, scored1)):
        report[name] = heldout_report(prompts, scored, labels)
        report[name]["ap_greedy"] = greedy_ap(policy, [p for p in heldout if p.task.get("answerable", True)])
    return report


def _count(values) -> dict:
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="refusal-check-")))
    parser.add_argument("--limit", type=int, default=None, help="questions (a smoke run); default all")
    parser.add_argument("--dpo", type=json.loads, default={}, help='DPO settings as JSON, e.g. {"learning_rate": 1e-3}')
    args = parser.parse_args()
    keys = ("accuracy_known", "hallucination_rate_unknown", "hallucination_rate_unanswerable", "answer_rate",
            "refusal_rate_known", "ap_greedy")
    for seed in args.seeds:
        report = run_seed(seed, args.out, args.limit, args.dpo)
        print(json.dumps(report, default=str), flush=True)
        for name in ("policy0", "policy1"):
            row = "  ".join(f"{k}={report[name][k]:.3f}" if report[name][k] is not None else f"{k}=None" for k in keys)
            print(f"seed {seed} {name}: {row}", flush=True)


if __name__ == "__main__":
    main()
