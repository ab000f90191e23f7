"""One run of a pipeline: read prompts -> generate -> score -> pair -> publish.

Work is keyed by content, so a rerun does only what changed and a killed run resumes:

- a prompt's samples by (prompt id, model fingerprint, generation settings, seed);
- a shard's scores by (its samples' shard key, the reward's fingerprint);
- the published dataset by the fingerprint of its rows ("nothing new" when it is unchanged).

Generation shards are scored as soon as they are written, so scoring (Ray tasks on CPUs) overlaps
with sampling (vLLM engines as Ray actors).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from prefgen.card import CardFacts, plot_scores, render_card, score_summary
from prefgen.config import ConfigError, PipelineConfig
from prefgen.faults import crash_point
from prefgen.generation.model_ref import ModelNotFoundError, check_model_path
from prefgen.hashing import content_hash
from prefgen.output import candidate_features, pair_features, rows_fingerprint, write_dataset
from prefgen.pairing import PairingResult, build_pairs
from prefgen.progress import StageTracker
from prefgen.records import Candidate, Prompt, RejectedInput, Scored
from prefgen.rewards import Reward, UnknownRewardError, build_reward
from prefgen.rundir import OutputNotWritableError, RunDir, write_json_atomic
from prefgen.sources.reader import PromptSet, check_source, read_prompts

log = logging.getLogger("prefgen")


class RunFailed(Exception):
    """The run could not finish; the message says why. Published versions are untouched."""


@dataclass
class RunSummary:
    """What a run did, for the CLI's table and for callers."""

    status: str  # "published" or "nothing_new"
    run_dir: Path
    version: str | None
    counts: dict[str, int]
    unpaired: dict[str, int]
    scores: dict[str, Any]
    seconds: float
    stage_work: dict[str, int] = field(default_factory=dict)  # shards computed (not reused) per stage


def preflight(config: PipelineConfig) -> Reward:
    """Every cheap check before heavy work; raises ConfigError listing all problems."""
    problems: list[str] = []
    if config.generate.backend == "vllm":
        problems += check_model_path(config.model.path)
    elif not Path(config.generate.replay_path).exists():
        problems.append(f"generate.replay_path: no such file: {config.generate.replay_path}")
    problems += check_source(config.prompts)
    reward = None
    try:
        reward = build_reward(config.reward.name, config.reward.params)
        problems += reward.check()
    except (UnknownRewardError, ValueError) as exc:
        problems.append(f"reward: {exc}")
    if reward is not None and not problems and (config.ray.address or os.environ.get("RAY_ADDRESS")):
        from prefgen.executors.node_check import check_cluster_paths

        problems += check_cluster_paths(config, reward)  # a cluster's nodes may not share storage
    try:
        RunDir(config.run_dir()).prepare()
    except OutputNotWritableError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("preflight", problems)
    return reward


