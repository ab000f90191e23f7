import json

import pytest

from conftest import write_jsonl
from prefgen.config import PromptsConfig
from prefgen.sources.reader import PromptSourceError, read_prompts


def test_bad_rows_are_rejected_with_reasons(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"prompt": "first"},
            "{broken json",
            {"prompt": ""},
            {"text": "wrong field"},
            "[1, 2]",
            {"prompt": 42},
            {"prompt": "first"},
            {"prompt": [{"role": "user", "content": "chat"}]},
            {"prompt": [{"role": "wizard", "content": "x"}]},
        ],
    )
    with open(path, "ab") as handle:
        handle.write(b'{"prompt": "\xff\xfe"}\n')
    result = read_prompts(PromptsConfig(source=str(path)))
    assert [p.prompt if isinstance(p.prompt, str) else "chat" for p in result.prompts] == ["first", "chat"]
    reasons = [r.reason for r in result.rejected]
    assert reasons[0].startswith("not JSON")
    assert "empty prompt" in reasons
    assert "missing field 'prompt'" in reasons
    assert "expected a JSON object, got list" in reasons
    assert any(r.startswith("field 'prompt' must be text") for r in reasons)
    assert any(r.startswith("duplicate of p.jsonl:1") for r in reasons)
    assert any(r.startswith("invalid chat messages") for r in reasons)
    assert any(r.startswith("not UTF-8") for r in reasons)
    assert len(result.rejected) == 8
    assert result.rejected[0].line == 2


def test_task_fields_and_limit(tmp_path):
    rows = [{"question": f"q{i}", "gold": str(i)} for i in range(10)]
    path = write_jsonl(tmp_path / "p.jsonl", rows + [{"question": "no gold"}])
    config = PromptsConfig(source=str(path), field="question", task_fields=["gold"])
    result = read_prompts(config)
    assert len(result.prompts) == 10 and result.prompts[3].task == {"gold": "3"}
    assert result.rejected[0].reason == "missing task field 'gold'"
    assert len(read_prompts(PromptsConfig(source=str(path), field="question", limit=4)).prompts) == 4


def test_parquet_save_to_disk_and_local_dataset(tmp_path):
    import datasets

    rows = [{"prompt": f"question {i}"} for i in range(6)]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "p.parquet"))
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "saved"))
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:2]), "test": datasets.Dataset.from_list(rows)}).save_to_disk(
        str(tmp_path / "saved_dict")
    )
    (tmp_path / "hf_dir").mkdir()
    write_jsonl(tmp_path / "hf_dir" / "train.jsonl", rows)
    for source, split, expected in [
        ("p.parquet", None, 6),
        ("saved", None, 6),
        ("saved_dict", None, 2),
        ("saved_dict", "test", 6),
        ("hf_dir", None, 6),
    ]:
        result = read_prompts(PromptsConfig(source=str(tmp_path / source), split=split))
        assert len(result.prompts) == expected, source


def test_heldout_split_is_deterministic(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"q{i}"} for i in range(400)])
    config = PromptsConfig(source=str(path), heldout_fraction=0.25)
    first = {p.id: p.split for p in read_prompts(config).prompts}
    reversed_path = write_jsonl(tmp_path / "r.jsonl", [{"prompt": f"q{i}"} for i in reversed(range(400))])
    second = {p.id: p.split for p in read_prompts(PromptsConfig(source=str(reversed_path), heldout_fraction=0.25)).prompts}
    assert first == second
    share = sum(s == "heldout" for s in first.values()) / len(first)
    assert 0.15 < share < 0.35


def test_missing_source_and_unknown_builtin(tmp_path):
    with pytest.raises(PromptSourceError, match="prompts.source: no such file"):
        read_prompts(PromptsConfig(source=str(tmp_path / "none.jsonl")))
    with pytest.raises(PromptSourceError, match="unknown prompt source"):
        read_prompts(PromptsConfig(source="builtin:nope"))


def test_task_dict_column_is_kept(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "p", "task": {"tests": ["assert f() == 1"]}}])
    prompt = read_prompts(PromptsConfig(source=str(path))).prompts[0]
    assert prompt.task == {"tests": ["assert f() == 1"]}
    assert json.loads(prompt.to_row()["task"]) == prompt.task
