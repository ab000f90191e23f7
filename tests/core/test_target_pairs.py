"""target_pairs: exactly N pairs within a budget, re-sampling only the prompts left without a pair.

The pipeline runs for real on the local runtime with a test-only strategy that can sample again
(tests/resampling_toy.py): it makes a prompt's samples tie for as many rounds as the prompt's
``tied_rounds`` field says, so which round pairs which prompt is known in advance.
"""

import json
import os
import signal
from pathlib import Path

import pytest
from datasets import load_from_disk
from typer.testing import CliRunner

from cli_process import SRC, prefgen, published_fingerprint, write_config
from conftest import pipeline_dict, write_jsonl
from prefgen.cli import EXIT_NOTHING_NEW, EXIT_TARGET_NOT_REACHED, app
from prefgen.config import ConfigError, PairingConfig, TargetPairsConfig
from prefgen.generation.requests import build_requests, prompt_seed, round_seed
from prefgen.generation.sampling import SamplingParams
from prefgen.preflight import load_config
from prefgen.records import Prompt, Scored
from prefgen.sources.reader import PromptSet
from prefgen.stages.target import DROPPED_REASON, target_stage

TESTS = str(Path(__file__).resolve().parents[1])
TIED_ROUNDS = [0, 0, 1, 1, 2, 3]  # q0, q1 pair at once; q2, q3 in round 1; q4 in round 2; q5 in round 3


def toy_pipeline(tmp_path: Path, target, shard_size: int = 8, **sections) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"q{i}", "tied_rounds": t} for i, t in enumerate(TIED_ROUNDS)])
    config = pipeline_dict(tmp_path, "demo", source, runtime="local", prompts={"task_fields": ["tied_rounds"]}, **sections)
    config["generate"] = {"strategy": "resampling_toy:ToySampling", "n": 2, "shard_size": shard_size, "log_dir": str(tmp_path)}
    config["target_pairs"] = target
    return write_config(tmp_path / "pipeline.yaml", config)


def run(path: Path):
    return CliRunner().invoke(app, ["run", str(path), "--quiet"])


def sampled(tmp_path: Path) -> list[tuple[int, str]]:
    log = tmp_path / "sampled.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [(r["round"], r["prompt"]) for r in rows]


def latest(tmp_path: Path):
    version = tmp_path / "out" / "test" / "latest"
    pairs = load_from_disk(str(version / "pairs")).to_list()
    return pairs, json.loads((version / "version.json").read_text()), (version / "README.md").read_text()


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.syspath_prepend(TESTS)


# --- through the CLI -----------------------------------------------------------------------
def test_target_reached_by_sampling_only_unpaired_prompts_again(tmp_path, toy):
    path = toy_pipeline(tmp_path, {"pairs": 5, "max_rounds": 3})
    result = run(path)
    assert result.exit_code == 0, result.output
    assert sampled(tmp_path) == [(0, f"q{i}") for i in range(6)] + [(1, "q2"), (1, "q3"), (1, "q4"), (1, "q5")] + [
        (2, "q4"), (2, "q5")
    ]
    pairs, version, card = latest(tmp_path)
    assert len(pairs) == 5 and sorted(p["prompt"] for p in pairs) == ["q0", "q1", "q2", "q3", "q4"]
    # pooled: q2's round-0 samples tied, its pair takes a round-1 sample against a round-0 one
    q2 = next(p for p in pairs if p["prompt"] == "q2")
    assert q2["rejected"] == "tie" and q2["chosen"].startswith("x")
    assert version["target_pairs"] | {"message": None} == {
        "pairs": 5, "made": 5, "reached": True, "rounds": 2, "samples": 12, "prompts_resampled": 6,
        "dropped": 0, "stopped_by": "reached", "message": None,
    }
    assert version["counts"]["candidates"] == 24 and version["counts"]["pairs"] == 5
    assert "target reached: 5 of 5 pairs" in card and "| re-sampling rounds | 2 |" in card
    assert "| re-sampling samples | 12 |" in card

    again = run(path)  # a rerun reuses every round's samples: nothing is sampled, nothing new
    assert again.exit_code == EXIT_NOTHING_NEW, again.output
    assert len(sampled(tmp_path)) == 12
    assert latest(tmp_path)[1]["fingerprint"] == version["fingerprint"]