class PipelineRun:
    """The stages of one run, sharing the run directory, the tracker and the status record."""

    def __init__(self, config: PipelineConfig, tracker: StageTracker | None = None):
        self.config = config
        self.tracker = tracker or StageTracker(quiet=True)
        self.run_dir = RunDir(config.run_dir())
        self.status: dict[str, Any] = {}
        # what this run computed rather than reused: shards per stage, prompts sampled
        self.stage_work = {"generate": 0, "score": 0, "prompts_sampled": 0}

    # --- entry point ----------------------------------------------------------------------
    def run(self, wait_seconds: float = 0) -> RunSummary:
        reward = preflight(self.config)
        started = time.monotonic()
        with self.run_dir.lock(wait_seconds):
            handler = self._start_log()
            try:
                self._set_status("state", "running")
                summary = self._run_locked(reward, started)
                self._set_status("state", "finished")
                return summary
            except BaseException as exc:
                self._set_status("state", "failed")
                self._set_status("last_error", f"{type(exc).__name__}: {exc}"[:1000])
                log.exception("run failed")
                raise
            finally:
                log.removeHandler(handler)
                handler.close()

    def _run_locked(self, reward: Reward, started: float) -> RunSummary:
        self.run_dir.remove_stale_staging()
        prompt_set = self._read_prompts(reward)
        reward.prepare()
        model_name, model_fp, generator = self._model()
        scored = self._generate_and_score(prompt_set.prompts, reward, model_fp, generator)
        pairing = build_pairs(prompt_set.train, [s for s in scored if s.split == "train"], self.config.pairing)
        self._set_stage("pair", total=len(prompt_set.train), done=len(prompt_set.train))
        counts = self._counts(prompt_set, scored, pairing)
        status, version = self._publish(prompt_set, scored, pairing, reward, model_name, model_fp, counts)
        log.info("run %s: %s %s", self.config.name, status, version or "")
        return RunSummary(
            status=status,
            run_dir=self.run_dir.root,
            version=version,
            counts=counts,
            unpaired=dict(pairing.unpaired),
            scores=score_summary(scored),
            seconds=time.monotonic() - started,
            stage_work=dict(self.stage_work),
        )

    # --- stages ---------------------------------------------------------------------------
    def _read_prompts(self, reward: Reward) -> PromptSet:
        prompt_set = read_prompts(self.config.prompts, reward.task_problem)
        lines = "".join(r.model_dump_json() + "\n" for r in prompt_set.rejected)
        tmp = self.run_dir.rejects_path.with_suffix(".tmp")
        tmp.write_text(lines, encoding="utf-8")
        tmp.replace(self.run_dir.rejects_path)
        log.info("prompts: %d read, %d rejected", len(prompt_set.prompts), len(prompt_set.rejected))
        if not prompt_set.prompts:
            raise RunFailed(
                f"prompts.source: no usable prompts in {self.config.prompts.source} "
                f"({len(prompt_set.rejected)} rejected; see {self.run_dir.rejects_path})"
            )
        return prompt_set

    def _model(self) -> tuple[str, str, "Generator"]:
        if self.config.generate.backend == "replay":
            from prefgen.generation.replay import replay_fingerprint

            path = self.config.generate.replay_path
            return path, replay_fingerprint(path), ReplayGenerator(self.config, self.run_dir)
        from prefgen.generation.model_ref import resolve_model

        try:
            ref = resolve_model(self.config.model.path)
        except ModelNotFoundError as exc:
            raise ConfigError("preflight", [str(exc)]) from None
        return self.config.model.path, ref.fingerprint, VLLMPoolGenerator(self.config, ref.path, ref.fingerprint)

    def _generation_key(self, model_fp: str) -> str:
        generate = self.config.generate.model_dump(exclude={"shard_size", "backend", "replay_path"})
        model = self.config.model.model_dump(include={"max_model_len", "chat_template"})
        return content_hash([model_fp, generate, model])

    def _generate_and_score(
        self, prompts: list[Prompt], reward: Reward, model_fp: str, generator: "Generator"
    ) -> list[Scored]:
        from prefgen.executors.ray_runtime import ensure_ray
        from prefgen.executors.scoring import ScoringQueue

        base = self._generation_key(model_fp)
        prompt_keys = {p.id: content_hash([base, p.id])[:24] for p in prompts}
        done = self._existing_prompt_shards()
        pending = [p for p in prompts if prompt_keys[p.id] not in done]
        # shard -> keys of this run's prompts in it; a shard scored for a subset of its prompts
        # gets a different score key from one scored whole, so neither is mistaken for the other
        members: dict[str, list[str]] = {}
        for p in prompts:
            if prompt_keys[p.id] in done:
                members.setdefault(done[prompt_keys[p.id]], []).append(prompt_keys[p.id])
        shards = set(members)
        reward_fp = reward.fingerprint()
        by_id = {p.id: p for p in prompts}
        queue = None  # Ray starts only when there is work: a no-op rerun stays fast

        def ensure_queue() -> "ScoringQueue":
            nonlocal queue
            if queue is None:
                ensure_ray(self.config.ray)
                # the validated params (paths made absolute), not the raw YAML: workers rebuild the reward
                queue = ScoringQueue(self.config.reward.name, reward.params.model_dump(mode="json"))
            return queue

        def score_key(shard: str) -> str:
            return content_hash([shard, reward_fp, sorted(members[shard])])[:24]

        def submit(shard: str, rows: list[dict]) -> None:
            prompt_rows = [by_id[pid].to_row() for pid in {r["prompt_id"] for r in rows} if pid in by_id]
            ensure_queue().submit(shard, prompt_rows, [_candidate_row(r) for r in rows if r["prompt_id"] in by_id])

        def collect(wait: bool) -> None:
            if queue is None:
                return
            for shard, rows in queue.finished(wait=wait):
                self.run_dir.write_shard("score", score_key(shard), rows)
                self.stage_work["score"] += 1
                score_bar.advance(1)
                self._bump_stage("score", 1, None)
                crash_point("score_shard")

        with self.tracker.live():
            unscored = [s for s in sorted(shards) if not self.run_dir.has_shard("score", score_key(s))]
            chunks = _chunks(pending, self.config.generate.shard_size)
            gen_bar = self.tracker.stage("generate", total=len(prompts), done=len(prompts) - len(pending))
            score_bar = self.tracker.stage("score", total=len(shards) + len(chunks), done=len(shards) - len(unscored))
            self._set_stage("generate", total=len(prompts), done=len(prompts) - len(pending))
            self._set_stage("score", total=len(shards) + len(chunks), done=len(shards) - len(unscored))
            for shard in unscored:
                submit(shard, self.run_dir.read_shard("generate", shard))
            for chunk, candidates in generator.generate(chunks):
                rows = [{**c.to_row(), "prompt_key": prompt_keys[c.prompt_id]} for c in candidates]
                shard = content_hash(sorted(prompt_keys[p.id] for p in chunk))[:24]
                members[shard] = [prompt_keys[p.id] for p in chunk]
                self.run_dir.write_shard("generate", shard, rows)
                self.stage_work["generate"] += 1
                self.stage_work["prompts_sampled"] += len(chunk)
                shards.add(shard)
                gen_bar.advance(len(chunk))
                self._bump_stage("generate", len(chunk), _first_error(candidates))
                crash_point("generate_shard")
                submit(shard, rows)
                collect(wait=False)
            collect(wait=True)
        self._set_stage("score", total=len(shards), done=len(shards))
        return self._load_scored(prompts, [score_key(s) for s in sorted(shards)])

    def _existing_prompt_shards(self) -> dict[str, str]:
        """prompt key -> generation shard holding its samples (from shards already on disk)."""
        found = {}
        for shard in self.run_dir.shard_keys("generate"):
            for row in self.run_dir.read_shard("generate", shard, columns=["prompt_key"]):
                found[row["prompt_key"]] = shard
        return found

    def _load_scored(self, prompts: list[Prompt], score_keys: list[str]) -> list[Scored]:
        """This run's scored samples, in prompt order, each carrying its prompt's split."""
        order = {p.id: (i, p.split) for i, p in enumerate(prompts)}
        scored = []
        for key in score_keys:
            for row in self.run_dir.read_shard("score", key):
                if row["prompt_id"] in order:
                    row["split"] = order[row["prompt_id"]][1]
                    scored.append(Scored.from_row(row))
        scored.sort(key=lambda s: (order[s.prompt_id][0], s.sample_index))
        return scored

    def _counts(self, prompt_set: PromptSet, scored: list[Scored], pairing: PairingResult) -> dict[str, int]:
        return {
            "prompts": len(prompt_set.prompts),
            "prompts_train": len(prompt_set.train),
            "prompts_heldout": len(prompt_set.heldout),
            "rejected_inputs": _count_lines(self.run_dir.rejects_path),
            "candidates": len(scored),
            "generation_errors": sum(1 for s in scored if s.error),
            "unscorable": sum(1 for s in scored if s.score is None),
            "pairs": len(pairing.pairs),
            "prompts_with_pairs": len({p.prompt_id for p in pairing.pairs}),
            "prompts_without_pair": pairing.prompts_without_pair,
        }

    # --- publishing -----------------------------------------------------------------------
    def _publish(self, prompt_set, scored, pairing, reward, model_name, model_fp, counts) -> tuple[str, str | None]:
        pair_rows = [p.to_row() for p in pairing.pairs]
        candidate_rows = [s.to_row() for s in scored]
        fingerprint = content_hash([rows_fingerprint(pair_rows), rows_fingerprint(candidate_rows)])[:16]
        previous = self.run_dir.latest_version()
        for version in reversed(self.run_dir.version_dirs()):
            if _read_version(version).get("fingerprint") == fingerprint:
                if previous == version.resolve():
                    self._set_stage("publish", total=1, done=1)
                    return "nothing_new", version.name
                self.run_dir.point_latest(version)  # a killed run had written it but not pointed to it
                return "published", version.name
        name = self.run_dir.next_version_name()
        staging = self.run_dir.new_staging_dir()
        try:
            chat = bool(prompt_set.prompts) and prompt_set.prompts[0].is_chat
            write_dataset(pair_rows, staging / "pairs", pair_features(chat))
            write_dataset(candidate_rows, staging / "candidates", candidate_features())
            prompts_by_id = {p.id: p for p in prompt_set.prompts}
            for extra_name, rows in reward.extra_datasets(prompts_by_id, scored).items():
                write_dataset(rows, staging / extra_name)
            changes = _changes(previous, pair_rows, candidate_rows)
            facts = CardFacts(
                name=self.config.name,
                version=name,
                created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                config=self.config.model_dump(mode="json"),
                config_hash=content_hash(self.config.model_dump(mode="json"))[:16],
                model=model_name,
                model_fingerprint=model_fp,
                reward=self.config.reward.name,
                reward_fingerprint=reward.fingerprint()[:16],
                counts=counts,
                unpaired=dict(pairing.unpaired),
                fingerprint=fingerprint,
                changes=changes,
                reward_section=reward.describe(scored),
            )
            crash_point("publish_write")
            plot_scores(scored, pairing.pairs, staging / "score_distribution.png")
            (staging / "README.md").write_text(render_card(facts, scored, pairing.pairs), encoding="utf-8")
            write_json_atomic(
                staging / "version.json",
                {k: getattr(facts, k) for k in ("version", "created", "fingerprint", "config_hash", "counts", "changes")},
            )
            self.run_dir.commit_version(staging, name)
        except OSError as exc:
            raise OutputNotWritableError(f"output.dir: publishing failed, previous version kept: {exc}") from exc
        finally:
            if staging.exists():
                import shutil

                shutil.rmtree(staging, ignore_errors=True)
        self.run_dir.prune_versions(self.config.output.keep_versions)
        self._set_stage("publish", total=1, done=1)
        return "published", name

    # --- status and logs ------------------------------------------------------------------
    def _start_log(self) -> logging.Handler:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        handler = logging.FileHandler(self.run_dir.root / "logs" / f"run-{stamp}.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        self.status = {"pipeline": self.config.name, "stages": {}, "started": datetime.now().isoformat()}
        return handler

    def _set_status(self, key: str, value: Any) -> None:
        self.status[key] = value
        self.status["updated"] = datetime.now().isoformat(timespec="seconds")
        self.run_dir.write_status(self.status)

    def _set_stage(self, stage: str, total: int, done: int) -> None:
        entry = self.status.setdefault("stages", {}).setdefault(stage, {"failed": 0, "last_error": None})
        entry.update(total=total, done=done)
        self._set_status("stages", self.status["stages"])

    def _bump_stage(self, stage: str, done: int, error: str | None) -> None:
        entry = self.status["stages"][stage]
        entry["done"] += done
        if error:
            entry["failed"] += 1
            entry["last_error"] = error
        self._set_status("stages", self.status["stages"])


# --- generators ---------------------------------------------------------------------------
class Generator:
    """Produces the candidates of prompt shards, yielding (shard prompts, candidates)."""

    def generate(self, chunks: list[list[Prompt]]) -> Iterator[tuple[list[Prompt], list[Candidate]]]:
        raise NotImplementedError


class VLLMPoolGenerator(Generator):
    """Samples with the pool of vLLM engine actors; engines start only if there is work."""

    def __init__(self, config: PipelineConfig, model_path: str, fingerprint: str):
        self.config, self.model_path, self.fingerprint = config, model_path, fingerprint

    def generate(self, chunks):
        if not chunks:
            return
        from prefgen.executors.engine_pool import get_pool
        from prefgen.executors.ray_runtime import cluster_has_gpus, ensure_ray
        from prefgen.generation.candidates import to_candidates
        from prefgen.generation.requests import build_requests

        ensure_ray(self.config.ray)
        pool = get_pool(self.model_path, self.fingerprint, self.config.model, cluster_has_gpus())
        batches = [build_requests(chunk, self.config.generate) for chunk in chunks]
        for index, results in pool.map_unordered(batches):
            candidates = [c for req, res in zip(batches[index], results) for c in to_candidates(req, res, self.fingerprint)]
            yield chunks[index], candidates


class ReplayGenerator(Generator):
    """Candidates read from ``generate.replay_path``; rows matching no prompt are rejected."""

    def __init__(self, config: PipelineConfig, run_dir: RunDir):
        self.config, self.run_dir = config, run_dir

    def generate(self, chunks):
        if not chunks:
            return
        from prefgen.generation.replay import read_replay

        prompts = [p for chunk in chunks for p in chunk]
        grouped, rejected = read_replay(self.config.generate.replay_path, prompts)
        _append_rejects(self.run_dir, rejected)
        for chunk in chunks:
            yield chunk, [c for p in chunk for c in grouped.get(p.id, [])]


# --- helpers ------------------------------------------------------------------------------
def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _candidate_row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "prompt_key"}


