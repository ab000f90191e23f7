"""The closed loop: generate -> score -> pair -> train (DPO) -> generate again.

With ``rounds: N`` round k samples with policy k (policy 0 is ``model.path``), and policy k+1 is
trained on round k's pairs. Policy N is then sampled too (its pairs are the next round's data), so
the reward is measured before the first round and after each, on the train prompts (what training
optimises) and on held-out prompts training never sees (what the loop reports). Everything lives under the run directory::

    outputs/<name>/
      rounds/round_0/            an ordinary run directory (work/, versions/, latest/) for policy 0
      rounds/round_1/policy/     policy 1, trained on round 0's pairs
      rounds/round_1/ ...        its samples and pairs (round N: policy N's, for a next round)
      metrics.jsonl              one line per policy: held-out reward, length, pairs, training
      metrics.png                the same, plotted
      README.md                  the loop's card: the before/after table

Each round reuses the pipeline's incremental machinery, and a trained policy is kept with a record
of what it was trained on, so rerunning a loop redoes only what changed.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasets import load_from_disk

from prefgen.config import PipelineConfig
from prefgen.hashing import content_hash
from prefgen.pipeline import PipelineRun, RunFailed, RunSummary
from prefgen.progress import StageTracker
from prefgen.rundir import RunDir, write_json_atomic

log = logging.getLogger("prefgen")


@dataclass
class LoopSummary(RunSummary):
    """What a loop did: the last round's summary, and the held-out metrics of every policy."""

    metrics: list[dict[str, Any]] = field(default_factory=list)


def split_metrics(candidates_dir: Path) -> dict[str, Any]:
    """Reward per split: mean score (nulls as 0), mean length, and per-prompt means (held-out).

    The train split is what training optimised (the signal to tune training on); the held-out
    split, which training never sees, is what the loop reports.
    """
    rows = load_from_disk(str(candidates_dir)).to_list()
    heldout = [r for r in rows if r["split"] == "heldout"]
    if not heldout:
        raise RunFailed("no held-out prompts to measure on: set prompts.heldout_fraction > 0")
    train = [r for r in rows if r["split"] == "train"]
    per_prompt: dict[str, list[float]] = {}
    for row in heldout:
        per_prompt.setdefault(row["prompt_id"], []).append(row["score"] or 0.0)
    return {
        "heldout_prompts": len(per_prompt),
        "heldout_samples": len(heldout),
        "heldout_mean_score": statistics.fmean(r["score"] or 0.0 for r in heldout),
        "heldout_mean_tokens": statistics.fmean(r["num_tokens"] for r in heldout),
        "train_mean_score": statistics.fmean(r["score"] or 0.0 for r in train) if train else None,
        "train_mean_tokens": statistics.fmean(r["num_tokens"] for r in train) if train else None,
        "per_prompt": {pid: statistics.fmean(v) for pid, v in per_prompt.items()},
    }


