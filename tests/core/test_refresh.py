"""Scheduled refresh: incremental reruns, resume after SIGKILL, atomic publishing, locking."""

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
import yaml
from datasets import load_from_disk
from typer.testing import CliRunner

from conftest import make_config, pipeline_dict, write_jsonl
from prefgen.cli import app
from prefgen.pipeline import PipelineRun
from prefgen.rundir import OutputNotWritableError, RunDir


def run_cli(config_dict, tmp_path, crash_at=None, extra_args=()):
    """`prefgen run` in a fresh process (its own session, so a crash leaves no strays behind)."""
    path = tmp_path / f"pipeline-{crash_at or 'full'}.yaml".replace(":", "-")
    path.write_text(yaml.safe_dump(config_dict))
    env = {**os.environ}
    env.pop("PREFGEN_CRASH_AT", None)
    if crash_at:
        env["PREFGEN_CRASH_AT"] = crash_at
    process = subprocess.Popen(
        [sys.executable, "-m", "prefgen.cli", "run", str(path), "--quiet", *extra_args],
        env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    output, _ = process.communicate(timeout=900)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # Ray's helpers share the group and outlive a SIGKILLed driver
    except ProcessLookupError:
        pass
    return process.returncode, output.decode(errors="replace")


def published(run_dir):
    latest = run_dir / "latest"
    return (
        load_from_disk(str(latest / "pairs")).to_list(),
        load_from_disk(str(latest / "candidates")).to_list(),
        json.loads((latest / "version.json").read_text()),
    )


def replay_setup(tmp_path, prompts=8, variant=0):
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"q{i}"} for i in range(prompts)])
    replay = write_jsonl(
        tmp_path / f"c{variant}.jsonl",
        [{"prompt": f"q{i}", "text": "x" * ((i * 7 + k * 13 + variant) % 50 + 1)} for i in range(prompts) for k in range(4)],
    )
    return source, replay


def replay_config(tmp_path, out, source, replay, **sections):
    return pipeline_dict(
        out, "demo", source, generate={"backend": "replay", "replay_path": str(replay), "shard_size": 2}, **sections
    )


# --- incremental ---------------------------------------------------------------------------
@pytest.mark.slow
def test_incremental_reruns_do_only_what_changed(tmp_path, tiny_model, ray_runtime):
    rows = [{"prompt": f"The fox number {i} runs over the"} for i in range(20)]
    source = write_jsonl(tmp_path / "p.jsonl", rows)
    base = dict(generate={"shard_size": 4})
    first = PipelineRun(make_config(tmp_path, tiny_model, source, **base)).run()
    assert first.stage_work["prompts_sampled"] == 20

    same = PipelineRun(make_config(tmp_path, tiny_model, source, **base)).run()
    assert same.status == "nothing_new" and same.stage_work == {"generate": 0, "score": 0, "prompts_sampled": 0}

    write_jsonl(source, rows + [{"prompt": f"A new question {i}"} for i in range(2)])
    grown = PipelineRun(make_config(tmp_path, tiny_model, source, **base)).run()
    assert grown.status == "published" and grown.stage_work["prompts_sampled"] == 2
    assert grown.counts["candidates"] == 22 * 4

    repaired = PipelineRun(make_config(tmp_path, tiny_model, source, pairing={"strategy": "all_pairs"}, **base)).run()
    assert repaired.status == "published"
    assert repaired.stage_work == {"generate": 0, "score": 0, "prompts_sampled": 0}
    assert repaired.counts["pairs"] > grown.counts["pairs"]

    rescored = PipelineRun(make_config(tmp_path, tiny_model, source, reward={"target_chars": 5}, **base)).run()
    assert rescored.stage_work["prompts_sampled"] == 0 and rescored.stage_work["score"] > 0

    other_model = tmp_path / "other-model"
    import shutil

    shutil.copytree(tiny_model, other_model)
    (other_model / "generation_config.json").write_text(json.dumps({"note": "a changed checkpoint"}))
    regenerated = PipelineRun(make_config(tmp_path, other_model, source, **base)).run()
    assert regenerated.stage_work["prompts_sampled"] == 22

    version = json.loads((regenerated.run_dir / "latest" / "version.json").read_text())
    assert version["changes"]["previous_version"] == "v0004"
    assert version["changes"]["candidates_removed"] == version["changes"]["candidates_added"] == 88


