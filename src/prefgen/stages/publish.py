"""Publish stage: a new dataset version, written to a staging directory and swapped in at once.

The version's fingerprint is that of its rows: a rerun that changed nothing publishes nothing,
and a version written by a killed run (but not yet pointed to) is pointed to, not rewritten.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prefgen.card import CardFacts, plot_scores, render_card
from prefgen.config import PipelineConfig
from prefgen.faults import crash_point
from prefgen.generation.strategy import ModelIdentity
from prefgen.hashing import content_hash
from prefgen.output import candidate_features, pair_features, rows_fingerprint, write_dataset
from prefgen.pair_quality import pair_quality
from prefgen.pairing import PairingResult
from prefgen.records import Scored
from prefgen.rewards import Reward
from prefgen.rundir import OutputNotWritableError, RunDir, write_json_atomic
from prefgen.sources.reader import PromptSet
from prefgen.stages.target import TargetOutcome, render_target


@dataclass
class Published:
    status: str  # "published" or "nothing_new"
    version: str
    fingerprint: str


@dataclass
class PublishInput:
    """Everything a version is made of."""

    prompt_set: PromptSet
    scored: list[Scored]
    pairing: PairingResult
    reward: Reward
    model: ModelIdentity
    counts: dict[str, int]
    target: TargetOutcome | None = None  # with target_pairs


def publish_stage(config: PipelineConfig, run_dir: RunDir, made: PublishInput) -> Published:
    """Publish ``made`` as a new version unless an existing version has the same rows."""
    pair_rows = [p.to_row() for p in made.pairing.pairs]
    candidate_rows = [s.to_row() for s in made.scored]
    fingerprint = content_hash([rows_fingerprint(pair_rows), rows_fingerprint(candidate_rows)])[:16]
    previous = run_dir.latest_version()
    for version in reversed(run_dir.version_dirs()):
        if _read_version(version).get("fingerprint") == fingerprint:
            if previous == version.resolve():
                return Published("nothing_new", version.name, fingerprint)
            run_dir.point_latest(version)  # a killed run had written it but not pointed to it
            return Published("published", version.name, fingerprint)
    name = run_dir.next_version_name()
    staging = run_dir.new_staging_dir()
    try:
        _write_version(config, staging, name, made, pair_rows, candidate_rows, fingerprint, previous)
        run_dir.commit_version(staging, name)
    except OSError as exc:
        raise OutputNotWritableError(f"output.dir: publishing failed, previous version kept: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    run_dir.prune_versions(config.output.keep_versions)
    return Published("published", name, fingerprint)


def _write_version(config, staging: Path, name: str, made: PublishInput, pair_rows, candidate_rows, fingerprint, previous):
    chat = bool(made.prompt_set.prompts) and made.prompt_set.prompts[0].is_chat
    write_dataset(pair_rows, staging / "pairs", pair_features(chat))
    write_dataset(candidate_rows, staging / "candidates", candidate_features())
    prompts_by_id = {p.id: p for p in made.prompt_set.prompts}
    for extra_name, rows in made.reward.extra_datasets(prompts_by_id, made.scored).items():
        write_dataset(rows, staging / extra_name)
    facts = _card_facts(config, name, made, fingerprint, _changes(previous, pair_rows, candidate_rows))
    crash_point("publish_write")
    plot_scores(made.scored, made.pairing.pairs, staging / "score_distribution.png")
    (staging / "README.md").write_text(render_card(facts, made.scored, made.pairing.pairs), encoding="utf-8")
    record = {k: getattr(facts, k) for k in ("version", "created", "fingerprint", "config_hash", "counts", "changes", "pair_quality")}
    figures = made.reward.figures(made.scored)
    if figures:  # a reward's own figures (a judge's flip and failure rates), as its card section shows them
        record["reward_figures"] = figures
    if made.target is not None:
        record["target_pairs"] = {**made.target.as_dict(), "message": made.target.message()}
    write_json_atomic(staging / "version.json", record)


def _card_facts(config: PipelineConfig, name: str, made: PublishInput, fingerprint: str, changes) -> CardFacts:
    return CardFacts(
        name=config.name,
        version=name,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        config=config.card_dump(),
        config_hash=content_hash(config.card_dump())[:16],
        model=made.model.name,
        model_fingerprint=made.model.fingerprint,
        reward=config.reward.name,
        reward_fingerprint=made.reward.fingerprint()[:16],
        counts=made.counts,
        unpaired=dict(made.pairing.unpaired),
        fingerprint=fingerprint,
        changes=changes,
        reward_section=made.reward.describe(made.scored),
        pair_quality=pair_quality(
            made.pairing.pairs, [s for s in made.scored if s.split == "train"], config.output.bias_warnings
        ),
        target_section=render_target(made.target) if made.target is not None else "",
    )


def _read_version(version: Path) -> dict[str, Any]:
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
    old = _previous_keys(previous) if previous is not None else {name: set() for name in new}
    changes: dict[str, Any] = {"previous_version": previous.name if previous is not None else None}
    for name in new:
        changes[f"{name}_added"] = len(new[name] - old[name])
        changes[f"{name}_removed"] = len(old[name] - new[name])
    return changes


def _previous_keys(previous: Path) -> dict[str, set]:
    from datasets import load_from_disk

    pairs = load_from_disk(str(previous / "pairs")).select_columns(["chosen_id", "rejected_id"]).to_list()
    candidates = load_from_disk(str(previous / "candidates")).select_columns(["id", "score"]).to_list()
    return {
        "pairs": {(r["chosen_id"], r["rejected_id"]) for r in pairs},
        "candidates": {(r["id"], r["score"]) for r in candidates},
    }