def test_target_out_of_budget_publishes_what_was_made_and_says_so(tmp_path, toy):
    path = toy_pipeline(tmp_path, {"pairs": 6, "max_rounds": 2})
    result = run(path)
    assert result.exit_code == EXIT_TARGET_NOT_REACHED, result.output
    assert "target not reached: 5 of 6 pairs (stopped by max_rounds" in result.output
    pairs, version, card = latest(tmp_path)
    assert len(pairs) == 5
    assert version["target_pairs"]["reached"] is False and version["target_pairs"]["stopped_by"] == "max_rounds"
    assert version["target_pairs"]["message"] == "target not reached: 5 of 6 pairs (stopped by max_rounds)"
    assert "**target not reached: 5 of 6 pairs (stopped by max_rounds).**" in card
    assert run(path).exit_code == EXIT_TARGET_NOT_REACHED  # nothing new, but the latest version is still short


def test_the_printed_summary_shows_the_target(tmp_path, toy):
    result = CliRunner().invoke(app, ["run", str(toy_pipeline(tmp_path, {"pairs": 6, "max_samples": 4}))])
    assert result.exit_code == EXIT_TARGET_NOT_REACHED
    assert "target pairs" in result.output and "4 of 6 (not reached)" in result.output
    assert "stopped by max_samples" in result.output


def test_more_pairs_than_the_target_publishes_exactly_the_first_n(tmp_path, toy):
    result = run(toy_pipeline(tmp_path, {"pairs": 1, "max_rounds": 1}))
    assert result.exit_code == 0, result.output
    pairs, version, card = latest(tmp_path)
    assert [p["prompt"] for p in pairs] == ["q0"]
    assert version["target_pairs"]["dropped"] == 1 and version["target_pairs"]["rounds"] == 0
    assert "| pairs made beyond the target, dropped | 1 |" in card and DROPPED_REASON in card
    assert sampled(tmp_path) == [(0, f"q{i}") for i in range(6)]


def test_a_run_killed_while_resampling_resumes_to_the_same_dataset(tmp_path):
    env = {"PYTHONPATH": os.pathsep.join([SRC, TESTS])}
    reference = toy_pipeline(tmp_path / "reference", {"pairs": 5, "max_rounds": 3}, shard_size=1)
    code, output, _ = prefgen(["run", str(reference), "--quiet"], env)
    assert code == 0, output

    path = toy_pipeline(tmp_path / "killed", {"pairs": 5, "max_rounds": 3}, shard_size=1)
    # shards 1-6 are the first sampling (one prompt each); the 8th is q3's in re-sampling round 1
    code, output, _ = prefgen(["run", str(path), "--quiet"], {**env, "PREFGEN_CRASH_AT": "generate_shard:8"})
    assert code == -signal.SIGKILL, output
    assert not (tmp_path / "killed" / "out" / "test" / "latest").exists()
    code, output, _ = prefgen(["run", str(path), "--quiet"], env)
    assert code == 0, output
    run_dir = tmp_path / "killed" / "out" / "test"
    assert published_fingerprint(run_dir) == published_fingerprint(tmp_path / "reference" / "out" / "test")
    assert sampled(tmp_path / "killed") == sampled(tmp_path / "reference")  # nothing sampled twice


def test_run_help_documents_exit_code_5():
    result = CliRunner().invoke(app, ["run", "--help"])
    text = " ".join(result.output.replace("│", " ").split())  # as rich wraps it, in one line
    assert "4 busy, 5 target_pairs not reached within its budget" in text


# --- config --------------------------------------------------------------------------------
def config_problems(tmp_path, target, **sections) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(toy_pipeline(tmp_path, target, **sections))
    return "\n".join(error.value.problems)


def test_target_pairs_needs_a_budget_and_a_positive_count(tmp_path, toy):
    assert "target_pairs: Value error, a budget is required" in config_problems(tmp_path, 10)
    problems = config_problems(tmp_path, {"pairs": 0, "max_rounds": 0})
    assert "target_pairs.pairs: Input should be greater than 0" in problems
    assert "target_pairs.max_rounds: Input should be greater than or equal to 1" in problems
    assert "target_pairs.max_sample: unknown key" in config_problems(tmp_path, {"pairs": 3, "max_sample": 5})
    assert "target_pairs: not supported with rounds > 0" in config_problems(tmp_path, {"pairs": 3, "max_rounds": 1}, rounds=1)


def test_target_pairs_with_a_strategy_that_cannot_sample_again_is_a_config_error(tmp_path):
    replay = write_jsonl(tmp_path / "c.jsonl", [{"prompt": "q0", "text": "a"}])
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "q0"}])
    config = pipeline_dict(tmp_path, "demo", source, generate={"strategy": "replay", "replay_path": str(replay)})
    config["target_pairs"] = {"pairs": 3, "max_rounds": 2}
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path / "p.yaml", config))
    assert "target_pairs: generate.strategy 'replay' cannot sample a prompt again" in str(error.value)