# --- resume after SIGKILL ------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("crash_at", ["generate_shard:2"])
def test_killed_sampling_run_resumes_to_the_same_dataset(tmp_path, tiny_model, ray_runtime, crash_at):
    # Killed mid-sampling on the real path (Ray, vLLM): the shards done are kept, the rest sampled.
    # (A kill before the first shard, at engine start, leaves nothing to resume: a plain rerun.)
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"The fox number {i} runs"} for i in range(12)])
    sections = dict(generate={"shard_size": 4, "n": 3, "max_tokens": 16})
    reference = PipelineRun(make_config(tmp_path / "reference", tiny_model, source, **sections)).run()

    config = pipeline_dict(tmp_path / "killed", tiny_model, source, **sections)
    code, output = run_cli(config, tmp_path, crash_at=crash_at)
    assert code == -signal.SIGKILL, output
    run_dir = RunDir(tmp_path / "killed" / "out" / "test")
    assert run_dir.latest_version() is None
    status = CliRunner().invoke(app, ["status", str(run_dir.root)])
    assert "interrupted" in status.output

    code, output = run_cli(config, tmp_path)
    assert code == 0, output
    pairs, candidates, version = published(run_dir.root)
    ref_pairs, ref_candidates, ref_version = published(reference.run_dir)
    assert candidates == ref_candidates and pairs == ref_pairs
    assert version["fingerprint"] == ref_version["fingerprint"]
    assert len({c["id"] for c in candidates}) == len(candidates) == 36


@pytest.mark.parametrize(
    "crash_at, runtime",
    [
        pytest.param("score_shard:1", "ray", marks=pytest.mark.slow),  # scoring on Ray tasks
        ("score_shard:1", "local"),
        ("publish_write", "local"),  # publishing is the driver's alone: the same on either runtime
        ("publish_commit", "local"),
    ],
)
def test_killed_scoring_or_publishing_resumes_to_the_same_dataset(tmp_path, crash_at, runtime):
    source, replay = replay_setup(tmp_path)
    reference = replay_config(tmp_path, tmp_path / "reference", source, replay, runtime=runtime)
    assert run_cli(reference, tmp_path)[0] == 0
    config = replay_config(tmp_path, tmp_path / "killed", source, replay, runtime=runtime)
    code, output = run_cli(config, tmp_path, crash_at=crash_at)
    assert code == -signal.SIGKILL, output
    run_dir = RunDir(tmp_path / "killed" / "out" / "test")
    assert run_dir.latest_version() is None  # readers never saw a half-written version

    code, output = run_cli(config, tmp_path)
    assert code == 0, output
    assert published(run_dir.root)[:2] == published(tmp_path / "reference" / "out" / "test")[:2]
    assert published(run_dir.root)[2]["fingerprint"] == published(tmp_path / "reference" / "out" / "test")[2]["fingerprint"]
    assert not list(run_dir.versions_dir.glob(".staging-*"))
    assert [p.name for p in run_dir.version_dirs()] == ["v0001"]
    assert run_cli(config, tmp_path)[0] == 3  # nothing new


