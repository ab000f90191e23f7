"""Grounded quoting on the demo: do the chosen answers quote the asked object's own documentation?

Reads the outputs of finished `prefgen run pipelines/quote_tuning.yaml` loops (`rounds: 1`) and
measures every run the same way, whatever reward made its pairs: each text is scored again by the
`quote` reward with grounding (`relevant_field: relevant_docs`, `count: all`), the relevant
documents of a question being those `builtin:stdlib_docs` lists (the asked object's docstring, its
class's and its module's). For round 0 (policy 0) and round 1 (policy 1, after one DPO round):

- pairs: how many, and the share of chosen answers taking at least half of their quoted
  characters from the relevant documents ("grounded"); the rest quote mostly other objects' docs.
  Also the stricter share counting the asked object's own docstring only (``relevant_field:
  object``), the measure the issue's 15% figure used;
- held-out prompts (never trained on): mean plain QUIP and mean grounded QUIP over all samples,
  unscorable samples counted as 0.

    python benchmarks/grounded_quoting.py --run baseline-s0=OUT_A/quote_tuning --run grounded-s0=OUT_B/quote_tuning
    # writes benchmarks/results/grounded_quoting.{md,json}; --commands FILE adds how the runs were made
    python benchmarks/grounded_quoting.py --opening base-s0=OUT/quote_tuning/latest/pairs
    # prints how many chosen answers open by quoting another object's documentation (the first
    # quoted span's source is not one of the question's relevant documents), and the grounded shares
    python benchmarks/grounded_quoting.py --opening base-s0=OUT/quote_tuning/latest/pairs \
        --repair '{"max_other_docs": 2, "opening": "any"}'
    # also: the pairs the same samples make under another reward config (re-scored, paired again)

Not a test: nothing is asserted; the figures are written as measured, runs that fell short included.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from datasets import load_from_disk

from prefgen.methods.quote.reward import QuoteParams
from prefgen.methods.quote.stdlib_docs import load_rows
from prefgen.records import Candidate, Prompt
from prefgen.registry import rewards as reward_registry

RESULTS = Path(__file__).parent / "results"
QUOTE_DEFAULT_MAX_OTHER_DOCS = QuoteParams.model_fields["max_other_docs"].default
ROUNDS = (0, 1)
TARGET_SHARE = 0.8
TABLE_HEADER = (
    "| run | round | pairs | chosen grounded | share | own docstring only | held-out QUIP (plain) "
    "| held-out QUIP (grounded) | held-out tokens |"
)


def prompts_by_id() -> dict[str, Prompt]:
    """Every demo question under the id a run gives it, with or without ``relevant_docs`` in its task."""
    prompts = {}
    for row in load_rows(heldout_fraction=0.1):
        prompt = Prompt(id="", prompt=row["prompt"], task=row["task"], split=row["split"])
        plain_task = {key: value for key, value in row["task"].items() if key != "relevant_docs"}
        for task in (row["task"], plain_task):
            prompts[Prompt.make_id(row["prompt"], task)] = prompt
    return prompts


def rescore(reward, prompts: dict[str, Prompt], rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Grounded details for (prompt id, text) rows; a prompt the demo source does not know is an error."""
    items = []
    for i, (prompt_id, text) in enumerate(rows):
        if prompt_id not in prompts:
            raise SystemExit(f"prompt {prompt_id} is not a builtin:stdlib_docs question: not a demo run?")
        items.append((prompts[prompt_id], Candidate(id=str(i), prompt_id=prompt_id, sample_index=i, text=text)))
    return [result.details for result in reward.score_safely(items)]


def grounded_answer(details: dict[str, Any]) -> bool:
    """At least half of the answer's quoted characters come from its relevant documents."""
    return bool(details.get("quoted_chars")) and 2 * details["grounded_chars"] >= details["quoted_chars"]


