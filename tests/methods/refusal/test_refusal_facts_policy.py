"""The knowledge-gap demo policy: what it is taught, and (slow) that it knows only that."""

from __future__ import annotations

from prefgen.methods.refusal.demo_policy import FactsPolicySettings, seen_module, taught_rows, training_texts
from prefgen.methods.refusal.stdlib_facts import load_rows

ROWS = load_rows()


def test_seen_modules_are_a_fixed_share():
    modules = sorted({r["module"] for r in ROWS if r["module"]})
    seen = [m for m in modules if seen_module(m)]
    assert 0.3 < len(seen) / len(modules) < 0.7
    assert [m for m in modules if seen_module(m, 0.5)] == seen
    assert not seen_module("")


def test_the_policy_is_taught_seen_facts_of_both_splits_only():
    taught = taught_rows(ROWS)
    assert {r["split"] for r in taught} == {"train", "heldout"}
    assert all(seen_module(r["module"]) and r["task"]["answerable"] for r in taught)
    texts = set(training_texts(FactsPolicySettings(refusal_examples=0)))
    assert len(texts) == len(taught)
    for row in ROWS:
        taught_text = f"{row['prompt']} {row['task']['answers'][0]}" if row["task"]["answers"] else None
        assert (taught_text in texts) == (row in taught)
    # no text teaches a refusal or answers an unanswerable question
    unanswerable = [r["prompt"] for r in ROWS if not r["task"]["answerable"]]
    assert not any(t.startswith(prompt) for t in texts for prompt in unanswerable[:20])


def test_practice_refusals_are_about_names_the_questions_never_ask():
    plain = training_texts(FactsPolicySettings(refusal_examples=0))
    texts = training_texts(FactsPolicySettings(refusal_examples=30))
    practice = texts[len(plain):]
    assert texts[: len(plain)] == plain and len(practice) == 30
    assert all(t.endswith("\nAnswer: I don't know.") for t in practice)
    prompts = {r["prompt"] for r in ROWS}
    assert not any(t.removesuffix(" I don't know.") in prompts for t in practice)
    assert {t.split("`")[0] for t in practice} == {"Question: Which standard-library module defines ",
                                                   "Question: How many required parameters does ",
                                                   "Question: What is the default value of the "}


def test_a_tiny_budget_trains_saves_and_measures_the_gap(tmp_path, monkeypatch):
    """The training path end to end on a tiny budget, and the gap measured on its answers. The
    trained policy's bars (seen facts known, unseen ones not) are checked by
    ``benchmarks/demo_policies.py`` (training the real one takes about 4 minutes)."""
    from prefgen.demo.training import TrainingSettings
    from prefgen.methods.refusal.demo_policy import facts_policy_dir, knowledge_gap

    monkeypatch.setenv("PREFGEN_CACHE_DIR", str(tmp_path))
    tiny = FactsPolicySettings(training=TrainingSettings(
        steps=3, batch_size=2, seq_len=64, vocab_size=400, hidden_size=64, num_heads=1, num_layers=1,
        intermediate_size=128, warmup_steps=1))
    path = facts_policy_dir(tiny)
    assert path.parent == tmp_path / "models" and facts_policy_dir(tiny) == path
    gap = knowledge_gap(path, ROWS[:40])
    assert set(gap) <= {"seen/train", "seen/heldout", "unseen/train", "unseen/heldout"}
    assert sum(group["questions"] for group in gap.values()) == sum(r["task"]["answerable"] for r in ROWS[:40])