def _first_error(candidates: list[Candidate]) -> str | None:
    return next((c.error for c in candidates if c.error), None)


def _append_rejects(run_dir: RunDir, rejected: list[RejectedInput]) -> None:
    if rejected:
        with open(run_dir.rejects_path, "a", encoding="utf-8") as handle:
            handle.writelines(r.model_dump_json() + "\n" for r in rejected)


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def _read_version(version: Path) -> dict[str, Any]:
    import json

    path = version / "version.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _changes(previous: Path | None, pair_rows: list[dict], candidate_rows: list[dict]) -> dict[str, Any]:
    """Rows added and removed relative to the previous version.

    Pairs are keyed by their two candidate ids, candidates by id and score (a rescored candidate
    counts as removed and added).
    """
    new = {
        "pairs": {(r["chosen_id"], r["rejected_id"]) for r in pair_rows},
        "candidates": {(r["id"], r["score"]) for r in candidate_rows},
    }
    if previous is None:
        changes: dict[str, Any] = {"previous_version": None}
        for name, keys in new.items():
            changes.update({f"{name}_added": len(keys), f"{name}_removed": 0})
        return changes
    from datasets import load_from_disk

    old = {
        "pairs": {
            (r["chosen_id"], r["rejected_id"])
            for r in load_from_disk(str(previous / "pairs")).select_columns(["chosen_id", "rejected_id"]).to_list()
        },
        "candidates": {
            (r["id"], r["score"])
            for r in load_from_disk(str(previous / "candidates")).select_columns(["id", "score"]).to_list()
        },
    }
    changes = {"previous_version": previous.name}
    for name in new:
        changes[f"{name}_added"] = len(new[name] - old[name])
        changes[f"{name}_removed"] = len(old[name] - new[name])
    return changes