def measure_round(rewards, prompts, round_dir: Path) -> dict[str, Any]:
    reward, own_doc_reward = rewards
    pairs = load_from_disk(str(round_dir / "latest" / "pairs")).to_list()
    chosen = rescore(reward, prompts, [(row["prompt_id"], row["chosen"]) for row in pairs])
    chosen_own_doc = rescore(own_doc_reward, prompts, [(row["prompt_id"], row["chosen"]) for row in pairs])
    candidates = load_from_disk(str(round_dir / "latest" / "candidates")).to_list()
    heldout = [row for row in candidates if row["split"] == "heldout"]
    scored = rescore(reward, prompts, [(row["prompt_id"], row["text"] or "") for row in heldout])
    grounded_chosen = sum(grounded_answer(details) for details in chosen)
    own_doc_chosen = sum(grounded_answer(details) for details in chosen_own_doc)
    return {
        "pairs": len(pairs),
        "chosen_grounded": grounded_chosen,
        "chosen_grounded_share": grounded_chosen / len(pairs) if pairs else None,
        "chosen_own_docstring": own_doc_chosen,
        "chosen_own_docstring_share": own_doc_chosen / len(pairs) if pairs else None,
        "chosen_mean_quip_all": _mean(details.get("quip_all") for details in chosen),
        "chosen_mean_quip_grounded": _mean(details.get("quip_grounded") for details in chosen),
        "heldout_samples": len(heldout),
        "heldout_prompts": len({row["prompt_id"] for row in heldout}),
        "heldout_quip_all": _mean(details.get("quip_all") for details in scored),
        "heldout_quip_grounded": _mean(details.get("quip_grounded") for details in scored),
        "heldout_mean_tokens": _mean(row["num_tokens"] for row in heldout),
    }


def _mean(values) -> float | None:
    values = [value or 0.0 for value in values]  # unscorable (too short) counts as 0, as QUIP's means do
    return statistics.fmean(values) if values else None


def measure_run(rewards, prompts, run_dir: Path) -> dict[str, Any]:
    # Paths are kept relative to the run directory: results must not carry this machine's paths.
    result: dict[str, Any] = {"rounds": {}}
    for k in ROUNDS:
        round_dir = run_dir / "rounds" / f"round_{k}"
        if not (round_dir / "latest" / "pairs").exists():
            result["incomplete"] = f"round {k} has no published pairs"
            break
        result["rounds"][k] = measure_round(rewards, prompts, round_dir)
    metrics = run_dir / "metrics.jsonl"
    if metrics.exists():
        result["loop_metrics"] = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        for entry in result["loop_metrics"]:
            entry.pop("per_prompt", None)
            policy = Path(entry.get("policy", ""))
            if policy.is_relative_to(run_dir):
                entry["policy"] = str(policy.relative_to(run_dir))
    return result


