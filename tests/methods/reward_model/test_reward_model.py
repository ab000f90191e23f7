"""The reward model: conversations rendered with the model's chat template, one engine call per
shard, unreadable answers null with the reason; and (slow) the real vLLM pooling path on a small
sequence classifier, whose scores must equal the classifier's own logits from transformers."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from prefgen.executors.engine_scoring import EngineHandle
from prefgen.executors.local_runtime import LocalEngines
from prefgen.methods.reward_model.reward import RewardModelReward, conversation
from prefgen.records import Candidate, Message, Prompt
from prefgen.registry import rewards

TEXTS = ["a good answer to the question", "a bad answer", "the question asks for an answer"] * 10


@pytest.fixture(autouse=True)
def reward_model_registered(monkeypatch):
    monkeypatch.setitem(rewards.core, "reward_model", "prefgen.methods.reward_model.reward:RewardModelReward")


def items(prompt: str | list, answers: list[str]):
    p = Prompt(id=Prompt.make_id(prompt, {}), prompt=prompt)
    return [(p, Candidate(id=f"c{i}", prompt_id=p.id, sample_index=i, text=a)) for i, a in enumerate(answers)]


class FakeClassifier:
    """Stands in for the engine: its "logit" is the sequence length, so tests can check the input."""

    def __init__(self, tokenizer, max_model_len=64):
        self.tokenizer, self.max_model_len = tokenizer, max_model_len
        self.calls: list[list[list[int]]] = []
        self.llm = self

    def generate(self, job):
        return job.run_on_engine(self)

    def classify(self, prompts, pooling_params=None, use_tqdm=False):
        self.calls.append([p["prompt_token_ids"] for p in prompts])
        return [SimpleNamespace(outputs=SimpleNamespace(probs=[float(len(p["prompt_token_ids"]))])) for p in prompts]


@pytest.fixture(scope="module")
def tokenizer():
    from prefgen.demo.tiny_model import train_tokenizer

    return train_tokenizer(TEXTS, vocab_size=300)


def test_the_conversation_is_the_prompt_then_the_answer():
    chat = [Message(role="system", content="be brief"), Message(role="user", content="hi")]
    (p, c), = items(chat, ["hello"])
    assert conversation(p, c) == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                                  {"role": "assistant", "content": "hello"}]
    (p, c), = items("hi", ["hello"])
    assert conversation(p, c) == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


def test_a_shard_is_one_engine_call_rendered_with_the_chat_template(tokenizer):
    engine = FakeClassifier(tokenizer)
    reward = RewardModelReward(RewardModelReward.Params(model="some/reward-model"))
    reward.attach_engines(EngineHandle(LocalEngines(engine)))
    batch = items("the question", ["a good answer", "a bad answer " * 30, "an answer"])
    results = reward.score_safely(batch)
    assert len(engine.calls) == 1 and len(engine.calls[0]) == 2  # the too-long answer never reached the model
    expected = tokenizer.encode(tokenizer.apply_chat_template(conversation(*batch[0]), tokenize=False),
                                add_special_tokens=False)
    assert engine.calls[0][0] == expected and results[0].score == float(len(expected))
    assert results[1].score is None and results[1].reason.startswith("reward_model: too_long:")
    assert results[2].score is not None


def test_a_missing_output_or_engine_is_null_with_its_reason(tokenizer):
    reward = RewardModelReward(RewardModelReward.Params(model="some/reward-model", label=3))
    batch = items("q", ["a"])
    assert reward.score_safely(batch)[0].reason.startswith("reward_error: RuntimeError: the reward model has no engine")
    reward.attach_engines(EngineHandle(LocalEngines(FakeClassifier(tokenizer))))
    assert reward.score_safely(batch)[0].reason == "reward_model: the model has 1 outputs, label 3 asked"


def test_its_engines_run_the_pooling_runner():
    model = RewardModelReward(RewardModelReward.Params(model="some/rm", engine={"extra": {"dtype": "x"}})).engine_model()
    assert model.engine.extra == {"dtype": "x", "runner": "pooling"} and model.path == "some/rm"


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, tokenizer):
    """A tiny LlamaForSequenceClassification (one label, head_dim 64) saved with its tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    out = tmp_path_factory.mktemp("classifier")
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256, num_labels=1,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = LlamaForSequenceClassification(config)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out, model


@pytest.mark.slow
def test_real_pooling_path_scores_are_the_classifiers_logits(tmp_path, classifier, tokenizer):
    import torch
    from datasets import load_from_disk

    from conftest import pipeline_dict, write_jsonl
    from prefgen.config import PipelineConfig
    from prefgen.executors.local_runtime import LocalRuntime
    from prefgen.pipeline import PipelineRun

    directory, model = classifier
    answers = {"the question": ["a good answer", "a bad answer"], "another question": ["an answer", "the answer"]}
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": p} for p in answers])
    replay = write_jsonl(tmp_path / "c.jsonl", [{"prompt": p, "text": t} for p, ts in answers.items() for t in ts])
    config = pipeline_dict(tmp_path, "unused", source, runtime="local",
                           generate={"strategy": "replay", "replay_path": str(replay), "shard_size": 1},
                           pairing={"strategy": "best_worst", "min_margin": 0.0})
    config["reward"] = {"name": "reward_model", "model": str(directory), "max_model_len": 128,
                        "engine": {"gpu_memory_utilization": 0.15}}  # a small KV cache on a shared machine
    runtime = LocalRuntime()
    summary = PipelineRun(PipelineConfig.model_validate(config), runtime=runtime).run()
    scored = load_from_disk(str(summary.run_dir / "latest" / "candidates")).to_list()
    assert len(scored) == 4 and summary.counts["pairs"] == 2
    for row in scored:
        prompt = next(p for p, ts in answers.items() if row["text"] in ts)
        chat = [{"role": "user", "content": prompt}, {"role": "assistant", "content": row["text"]}]
        ids = tokenizer.encode(tokenizer.apply_chat_template(chat, tokenize=False), add_special_tokens=False)
        with torch.no_grad():
            logit = model(input_ids=torch.tensor([ids])).logits[0, 0].item()
        assert row["score"] == pytest.approx(logit, abs=1e-3)  # the raw logit, chat template applied
        assert json.loads(row["details"]) == {"reward_model": str(directory)}
    from prefgen.generation.model_ref import resolve_model

    assert runtime.live_engines(resolve_model(str(directory)).fingerprint) is None  # released when scoring ended
