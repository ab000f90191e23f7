"""One run of a pipeline: read prompts -> generate (scoring each shard as it is written) -> pair
-> publish. Each stage is a module under :mod:`prefgen.stages` with typed inputs and outputs;
this module runs them in order inside the run's lock, its status record and its runtime.

Work is keyed by content (see :mod:`prefgen.stages.generate`), so a rerun does only what changed,
a killed run resumes, and the published dataset is fingerprinted by its rows ("nothing new" when
they are unchanged).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prefgen.card import score_summary
from prefgen.config import ConfigError, PipelineConfig
from prefgen.executors.runtime import Runtime
from prefgen.executors.scoring import share_reward
from prefgen.executors.selection import make_runtime
from prefgen.generation.strategy import GenerationContext, GenerationStrategy
from prefgen.hashing import content_hash
from prefgen.metrics import split_metrics
from prefgen.pairing import PairingResult
from prefgen.preflight import config_problems
from prefgen.progress import StageTracker
from prefgen.records import Prompt, Scored
from prefgen.registry import UnknownPluginError, generation_strategies, rewards
from prefgen.rewards import Reward
from prefgen.run_status import RunStatus
from prefgen.rundir import OutputNotWritableError, RunDir
from prefgen.sources.reader import PromptSet
from prefgen.stages import RunFailed
from prefgen.stages.generate import GenerateStage, generation_key
from prefgen.stages.pair import pair_stage
from prefgen.stages.publish import PublishInput, publish_stage
from prefgen.stages.read import append_rejects, read_stage
from prefgen.stages.target import TargetOutcome, target_stage

log = logging.getLogger("prefgen")

__all__ = ["PipelineRun", "RunFailed", "RunSummary", "preflight"]


@dataclass
class RunSummary:
    """What a run did, for the CLI's table, the training loop and other callers."""

    status: str  # "published" or "nothing_new"
    run_dir: Path
    version: str | None
    counts: dict[str, int]
    unpaired: dict[str, int]
    scores: dict[str, Any]
    seconds: float
    stage_work: dict[str, int] = field(default_factory=dict)  # shards computed (not reused) per stage
    fingerprint: str | None = None  # the published version's
    split_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # "train" / "heldout" -> metrics
    heldout_prompts: dict[str, Prompt] = field(default_factory=dict, repr=False)  # for a loop's method metrics
    heldout_scored: list[Scored] = field(default_factory=list, repr=False)
    target: dict[str, Any] | None = None  # with target_pairs: TargetOutcome.as_dict()

    @property
    def version_dir(self) -> Path | None:
        return self.run_dir / "versions" / self.version if self.version else None


@dataclass
class Checked:
    """What pre-flight built, handed on so a run (or a loop's rounds) does not build it again: the
    one reward object of this process, and the prompts when they were read already."""

    reward: Reward
    prompt_set: PromptSet | None = None


def preflight(config: PipelineConfig) -> Reward:
    """Every cheap check before heavy work, creating nothing; raises ConfigError listing all problems."""
    problems = config_problems(config)
    reward = None
    try:
        reward = rewards.build(config.reward.name, config.reward.params)
        problems += reward.check()
    except (UnknownPluginError, ValueError) as exc:
        problems.append(f"reward: {exc}")
    if reward is not None and not problems and (config.ray.address or os.environ.get("RAY_ADDRESS")):
        from prefgen.executors.node_check import check_cluster_paths

        problems += check_cluster_paths(config, reward)  # a cluster's nodes may not share storage
    if problems:
        raise ConfigError("preflight", problems)
    return reward


