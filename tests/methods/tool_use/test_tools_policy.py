"""The demo tool policy: what it is taught, in what order, and (slow) that it is right only partly."""

from __future__ import annotations

from dataclasses import replace

import pytest

from prefgen.generation.model_ref import check_model_path
from prefgen.methods.tool_use.demo_policy import (
    CURRICULUM,
    Example,
    ToolsPolicySettings,
    _encode,
    _repeated_run,
    is_held_out,
    stage_plan,
    taught_examples,
)
from prefgen.methods.tool_use.stdlib_tools import load_rows

SETTINGS = ToolsPolicySettings()
EXAMPLES = taught_examples(SETTINGS)


def test_no_held_out_request_is_taught_at_any_fraction_up_to_the_guard():
    taught = {e.prompt for e in EXAMPLES}
    for seed in range(SETTINGS.data_draws):
        for fraction in (0.1, SETTINGS.max_heldout_fraction):
            heldout = [r for r in load_rows(seed=seed, heldout_fraction=fraction) if r["split"] == "heldout"]
            assert heldout and not taught & {r["prompt"] for r in heldout}
    # and the default source's train split is taught in full (plus other draws' train requests)
    default_train = {r["prompt"] for r in load_rows() if r["split"] == "train"}
    assert default_train < taught
    assert not any(is_held_out(e.prompt.split("Request: ")[1].rsplit("\n", 1)[0], 0.2) for e in EXAMPLES)


def test_taught_answers_are_the_reference_calls_of_every_difficulty():
    assert {e.difficulty for e in EXAMPLES} == {d for stage in CURRICULUM for d in stage}
    assert len({e.prompt for e in EXAMPLES}) == len(EXAMPLES)
    for example in EXAMPLES[:50]:
        assert example.prompt.endswith("Calls:") and example.answer.startswith(" [")


def test_the_curriculum_runs_easy_to_hard_within_the_budget():
    steps = stage_plan(SETTINGS)
    assert len(steps) == len(CURRICULUM) and sum(steps) == SETTINGS.training.steps
    assert all(s > 0 for s in steps)
    odd = replace(SETTINGS, training=replace(SETTINGS.training, steps=101))
    assert sum(stage_plan(odd)) == 101
    with pytest.raises(ValueError, match="stage_shares"):
        stage_plan(replace(SETTINGS, stage_shares=(0.5, 0.5)))


class _CharTokenizer:
    eos_token_id = 0

    def encode(self, text, add_special_tokens=False):
        return [ord(c) for c in text]


def test_the_loss_covers_the_answer_and_the_end_of_sequence_only():
    example = Example("Calls:", " [f(a=1)]", "easy")
    ids, start = _encode(example, _CharTokenizer(), max_len=64)
    assert ids[start:] == [ord(c) for c in " [f(a=1)]"] + [0]
    # cut from the left when too long: the answer stays whole, the mask moves with it
    ids, start = _encode(example, _CharTokenizer(), max_len=12)
    assert len(ids) == 12 and ids[start:] == [ord(c) for c in " [f(a=1)]"] + [0]


def test_the_copy_friendly_tokenizer_writes_a_value_the_same_in_the_request_and_the_call():
    from prefgen.demo.tiny_model import train_tokenizer

    texts = [e.prompt + e.answer for e in EXAMPLES[:200]]
    request, call = "Copy the file data/river.py into tmp/.", " [shutil.copy(src='data/river.py', dst='tmp/')]"
    friendly = train_tokenizer(texts, 1024, copy_friendly=True)
    value = friendly.tokenize("data/river.py")
    for text in (request, call):
        tokens = friendly.tokenize(text)
        assert any(tokens[i : i + len(value)] == value for i in range(len(tokens))), tokens
        assert friendly.decode(friendly.encode(text)) == text  # nothing lost: spaces come back
    assert friendly.tokenize("x=1876") == ["x", "=", "1", "8", "7", "6"]
    # the GPT-2-style default glues the space to the value, so the two differ
    plain = train_tokenizer(texts, 1024)
    assert plain.tokenize(" data")[0] != plain.tokenize("data")[0]


def test_the_copy_warm_up_shows_a_random_run_twice_and_scores_the_second_showing():
    import random

    rng = random.Random(0)
    for _ in range(20):
        ids, start = _repeated_run(rng, vocab_size=50)
        half = len(ids) // 2
        assert ids[:half] == ids[half:] and start == half + 1  # the first repeated token cannot be known
        assert all(4 <= i < 50 for i in ids)  # no special token


def test_demo_tools_is_a_model_path():
    assert check_model_path("demo:tools") == []


def test_a_tiny_budget_trains_saves_and_is_reused(tmp_path, monkeypatch):
    """The training path end to end on a tiny budget: the model loads, carries its record, and a
    second call takes it from the cache. The trained policy's accuracy bars are checked by
    ``benchmarks/demo_policies.py`` (training the real one takes about 9 minutes)."""
    import json

    from transformers import AutoModelForCausalLM

    from prefgen.demo.training import METADATA_FILE, TrainingSettings
    from prefgen.methods.tool_use import demo_policy

    monkeypatch.setenv("PREFGEN_CACHE_DIR", str(tmp_path))
    tiny = ToolsPolicySettings(
        training=TrainingSettings(steps=3, batch_size=2, seq_len=96, vocab_size=400, hidden_size=64, num_heads=1,
                                  num_layers=1, intermediate_size=128, warmup_steps=1),
        data_draws=1, copy_warmup_steps=2,
    )
    path = demo_policy.tools_policy_dir(tiny, quiet=True)
    AutoModelForCausalLM.from_pretrained(path)
    record = json.loads((path / METADATA_FILE).read_text())
    assert record["settings"]["copy_warmup_steps"] == 2 and 0 <= record["heldout_greedy"]["accuracy"] <= 1
    monkeypatch.setattr(demo_policy, "_train", lambda *args: pytest.fail("retrained a cached policy"))
    assert demo_policy.tools_policy_dir(tiny, quiet=True) == path