def markdown(runs: dict[str, dict[str, Any]], commands: str, notes: str) -> str:
    method = (
        "Every text is re-scored the same way for every run (`quote` reward, `relevant_field: relevant_docs`, "
        "`count: all`). **grounded**: the chosen answer takes at least half of its quoted characters from the "
        "asked object's own documentation (its docstring, its class's, its module's). Held-out means count "
        "unscorable samples as 0. Round 0 = policy 0 (before DPO), round 1 = policy 1 (after one round). "
        f"Target: grounded share of chosen answers >= {TARGET_SHARE:.0%}, held-out QUIP still rising."
    )
    lines = [
        "# Grounded quoting on the demo",
        "",
        method,
        "",
        TABLE_HEADER,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, run in runs.items():
        for k, m in run["rounds"].items():
            share = "n/a" if m["chosen_grounded_share"] is None else f"{m['chosen_grounded_share']:.1%}"
            own = "n/a" if m["chosen_own_docstring_share"] is None else f"{m['chosen_own_docstring_share']:.1%}"
            lines.append(
                f"| {label} | {k} | {m['pairs']} | {m['chosen_grounded']} | {share} | {own} | {m['heldout_quip_all']:.4f} | "
                f"{m['heldout_quip_grounded']:.4f} | {m['heldout_mean_tokens']:.1f} |"
            )
        if run.get("incomplete"):
            lines.append(f"| {label} | - | incomplete: {run['incomplete']} | | | | | | |")
    if notes.strip():
        lines += ["", "## Findings", "", notes.strip()]
    lines += ["", "## Commands", "", "```", commands.strip() or "(not recorded)", "```", ""]
    return "\n".join(lines)


# --- openings: does a chosen answer start by quoting another object's documentation? -----------------
def first_quote(details: dict[str, Any]) -> dict[str, Any] | None:
    """The quote that starts first in the answer (``details.quotes`` of the quote reward), or None."""
    quotes = details.get("quotes") or []
    return min(quotes, key=lambda quote: (quote["start"], -quote["length"])) if quotes else None


def opens_off_topic(details: dict[str, Any], relevant_docs: list[str]) -> bool | None:
    """True if the answer's first quoted span comes from a document outside ``relevant_docs``; None
    if it quotes nothing. The source pointer is the reward's: when the quoted text is also in a
    relevant document, the reward names that one, so only text no relevant document holds (as a
    whole) counts as another object's documentation."""
    quote = first_quote(details)
    if quote is None:
        return None
    if "relevant" in quote:
        return not quote["relevant"]
    return quote["source"].get("id") not in relevant_docs


def count_openings(pairs: list[dict[str, Any]], prompts: dict[str, Prompt]) -> dict[str, Any]:
    """How many chosen answers open with another object's documentation, from the pairs' details."""
    off_topic = no_quote = 0
    examples = []
    for row in pairs:
        details = json.loads(row["details"]) if isinstance(row["details"], str) else row["details"]
        chosen = details.get("chosen") or {}
        relevant = chosen.get("relevant_docs")
        if relevant is None:  # a run scored without grounding: the question's own list
            relevant = prompts[row["prompt_id"]].task["relevant_docs"]
        verdict = opens_off_topic(chosen, relevant)
        no_quote += verdict is None
        if verdict:
            off_topic += 1
            if len(examples) < 3:
                quote = first_quote(chosen)
                examples.append({"prompt": row["prompt"], "first_quote_source": quote["source"].get("id"),
                                 "first_quote": quote["text"][:80], "chosen_score": row["chosen_score"]})
    return {"pairs": len(pairs), "opens_off_topic": off_topic, "share": off_topic / len(pairs) if pairs else None,
            "no_quote": no_quote, "examples": examples}


def repair(candidates_dir: Path, prompts: dict[str, Prompt], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The pairs a round would have made from the same samples with another quote-reward config:
    the train samples of a published ``candidates`` dataset re-scored, then Algorithm 1 as the demo
    YAML configures it. Same samples, so configs compare without sampling noise (and without a run)."""
    from prefgen.pairing import build_strategy
    from prefgen.records import Scored

    samples = [Scored.from_row(row) for row in load_from_disk(str(candidates_dir)).to_list()]
    train = [sample for sample in samples if sample.split == "train"]
    reward = reward_registry.build("quote", {"index": "demo", "relevant_field": "relevant_docs", **params})
    results = reward.score_safely([(prompts[sample.prompt_id], sample) for sample in train])
    scored = [sample.model_copy(update={"score": r.score, "reason": r.reason, "details": r.details})
              for sample, r in zip(train, results)]
    asked = {sample.prompt_id for sample in train}
    ids = {prompt_id: prompt.model_copy(update={"id": prompt_id}) for prompt_id, prompt in prompts.items()
           if prompt_id in asked}
    strategy = build_strategy("quote_tuning", {"min_margin": 0.1, "max_length_ratio": 0.1, "strict": True})
    return [pair.to_row() for pair in strategy.pair(list(ids.values()), scored).pairs]


def measure_openings(pairs_dir: Path, prompts: dict[str, Prompt], params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Openings of a published pairs dataset (or, with ``params``, of the pairs its run's candidates
    make under that reward config), and its chosen answers' grounded share re-scored two ways:
    relevant windows (`max_other_docs: null`) and specific relevant windows (the default)."""
    if params is None:
        pairs = load_from_disk(str(pairs_dir)).to_list()
    else:
        pairs = repair(pairs_dir.parent / "candidates", prompts, params)
    result = count_openings(pairs, prompts)
    rows = [(row["prompt_id"], row["chosen"]) for row in pairs]
    for key, limit in (("grounded", None), ("grounded_specific", QUOTE_DEFAULT_MAX_OTHER_DOCS)):
        reward = reward_registry.build("quote", {"index": "demo", "relevant_field": "relevant_docs", "count": "all",
                                        "max_other_docs": limit})
        chosen = rescore(reward, prompts, rows)
        share = sum(grounded_answer(details) for details in chosen)
        result[key] = share
        result[f"{key}_share"] = share / len(pairs) if pairs else None
        result[f"{key}_mean_quip"] = _mean(details.get("quip_grounded") for details in chosen)
    return result


def openings_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        ("| run | pairs | open with another object's doc | share | no quote | chosen grounded (relevant) "
         "| chosen grounded (specific) |"),
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, m in results.items():
        lines.append(
            f"| {label} | {m['pairs']} | {m['opens_off_topic']} | {_percent(m['share'])} | {m['no_quote']} | "
            f"{m['grounded']} ({_percent(m['grounded_share'])}) | "
            f"{m['grounded_specific']} ({_percent(m['grounded_specific_share'])}) |"
        )
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", metavar="LABEL=DIR",
                        help="a finished loop's run directory (OUTPUT_DIR/quote_tuning), with a label")
    parser.add_argument("--opening", action="append", metavar="LABEL=PAIRS_DIR",
                        help="count the chosen answers of a published pairs dataset (load_from_disk) that open "
                        "with another object's documentation; prints a markdown table, writes nothing")
    parser.add_argument("--repair", action="append", metavar="JSON",
                        help="with --opening: also re-score the same run's candidates with these quote-reward "
                        "params (JSON, over relevant_field: relevant_docs) and pair them again")
    parser.add_argument("--commands", type=Path, help="a text file with the commands that made the runs")
    parser.add_argument("--notes", type=Path, help="a markdown file with what the figures show, for the report")
    parser.add_argument("--out", type=Path, default=RESULTS / "grounded_quoting")
    args = parser.parse_args()
    if args.opening:
        prompts = prompts_by_id()
        results = {}
        for spec in args.opening:
            label, _, directory = spec.partition("=")
            results[label] = measure_openings(Path(directory), prompts)
            for config in args.repair or []:
                params = json.loads(config)
                results[f"{label} re-paired {config}"] = measure_openings(Path(directory), prompts, params)
            print(label, json.dumps(results[label], indent=1))
        print(openings_table(results))
        if not args.run:
            return
    if not args.run:
        parser.error("give --run LABEL=DIR and/or --opening LABEL=PAIRS_DIR")
    # The table's "grounded" counts every relevant window, as when its first rows were measured.
    rewards = [
        reward_registry.build("quote", {"index": "demo", "relevant_field": field, "count": "all", "max_other_docs": None})
        for field in ("relevant_docs", "object")
    ]
    prompts = prompts_by_id()
    started = time.perf_counter()
    runs = {}
    for spec in args.run:
        label, _, directory = spec.partition("=")
        runs[label] = measure_run(rewards, prompts, Path(directory))
        print(label, json.dumps(runs[label]["rounds"], indent=1))
    commands = args.commands.read_text() if args.commands else ""
    notes = args.notes.read_text() if args.notes else ""
    report = {"runs": runs, "commands": commands, "notes": notes, "seconds": time.perf_counter() - started}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(runs, commands, notes))
    print(f"wrote {args.out.with_suffix('.md')} and .json")


if __name__ == "__main__":
    main()
