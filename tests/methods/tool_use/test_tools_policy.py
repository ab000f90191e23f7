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


@pytest.mark.slow
def test_the_policy_calls_well_formed_but_is_right_only_partly():
    """Greedy accuracy by BFCL's checker (measured at commit: held-out 0.45 = 9 of 20, every easy
    one; 4 parse errors; train split 0.62).

    Held-out above 0.15: more than the one no-call request and two others, so the policy copies
    values into calls of the right shape; below 0.65: room for a round to gain ten points. The
    train split (requests it was taught) below 0.85: the curriculum stops before the policy has
    learnt even those, hard ones above all, so the search finds deficiencies on train prompts too.
    """
    import json

    from prefgen.demo.training import METADATA_FILE
    from prefgen.methods.tool_use.demo_policy import evaluate_policy, heldout_rows, tools_policy_dir

    model_dir = tools_policy_dir()
    heldout = evaluate_policy(model_dir, heldout_rows())
    assert 0.15 < heldout["accuracy"] < 0.65, heldout
    assert heldout["errors"].get("parse_error", 0) <= 6, heldout  # calls are mostly well-formed
    assert heldout["by_difficulty"]["easy"] >= 0.6, heldout  # it copies values it never saw
    train = evaluate_policy(model_dir, [r for r in load_rows() if r["split"] == "train"])
    assert 0.35 < train["accuracy"] < 0.85, train
    assert train["by_difficulty"]["hard"] < train["by_difficulty"]["easy"], train  # easy to hard shows
    recorded = json.loads((model_dir / METADATA_FILE).read_text())["heldout_greedy"]
    assert recorded["accuracy"] == heldout["accuracy"]  # greedy decoding is deterministic