def test_without_target_pairs_the_published_config_is_unchanged(tmp_path, toy):
    config = load_config(toy_pipeline(tmp_path, {"pairs": 3, "max_rounds": 1}), ["target_pairs=null"])
    assert config.target_pairs is None and "target_pairs" not in config.card_dump()
    with_target = load_config(toy_pipeline(tmp_path, {"pairs": 3, "max_rounds": 1}))
    assert with_target.card_dump()["target_pairs"] == {"pairs": 3, "max_rounds": 1, "max_samples": None}


# --- seeds and the budget, as units ------------------------------------------------------------
def test_a_rounds_seeds_are_fresh_and_round_zero_keeps_todays_seeds():
    prompts = [Prompt(id=f"p{i}", prompt=f"q{i}") for i in range(3)]
    params = SamplingParams(n=4, seed=7)
    first = [r.sampling["seed"] for r in build_requests(prompts, params)]
    assert first == [prompt_seed(7, p.id) for p in prompts]
    rounds = [[r.sampling["seed"] for r in build_requests(prompts, params, k)] for k in (1, 2)]
    assert len(set(first + rounds[0] + rounds[1])) == 9
    assert [r.sampling["seed"] for r in build_requests(prompts[1:], params, 1)] == rounds[0][1:]  # not batch-dependent
    assert round_seed(7, "p0", 1) != round_seed(8, "p0", 1)


def scored(prompt_id: str, index: int, score: float) -> Scored:
    return Scored(id=f"{prompt_id}-{index}", prompt_id=prompt_id, sample_index=index, text=f"t{score}", model="m", reward="r",
                  score=score)


class FakeRounds:
    """Round k gives each prompt two samples; prompt i pairs from round ``pairs_at[i]`` on."""

    def __init__(self, pairs_at: list[int]):
        self.pairs_at, self.calls = pairs_at, []

    def first(self, prompts):
        return [s for p in prompts for s in self.samples(p, 0)]

    def samples(self, prompt, round):
        i = int(prompt.id[1:])
        high = 1.0 if round >= self.pairs_at[i] else 0.5
        return [scored(prompt.id, 2 * round, 0.5), scored(prompt.id, 2 * round + 1, high)]

    def __call__(self, round, prompts):
        self.calls.append((round, [p.id for p in prompts]))
        return [s for p in prompts for s in self.samples(p, round)]


def run_target(pairs_at, **target):
    prompt_set = PromptSet([Prompt(id=f"p{i}", prompt=f"q{i}") for i in range(len(pairs_at))])
    rounds = FakeRounds(pairs_at)
    result = target_stage(prompt_set, rounds.first(prompt_set.prompts), PairingConfig(min_margin=0.1),
                          TargetPairsConfig(**target), rounds, samples_per_prompt=2)
    return result, rounds.calls


def test_the_sample_budget_cuts_the_last_round_to_the_first_prompts_it_affords():
    result, calls = run_target([1, 1, 1, 1, 5], pairs=5, max_samples=10)
    assert calls == [(1, ["p0", "p1", "p2", "p3", "p4"])]  # 5 prompts x 2 samples = the budget
    assert result.outcome.stopped_by == "max_samples" and result.outcome.made == 4 and result.outcome.samples == 10

    result, calls = run_target([1, 1, 1, 2, 3], pairs=5, max_samples=13)
    assert calls == [(1, ["p0", "p1", "p2", "p3", "p4"]), (2, ["p3"])]  # 3 samples left: one prompt
    assert result.outcome.made == 4 and result.outcome.samples == 12


def test_every_prompt_paired_short_of_the_target_stops_at_once():
    result, calls = run_target([0, 0, 0], pairs=5, max_rounds=4)
    assert calls == [] and result.outcome.stopped_by == "no unpaired prompt left" and not result.outcome.reached


def test_pooled_samples_keep_prompt_and_sample_order():
    result, _ = run_target([0, 2, 1], pairs=3, max_rounds=3)
    assert result.outcome.reached and result.outcome.rounds == 2
    assert [(s.prompt_id, s.sample_index) for s in result.scored] == [
        ("p0", 0), ("p0", 1), ("p1", 0), ("p1", 1), ("p1", 2), ("p1", 3), ("p1", 4), ("p1", 5),
        ("p2", 0), ("p2", 1), ("p2", 2), ("p2", 3),
    ]