# --- atomic publishing ---------------------------------------------------------------------
@pytest.mark.slow
def test_readers_see_the_old_or_the_new_version_never_a_mix(tmp_path, ray_runtime):
    source, replay_a = replay_setup(tmp_path, prompts=30, variant=0)
    _, replay_b = replay_setup(tmp_path, prompts=30, variant=5)
    configs = [make_config(tmp_path, "demo", source, generate={"backend": "replay", "replay_path": str(r)}) for r in (replay_a, replay_b)]
    PipelineRun(configs[0]).run()
    latest = tmp_path / "out" / "test" / "latest"
    versions = {tuple(load_from_disk(str(latest / "pairs"))["chosen_id"])}
    seen, errors, stop = [], [], threading.Event()

    def read_forever():
        while not stop.is_set():
            try:
                seen.append(tuple(load_from_disk(str(latest / "pairs"))["chosen_id"]))
            except Exception as exc:  # a reader must never fail mid-refresh
                errors.append(exc)

    reader = threading.Thread(target=read_forever)
    reader.start()
    try:
        for i in range(4):
            PipelineRun(configs[(i + 1) % 2]).run()
            versions.add(tuple(load_from_disk(str(latest / "pairs"))["chosen_id"]))
    finally:
        stop.set()
        reader.join()
    assert not errors
    assert len(versions) == 2 and seen and set(seen) <= versions


def test_versions_are_pruned_and_latest_kept(tmp_path):
    source, _ = replay_setup(tmp_path)
    for variant in range(4):
        _, replay = replay_setup(tmp_path, variant=variant)
        config = make_config(tmp_path, "demo", source, runtime="local", generate={"backend": "replay", "replay_path": str(replay)}, output={"keep_versions": 2})
        assert PipelineRun(config).run().status == "published"
    run_dir = RunDir(tmp_path / "out" / "test")
    assert [p.name for p in run_dir.version_dirs()] == ["v0003", "v0004"]
    assert run_dir.latest_version().name == "v0004"
    card = (run_dir.latest / "README.md").read_text()
    assert "v0004" in card and "previous_version | v0003" in card


def test_failed_publish_keeps_the_previous_version(tmp_path, monkeypatch):
    import errno

    import prefgen.stages.publish as publish_stage

    source, replay = replay_setup(tmp_path)
    config = make_config(tmp_path, "demo", source, runtime="local", generate={"backend": "replay", "replay_path": str(replay)})
    PipelineRun(config).run()
    before = published(tmp_path / "out" / "test")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish_stage, "write_dataset", disk_full)
    _, other = replay_setup(tmp_path, variant=3)
    changed = make_config(tmp_path, "demo", source, runtime="local", generate={"backend": "replay", "replay_path": str(other)})
    with pytest.raises(OutputNotWritableError, match="previous version kept"):
        PipelineRun(changed).run()
    assert published(tmp_path / "out" / "test") == before
    assert not list((tmp_path / "out" / "test" / "versions").glob(".staging-*"))
    assert RunDir(tmp_path / "out" / "test").read_status()["state"] == "failed"


def test_unwritable_output_is_a_config_error(tmp_path):
    source, replay = replay_setup(tmp_path)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the output directory should be")
    config = replay_config(tmp_path, tmp_path, source, replay, output={"dir": str(blocker)})
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert "output.dir: cannot write" in result.output


def test_a_second_refresh_of_the_same_output_exits_busy(tmp_path):
    source, replay = replay_setup(tmp_path)
    config = replay_config(tmp_path, tmp_path, source, replay)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(config))
    with RunDir(tmp_path / "out" / "test").lock():
        result = CliRunner().invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 4
    assert "is being refreshed by pid" in result.output


def test_a_shard_scored_for_some_of_its_prompts_is_rescored_for_all(tmp_path):
    source, replay = replay_setup(tmp_path, prompts=4)
    rows = [{"prompt": f"q{i}"} for i in range(4)]
    sections = dict(generate={"backend": "replay", "replay_path": str(replay), "shard_size": 4})
    PipelineRun(make_config(tmp_path, "demo", source, runtime="local", **sections)).run()
    # drop the score shards and rerun with half the prompts: their shard is rescored for those only
    for path in (tmp_path / "out" / "test" / "work" / "score").glob("*.parquet"):
        path.unlink()
    write_jsonl(source, rows[:2])
    half = PipelineRun(make_config(tmp_path, "demo", source, runtime="local", **sections)).run()
    assert half.counts["candidates"] == 8
    write_jsonl(source, rows)
    whole = PipelineRun(make_config(tmp_path, "demo", source, runtime="local", **sections)).run()
    assert whole.counts["candidates"] == 16 and whole.counts["unscorable"] == 0