class TrainingLoop:
    """Runs the rounds of one pipeline config."""

    def __init__(self, config: PipelineConfig, tracker: StageTracker | None = None):
        self.config = config
        self.tracker = tracker or StageTracker(quiet=True)
        self.root = RunDir(config.run_dir())

    def round_config(self, k: int, policy: str) -> PipelineConfig:
        """Round k's pipeline: the same config, policy k, its own run directory."""
        return self.config.model_copy(
            update={
                "name": f"round_{k}",
                "rounds": 0,
                "model": self.config.model.model_copy(update={"path": policy}),
                "output": self.config.output.model_copy(update={"dir": str(self.root.root / "rounds")}),
            }
        )

    def run(self, wait_seconds: float = 0) -> LoopSummary:
        started = time.monotonic()
        self.root.prepare()
        with self.root.lock(wait_seconds):
            summary = self._run_locked()
        summary.seconds = time.monotonic() - started
        return summary

    def _run_locked(self) -> LoopSummary:
        policy = self.config.model.path
        metrics: list[dict[str, Any]] = []
        summary: RunSummary | None = None
        published = False
        for k in range(self.config.rounds + 1):
            try:
                summary = PipelineRun(self.round_config(k, policy), self.tracker).run()
            except RunFailed:
                raise
            except Exception as exc:
                raise RunFailed(f"round {k} (policy {policy}) failed: {type(exc).__name__}: {exc}") from exc
            published |= summary.status == "published"
            metrics.append(self._measure(k, policy, summary, metrics))
            self._write_metrics(metrics)
            if k < self.config.rounds:
                policy = self._train(k, policy, summary)
        assert summary is not None
        return LoopSummary(
            status="published" if published else "nothing_new",
            run_dir=self.root.root,
            version=summary.version,
            counts=summary.counts,
            unpaired=summary.unpaired,
            scores=summary.scores,
            seconds=0.0,
            metrics=metrics,
        )

    # --- training -------------------------------------------------------------------------
    def _train(self, k: int, policy: str, summary: RunSummary) -> str:
        """Policy k+1 from round k's pairs; reused when the same pairs and settings made it."""
        from prefgen.executors.engine_pool import release_all_pools
        from prefgen.generation.model_ref import resolve_model
        from prefgen.train.dpo import train_dpo

        pairs_dir = summary.run_dir / "latest" / "pairs"
        out = self.root.root / "rounds" / f"round_{k + 1}" / "policy"
        version = json.loads((summary.run_dir / "latest" / "version.json").read_text())
        key = content_hash([version["fingerprint"], self.config.dpo.model_dump(mode="json"), policy])[:16]
        marker = out / "prefgen_round.json"
        if marker.exists() and json.loads(marker.read_text()).get("key") == key:
            log.info("round %d: policy %s is up to date", k + 1, out)
            return str(out)
        if summary.counts["pairs"] == 0:
            raise RunFailed(f"round {k} produced no pairs to train on (see its card: {summary.run_dir / 'latest'})")
        release_all_pools()  # the engines' memory goes back before training starts
        start = resolve_model(policy).path
        result = train_dpo(pairs_dir, start, out, self.config.dpo, progress=self.tracker.stage(f"dpo {k + 1}", 0))
        write_json_atomic(marker, {"key": key, "trained_from": policy, "pairs_version": version["version"], **result.to_json()})
        return str(out)

    # --- metrics --------------------------------------------------------------------------
    def _measure(self, k: int, policy: str, summary: RunSummary, earlier: list[dict]) -> dict[str, Any]:
        measured = split_metrics(summary.run_dir / "latest" / "candidates")
        per_prompt = measured.pop("per_prompt")
        entry = {"round": k, "policy": policy, "pairs": summary.counts["pairs"], **measured}
        if earlier:
            base = earlier[0]["_per_prompt"]
            shared = [pid for pid in per_prompt if pid in base]
            entry["improved_share"] = sum(per_prompt[p] > base[p] for p in shared) / max(1, len(shared))
            entry["relative_gain"] = entry["heldout_mean_score"] / max(1e-12, earlier[0]["heldout_mean_score"]) - 1
            entry["length_change"] = entry["heldout_mean_tokens"] / max(1e-12, earlier[0]["heldout_mean_tokens"]) - 1
        entry["_per_prompt"] = per_prompt
        return entry

    def _write_metrics(self, metrics: list[dict[str, Any]]) -> None:
        public = [{k: v for k, v in m.items() if not k.startswith("_")} for m in metrics]
        tmp = self.root.root / ".metrics.jsonl.tmp"
        tmp.write_text("".join(json.dumps(m, sort_keys=True) + "\n" for m in public))
        tmp.replace(self.root.root / "metrics.jsonl")
        plot_metrics(public, self.root.root / "metrics.png")
        card = f"# {self.config.name}: training rounds\n\n{self._table(metrics)}\n\n![metrics](metrics.png)\n"
        (self.root.root / "README.md").write_text(card, encoding="utf-8")

    @staticmethod
    def _table(metrics: list[dict[str, Any]]) -> str:
        lines = [
            "## Held-out reward by round",
            "",
            "Policy k is measured on held-out prompts that training never sees (mean score counts "
            "unscorable samples as 0; lengths in tokens).",
            "",
            "| policy | held-out mean score | relative gain | improved prompts | mean length | length change "
            "| train mean score | pairs |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for m in metrics:
            gain = f"{m['relative_gain']:+.1%}" if "relative_gain" in m else "—"
            improved = f"{m['improved_share']:.0%}" if "improved_share" in m else "—"
            change = f"{m['length_change']:+.1%}" if "length_change" in m else "—"
            lines.append(
                f"| {m['round']} | {m['heldout_mean_score']:.4f} | {gain} | {improved} | "
                f"{m['heldout_mean_tokens']:.1f} | {change} | {m['train_mean_score'] or 0:.4f} | {m['pairs']} |"
            )
        return "\n".join(lines)


def plot_metrics(metrics: list[dict[str, Any]], path: Path) -> None:
    """PNG: held-out mean score and mean length per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = [m["round"] for m in metrics]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.plot(rounds, [m["heldout_mean_score"] for m in metrics], marker="o")
    left.set(title="Held-out mean score", xlabel="policy (round)", xticks=rounds)
    right.plot(rounds, [m["heldout_mean_tokens"] for m in metrics], marker="o", color="#dd8452")
    right.set(title="Held-out mean length (tokens)", xlabel="policy (round)", xticks=rounds)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
