"""The embedded demo: stdlib docstring corpus, the stdlib_docs prompt source, the demo policy."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from prefgen.demo.training import DEFAULT_STEPS, METADATA_FILE
from prefgen.methods.quote import stdlib_docs
from prefgen.methods.quote.stdlib_docs import load_rows, split_of
from prefgen.stdlib import corpus as stdlib_corpus
from prefgen.stdlib.corpus import corpus_fingerprint, iter_docstrings


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return list(iter_docstrings())


# ----------------------------------------------------------------------------- corpus


def test_corpus_holds_real_docstrings(corpus):
    import json as json_module

    by_id = {doc["id"]: doc for doc in corpus}
    assert by_id["json.dumps"]["text"] == inspect.cleandoc(json_module.dumps.__doc__)
    assert by_id["json.dumps"]["kind"] == "function"
    assert by_id["builtins.str.join"]["text"] == inspect.cleandoc(str.join.__doc__)
    assert by_id["collections.OrderedDict"]["kind"] == "class"
    # Re-exported objects appear under their shortest public name only.
    assert "json.JSONDecoder" in by_id and "json.decoder.JSONDecoder" not in by_id
    assert len(corpus) > 2000


def test_corpus_is_sorted_unique_and_non_trivial(corpus):
    ids = [doc["id"] for doc in corpus]
    texts = [doc["text"] for doc in corpus]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert len(set(texts)) == len(texts)
    assert all(len(text) >= stdlib_corpus.DEFAULT_MIN_CHARS for text in texts)
    assert not any(" at 0x" in text for text in texts)
    assert not any(part.startswith("_") for doc_id in ids for part in doc_id.split("."))
    skipped = ("antigravity", "this", "tkinter", "turtle", "idlelib", "test")
    assert not any(doc_id.split(".")[0] in skipped for doc_id in ids)


def test_corpus_is_the_same_on_every_run(corpus):
    stdlib_corpus._harvest.cache_clear()
    assert list(iter_docstrings()) == corpus
    # A fresh interpreter with another hash seed gives the same fingerprint.
    code = "from prefgen.stdlib.corpus import corpus_fingerprint; print(corpus_fingerprint())"
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env(PYTHONHASHSEED="123")
    )
    assert child.stdout.strip() == corpus_fingerprint()


def test_harvest_does_not_import_into_the_caller():
    # Modules nothing else in the test run imports.
    already = "tabnanny" in sys.modules or "poplib" in sys.modules
    stdlib_corpus._harvest.cache_clear()
    ids = [doc["id"] for doc in iter_docstrings()]
    assert any(doc_id.startswith("tabnanny.") for doc_id in ids)
    assert any(doc_id.startswith("poplib.") for doc_id in ids)
    if not already:
        assert "tabnanny" not in sys.modules and "poplib" not in sys.modules


def test_corpus_options_restrict_and_change_the_fingerprint():
    only_json = list(iter_docstrings(modules=["json"]))
    assert only_json and all(doc["id"].split(".")[0] == "json" for doc in only_json)
    long_only = list(iter_docstrings(min_chars=400, modules=["json"]))
    assert 0 < len(long_only) < len(only_json)
    assert all(len(doc["text"]) >= 400 for doc in long_only)
    assert corpus_fingerprint(modules=["json"]) != corpus_fingerprint(modules=["json", "textwrap"])


# ----------------------------------------------------------------------------- prompts


def test_rows_have_the_prompt_shape(corpus):
    rows = load_rows()
    by_id = {doc["id"]: doc["text"] for doc in corpus}
    assert len(rows) > 500
    for row in rows:
        assert set(row) == {"prompt", "task", "source", "split"}
        name = row["task"]["object"]
        shown = name.removeprefix("builtins.")
        assert row["prompt"] == f"Question: What does `{shown}` do?\nAnswer:"
        assert row["task"]["reference"] == by_id[name]  # answerable by quoting the corpus
        assert row["source"] == f"stdlib:{name}"
        assert row["split"] in ("train", "heldout")
    assert len({row["task"]["object"] for row in rows}) == len(rows)


def test_split_is_decided_by_name_only():
    rows = load_rows()
    train = {r["task"]["object"] for r in rows if r["split"] == "train"}
    heldout = {r["task"]["object"] for r in rows if r["split"] == "heldout"}
    assert train and heldout and not train & heldout
    assert 0.05 < len(heldout) / len(rows) < 0.15
    # Same split for every seed and limit; a larger fraction only adds held-out objects.
    other_seed = load_rows(seed=7, limit=300)
    assert [r["task"]["object"] for r in other_seed] != [r["task"]["object"] for r in rows[:300]]
    assert all((r["task"]["object"] in heldout) == (r["split"] == "heldout") for r in other_seed)
    wider = {r["task"]["object"] for r in load_rows(heldout_fraction=0.2) if r["split"] == "heldout"}
    assert heldout < wider
    assert all(split_of(name) == "heldout" for name in heldout)


def test_limit_takes_a_prefix_spread_over_modules():
    rows = load_rows()
    first = load_rows(limit=50)
    assert first == rows[:50]
    assert len({r["task"]["object"].split(".")[0] for r in first}) > 10
    with pytest.raises(ValueError, match="unknown option"):
        load_rows(nonsense=1)


def test_question_options_widen_or_narrow_the_set():
    default = load_rows()
    everything = load_rows(modules="all")
    assert {r["task"]["object"] for r in default} < {r["task"]["object"] for r in everything}
    only_json = load_rows(modules=["json"], min_reference_chars=50)
    assert only_json and all(r["task"]["object"].startswith("json.") for r in only_json)
    # An object's split does not depend on which other objects are asked about.
    splits = {r["task"]["object"]: r["split"] for r in everything}
    assert all(splits.get(r["task"]["object"], r["split"]) == r["split"] for r in only_json)
    with pytest.raises(ValueError, match="modules"):
        load_rows(modules="some")


def test_builtin_source_is_registered():
    from prefgen.registry import prompt_sources

    assert prompt_sources.entries["stdlib_docs"] == "prefgen.methods.quote.sources:StdlibDocsSource"
    assert stdlib_docs.load_rows is load_rows


# ----------------------------------------------------------------------------- policy

TINY = dict(steps=2, batch_size=2, seq_len=32, vocab_size=300, hidden_size=64, num_heads=1,
            num_layers=1, intermediate_size=128, max_position_embeddings=512)


def test_training_texts_never_answer_heldout_questions():
    from prefgen.methods.quote.demo_policy import TrainingSettings, training_texts

    texts = training_texts(TrainingSettings())
    rows = load_rows()
    joined = "\x00".join(texts)
    heldout_prompts = [r["prompt"] for r in rows if r["split"] == "heldout"]
    train_prompts = [r["prompt"] for r in rows if r["split"] == "train"]
    assert not any(prompt in joined for prompt in heldout_prompts)
    assert all(prompt + " " in joined for prompt in train_prompts[:200])
    # The held-out references are there as raw text (the corpus the policy may quote).
    assert all(r["task"]["reference"] in texts for r in rows if r["split"] == "heldout")


def test_default_settings_keep_vllm_compatible_shapes():
    from prefgen.demo.training import TrainingSettings

    settings = TrainingSettings()
    assert settings.hidden_size // settings.num_heads == 64
    assert settings.max_position_embeddings >= 512


def test_policy_trains_once_and_loads(tmp_path, monkeypatch):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from prefgen.methods.quote import demo_policy as policy

    monkeypatch.setenv("PREFGEN_CACHE_DIR", str(tmp_path))
    settings = policy.TrainingSettings(**TINY)
    path = policy.demo_policy_dir(settings=settings, log=lambda _: None)
    assert path.parent == tmp_path / "models"
    config = AutoConfig.from_pretrained(path)
    assert config.head_dim == 64 and config.max_position_embeddings >= 512
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.chat_template
    assert tokenizer.eos_token == "</s>"
    model = AutoModelForCausalLM.from_pretrained(path)
    assert model.config.model_type == "llama"
    metadata = json.loads((path / METADATA_FILE).read_text())
    assert metadata["settings"]["steps"] == 2
    assert metadata["corpus"]["fingerprint"] == corpus_fingerprint()
    # Nothing half-written is left next to it.
    assert [p.name for p in (tmp_path / "models").iterdir() if p.is_dir()] == [path.name]

    # Second call: the cache is reused, no training.
    def no_training(*args, **kwargs):
        raise AssertionError("retrained a cached policy")

    monkeypatch.setattr(policy, "_train", no_training)
    assert policy.demo_policy_dir(settings=settings, log=lambda _: None) == path
    # Other settings, other key.
    assert policy.policy_key(policy.TrainingSettings(**{**TINY, "steps": 3})) != path.name.split("-")[-1]


def test_interrupted_training_leaves_no_model(tmp_path, monkeypatch):
    from prefgen.methods.quote import demo_policy as policy

    monkeypatch.setenv("PREFGEN_CACHE_DIR", str(tmp_path))

    def interrupted(out_dir, settings, log):
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(policy, "_train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        policy.demo_policy_dir(settings=policy.TrainingSettings(**TINY), log=lambda _: None)
    assert not [p for p in (tmp_path / "models").iterdir() if p.is_dir()]


def test_the_demo_policy_is_made_once_and_again_when_forced(tmp_path, monkeypatch):
    # what `prefgen demo prepare [--force]` calls through the named-model registry
    from prefgen.methods.quote import demo_policy as policy

    monkeypatch.setenv("PREFGEN_CACHE_DIR", str(tmp_path))
    calls = []

    def fake_train(out_dir, settings, log):
        calls.append(settings.steps)
        out_dir.mkdir(parents=True)
        (out_dir / METADATA_FILE).write_text("{}")

    monkeypatch.setattr(policy, "_train", fake_train)
    first = policy.demo_policy_dir()
    assert policy.demo_policy_dir() == first and calls == [DEFAULT_STEPS]
    assert policy.demo_policy_dir(force=True) == first and len(calls) == 2


def _env(**extra):
    import os

    env = dict(os.environ)
    env.update(extra)
    return env
