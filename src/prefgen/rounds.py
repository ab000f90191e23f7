"""The closed loop: generate -> score -> pair -> train (DPO) -> generate again.

With ``rounds: N`` round k samples with policy k (policy 0 is ``model.path``), and policy k+1 is
trained on round k's pairs. Policy N is then sampled too (its pairs are the next round's data), so
the reward is measured before the first round and after each, on the train prompts (what training
optimises) and on held-out prompts training never sees (what the loop reports). Everything lives under the run directory::

    outputs/<name>/
      rounds/round_0/            an ordinary run directory (work/, versions/, latest/) for policy 0
      rounds/round_1/policy/     policy 1, trained on round 0's pairs
      rounds/round_1/ ...        its samples and pairs (round N: policy N's, for a next round)
      latest -> rounds/round_N/versions/v0001   the last round that made pairs, once the loop ends
      metrics.jsonl              one line per policy: held-out reward, length, pairs, training
      metrics.png                the same, plotted
      method_metrics.png         the reward's own held-out metrics (when it reports any)
      README.md                  the loop's card: the before/after table

Each round reuses the pipeline's incremental machinery, and a trained policy is kept with a record
of what it was trained on, so rerunning a loop redoes only what changed.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefgen.config import ConfigError, PipelineConfig
from prefgen.executors.selection import make_runtime
from prefgen.generation.model_ref import resolve_model
from prefgen.hashing import content_hash
from prefgen.method_metrics import HeldoutRound, PolicyEngines, method_table, plot_method_metrics
from prefgen.pipeline import Checked, PipelineRun, RunFailed, RunSummary, preflight
from prefgen.progress import StageTracker
from prefgen.run_status import last_round_with_pairs
from prefgen.rundir import RunDir, RunLockedError, write_json_atomic, write_text_atomic

log = logging.getLogger("prefgen")


@dataclass
class LoopSummary(RunSummary):
    """What a loop did: the last round's summary, the held-out metrics of every policy, and the
    round whose datasets ``latest`` shows (None if no round made pairs)."""

    metrics: list[dict[str, Any]] = field(default_factory=list)
    latest_round: int | None = None


def loop_preflight(config: PipelineConfig) -> Checked:
    """Everything a loop needs, checked once before round 0: the pipeline's checks, and held-out
    prompts to measure on (read now: a missing split would otherwise fail only after round 0's
    sampling). The reward (which also reports the method's metrics of each policy) and the prompts
    are handed to every round, so neither is built or read again."""
    from prefgen.config import ConfigError
    from prefgen.sources.reader import read_prompts

    reward = preflight(config)
    try:
        prompt_set = read_prompts(config.prompts, reward.task_problem)
    except (OSError, ValueError) as exc:  # a source the cheap checks passed but that cannot be read
        raise ConfigError("preflight", [f"prompts.source: cannot read {config.prompts.source}: {exc}"]) from None
    if not prompt_set.heldout:
        raise ConfigError("preflight", ["prompts.heldout_fraction: rounds > 0 measures each policy on held-out "
                                        "prompts, and this source gives none: set it > 0"])
    return Checked(reward, prompt_set)


def measured(summary: RunSummary) -> dict[str, Any]:
    """Reward per split of a round, from its summary (in memory), for metrics.jsonl."""
    heldout = summary.split_metrics.get("heldout")
    if not heldout:
        raise RunFailed("no held-out prompts to measure on: set prompts.heldout_fraction > 0")
    train = summary.split_metrics.get("train", {})
    return {
        "heldout_prompts": heldout["prompts"],
        "heldout_samples": heldout["samples"],
        "heldout_mean_score": heldout["mean_score"],
        "heldout_mean_tokens": heldout["mean_tokens"],
        "train_mean_score": train.get("mean_score"),
        "train_mean_tokens": train.get("mean_tokens"),
        "per_prompt": heldout["per_prompt"],
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
        """Check everything, then run the rounds under the loop's lock on one runtime."""
        self.checked = loop_preflight(self.config)
        self.reward = self.checked.reward
        started = time.monotonic()
        self.root.prepare()
        self.runtime = make_runtime(self.config)
        try:
            with self.root.lock(wait_seconds):
                summary = self._run_locked()
        finally:
            self.runtime.shutdown()
        summary.seconds = time.monotonic() - started
        return summary

    def _run_locked(self) -> LoopSummary:
        policy = self.config.model.path
        metrics: list[dict[str, Any]] = []
        summary: RunSummary | None = None
        published = False
        for k in range(self.config.rounds + 1):
            try:
                summary = PipelineRun(self.round_config(k, policy), self.tracker, self.runtime, self.checked).run()
            except (RunFailed, ConfigError, RunLockedError):
                raise  # keep their exit codes (1, 2, 4)
            except Exception as exc:
                raise RunFailed(f"round {k} (policy {policy}) failed: {type(exc).__name__}: {exc}") from exc
            published |= summary.status == "published"
            metrics.append(self._measure(k, policy, summary, metrics))
            self._write_metrics(metrics)
            if k < self.config.rounds:
                policy = self._train(k, policy, summary)
        assert summary is not None
        latest_round = self._publish_latest()
        return LoopSummary(
            status="published" if published else "nothing_new",
            run_dir=self.root.root,
            version=summary.version,
            counts=summary.counts,
            unpaired=summary.unpaired,
            scores=summary.scores,
            seconds=0.0,
            metrics=metrics,
            latest_round=latest_round,
        )

    def _publish_latest(self) -> int | None:
        """Point the loop's ``latest`` at the last round that made pairs (round N's unless it made
        none), swapped in one rename as a single run's ``latest`` is, so ``<dir>/latest/pairs``
        reads the same for a loop as for a run. Done once every round has finished: a reader sees
        the previous loop's datasets or this one's. Returns that round's number."""
        found = last_round_with_pairs(self.root.root)
        if found is None:
            return None
        k, version = found
        if self.root.latest_version() != version.resolve():
            self.root.point_latest(version)
        log.info("loop %s: latest is round %d's %s", self.config.name, k, version.name)
        return k

    # --- training -------------------------------------------------------------------------
    def _train(self, k: int, policy: str, summary: RunSummary) -> str:
        """Policy k+1 from round k's pairs; reused when the same pairs and settings made it."""
        from prefgen.train.dpo import train_dpo

        pairs_dir = summary.version_dir / "pairs"
        out = self.root.root / "rounds" / f"round_{k + 1}" / "policy"
        key = content_hash([summary.fingerprint, self.config.dpo.model_dump(mode="json"), policy])[:16]
        marker = out / "prefgen_round.json"
        if marker.exists() and json.loads(marker.read_text()).get("key") == key:
            log.info("round %d: policy %s is up to date", k + 1, out)
            return str(out)
        if summary.counts["pairs"] == 0:
            raise RunFailed(f"round {k} produced no pairs to train on (see its card: {summary.run_dir / 'latest'})")
        self.runtime.release_engines()  # the engines' memory goes back before training starts
        start = resolve_model(policy).path
        with self.tracker.live():  # a bar (steps, rate, ETA) for the minutes training takes
            result = train_dpo(pairs_dir, start, out, self.config.dpo, progress=self.tracker.stage(f"dpo {k + 1}", 0))
        write_json_atomic(marker, {"key": key, "trained_from": policy, "pairs_version": summary.version, **result.to_json()})
        return str(out)

    # --- metrics --------------------------------------------------------------------------
    def _measure(self, k: int, policy: str, summary: RunSummary, earlier: list[dict]) -> dict[str, Any]:
        metrics = measured(summary)
        per_prompt = metrics.pop("per_prompt")
        entry = {"round": k, "policy": policy, "pairs": summary.counts["pairs"], **metrics}
        if earlier:
            base = earlier[0]["_per_prompt"]
            shared = [pid for pid in per_prompt if pid in base]
            entry["improved_share"] = sum(per_prompt[p] > base[p] for p in shared) / max(1, len(shared))
            entry["score_change"] = entry["heldout_mean_score"] - earlier[0]["heldout_mean_score"]
            entry["relative_gain"] = relative_change(entry["heldout_mean_score"], earlier[0]["heldout_mean_score"])
            entry["length_change"] = entry["heldout_mean_tokens"] / max(1e-12, earlier[0]["heldout_mean_tokens"]) - 1
        # the reward's own metrics of policy k (most rewards report none); policy 0's round is
        # kept so labels decided once (what policy 0 knows) apply to every later policy
        entry["_heldout"] = HeldoutRound(
            round=k, policy=policy, prompts=summary.heldout_prompts, scored=summary.heldout_scored,
            first=earlier[0]["_heldout"] if earlier else None, policy_engines=self._policy_engines(k, policy),
        )
        entry["method"] = self.reward.loop_metrics(entry["_heldout"])
        entry["_per_prompt"] = per_prompt
        return entry

    def _policy_engines(self, k: int, policy: str) -> PolicyEngines:
        """Policy k's engines for a reward's extra measurements: started by the runtime on first use."""
        model = self.round_config(k, policy).model

        def open_engines() -> tuple[str, Any]:
            ref = resolve_model(model.path)
            return ref.path, self.runtime.engines(ref.path, ref.fingerprint, model)

        return PolicyEngines(open_engines)

    def _write_metrics(self, metrics: list[dict[str, Any]]) -> None:
        public = [{k: v for k, v in m.items() if not k.startswith("_")} for m in metrics]
        write_text_atomic(self.root.root / "metrics.jsonl", "".join(json.dumps(m, sort_keys=True) + "\n" for m in public))
        plot_metrics(public, self.root.root / "metrics.png")
        card = f"# {self.config.name}: training rounds\n\n{self._table(metrics)}\n\n![metrics](metrics.png)\n"
        if plot_method_metrics(public, self.root.root / "method_metrics.png"):
            card += f"\n{method_table(public)}\n\n![method metrics](method_metrics.png)\n"
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
            gain = gain_text(m) or "—"
            improved = f"{m['improved_share']:.0%}" if "improved_share" in m else "—"
            change = f"{m['length_change']:+.1%}" if "length_change" in m else "—"
            lines.append(
                f"| {m['round']} | {m['heldout_mean_score']:.4f} | {gain} | {improved} | "
                f"{m['heldout_mean_tokens']:.1f} | {change} | {m['train_mean_score'] or 0:.4f} | {m['pairs']} |"
            )
        return "\n".join(lines)


def relative_change(value: float, base: float) -> float | None:
    """value / base - 1, or None where a ratio means nothing (a base at or below zero, as rewards
    with negative scores give)."""
    return value / base - 1 if base > 0 else None


def gain_text(entry: dict[str, Any]) -> str:
    """Policy k against policy 0: relative when the base is positive, else the absolute change."""
    if entry.get("relative_gain") is not None:
        return f"{entry['relative_gain']:+.1%}"
    if "score_change" in entry:
        return f"{entry['score_change']:+.4f} (absolute)"
    return ""


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