class PipelineRun:
    """One run: its directory, lock, status record, runtime and the stages in order."""

    def __init__(self, config: PipelineConfig, tracker: StageTracker | None = None, runtime: Runtime | None = None,
                 checked: Checked | None = None):
        self.config = config
        self.checked = checked  # a loop checks once, before round 0, and hands its checks to each round
        self.tracker = tracker or StageTracker(quiet=True)
        self.run_dir = RunDir(config.run_dir())
        self.runtime = runtime or make_runtime(config)
        self._owns_runtime = runtime is None  # a loop shares one runtime across its rounds

    def run(self, wait_seconds: float = 0) -> RunSummary:
        """Check (unless the caller did), lock, run the stages, and stop whatever this run started."""
        if self.checked is None:
            self.checked = Checked(preflight(self.config))
        reward = self.checked.reward
        share_reward(self.config.reward.name, reward)  # one reward object per process
        try:
            self.run_dir.prepare()
        except OutputNotWritableError as exc:
            raise ConfigError("preflight", [str(exc)]) from None
        started = time.monotonic()
        try:
            with self.run_dir.lock(wait_seconds):
                return self._run_logged(reward, started)
        finally:
            if self._owns_runtime:
                self.runtime.shutdown()

    def _run_logged(self, reward: Reward, started: float) -> RunSummary:
        handler = _start_log(self.run_dir)
        self.status = RunStatus(self.run_dir, self.config.name)
        try:
            self.status.set("state", "running")
            summary = self._stages(reward, started)
            self.status.set("state", "finished")
            return summary
        except BaseException as exc:
            self.status.failed(exc)
            log.exception("run failed")
            raise
        finally:
            log.removeHandler(handler)
            handler.close()

    def _stages(self, reward: Reward, started: float) -> RunSummary:
        self.run_dir.remove_stale_staging()
        prompt_set = read_stage(self.config.prompts, reward, self.run_dir, self.checked.prompt_set)
        reward.prepare()
        strategy = self._strategy(prompt_set)
        scored = self._generate(prompt_set, strategy, reward)
        scored, pairing, target = self._pair(prompt_set, scored, strategy, reward)
        self.status.stage("pair", total=len(prompt_set.train), done=len(prompt_set.train))
        counts = _counts(prompt_set, scored, pairing, self.run_dir)
        made = PublishInput(prompt_set, scored, pairing, reward, strategy.context.model, counts, target)
        published = publish_stage(self.config, self.run_dir, made)
        self.status.stage("publish", total=1, done=1)
        log.info("run %s: %s %s", self.config.name, published.status, published.version)
        return RunSummary(
            status=published.status, run_dir=self.run_dir.root, version=published.version, counts=counts,
            unpaired=dict(pairing.unpaired), scores=score_summary(scored), seconds=time.monotonic() - started,
            stage_work=self._stage_work(), fingerprint=published.fingerprint,
            split_metrics=split_metrics(scored), heldout_prompts={p.id: p for p in prompt_set.heldout},
            heldout_scored=[s for s in scored if s.split == "heldout"], target=target.as_dict() if target else None,
        )

    def _strategy(self, prompt_set: PromptSet) -> GenerationStrategy:
        """The generation strategy with its context: engines and scorer start only when used."""
        generate = self.config.generate
        cls = generation_strategies.load(generate.strategy)
        params = cls.Params(**generate.params)
        model = cls.identify(params, self.config)
        context = GenerationContext(
            model=model,
            engines=lambda: self.runtime.engines(model.path, model.fingerprint, self.config.model),
            scorer=_InlineScorer(self.checked.reward),
            prompts=prompt_set.prompts,
            reject=lambda rows: append_rejects(self.run_dir, rows),
        )
        return cls(params, context)

    def _generate(self, prompt_set: PromptSet, strategy: GenerationStrategy, reward: Reward) -> list[Scored]:
        model = self.config.model
        model_settings = model.model_dump(include={"max_model_len", "chat_template"}) if model else {}
        self._base_key = generation_key(strategy.context.model.fingerprint, strategy.key_content(), model_settings)
        self._stages_run: list[GenerateStage] = []
        return self._generate_prompts(prompt_set.prompts, self._base_key, strategy, reward, ("generate", "score"))

    def _generate_prompts(self, prompts, base: str, strategy: GenerationStrategy, reward: Reward, names) -> list[Scored]:
        # the validated params (paths made absolute), not the raw YAML: workers rebuild the reward
        reward_params = reward.params.model_dump(mode="json")
        stage = GenerateStage(
            self.run_dir, self.status, self.tracker,
            lambda: self.runtime.scoring_jobs(self.config.reward.name, reward_params), names,
        )
        self._stages_run.append(stage)
        return stage.run(prompts, base, strategy, reward.fingerprint(), self.config.generate.shard_size)

    def _pair(
        self, prompt_set: PromptSet, scored: list[Scored], strategy: GenerationStrategy, reward: Reward
    ) -> tuple[list[Scored], PairingResult, TargetOutcome | None]:
        """Pairs; with ``target_pairs``, after sampling unpaired prompts again (see stages.target)."""
        target = self.config.target_pairs
        if target is None:
            return scored, pair_stage(prompt_set, scored, self.config.pairing), None

        def sample_round(round: int, prompts: list) -> list[Scored]:
            # a round's samples are keyed by (prompt, round): a rerun or a resumed run reuses them
            base = content_hash([self._base_key, "resample", round])
            names = (f"resample {round}", f"score {round}")
            return self._generate_prompts(prompts, base, strategy.for_round(round), reward, names)

        result = target_stage(
            prompt_set, scored, self.config.pairing, target, sample_round, strategy.samples_per_prompt()
        )
        return result.scored, result.pairing, result.outcome

    def _stage_work(self) -> dict[str, int]:
        """Shards computed (not reused) per stage, over the first sampling and every re-sampling round."""
        total = Counter()
        for stage in self._stages_run:
            total.update(vars(stage.work))
        return {key: total[key] for key in vars(self._stages_run[0].work)}


class _InlineScorer:
    """The scorer handle given to strategies: scores now, in this process, with the run's reward."""

    def __init__(self, reward: Reward):
        self.reward = reward

    def score(self, items):
        from prefgen.executors.scoring import scored_records

        return scored_records(self.reward, items)


def _counts(prompt_set: PromptSet, scored: list[Scored], pairing: PairingResult, run_dir: RunDir) -> dict[str, int]:
    return {
        "prompts": len(prompt_set.prompts),
        "prompts_train": len(prompt_set.train),
        "prompts_heldout": len(prompt_set.heldout),
        "rejected_inputs": _count_lines(run_dir.rejects_path),
        "candidates": len(scored),
        "generation_errors": sum(1 for s in scored if s.error),
        "unscorable": sum(1 for s in scored if s.score is None),
        "pairs": len(pairing.pairs),
        "prompts_with_pairs": len({p.prompt_id for p in pairing.pairs}),
        "prompts_without_pair": pairing.prompts_without_pair,
    }


def _start_log(run_dir: RunDir) -> logging.Handler:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    handler = logging.FileHandler(run_dir.root / "logs" / f"run-{stamp}.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)
