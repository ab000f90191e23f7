"""The tool-use task format and the BFCL file reader (on small files written here)."""

import json

import pytest

from prefgen.methods.tool_use.bfcl import load_rows
from prefgen.methods.tool_use.calls import ToolCall
from prefgen.methods.tool_use.task import (
    ground_truth_from_calls,
    is_reference_valid,
    reference_answer,
    reference_calls,
    render_prompt,
    task_problem,
)
from prefgen.registry import prompt_sources, rewards

AREA = {
    "name": "calculate_triangle_area",
    "description": "Area of a triangle.",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer"},
            "height": {"type": "integer"},
            "unit": {"type": "string"},
        },
        "required": ["base", "height"],
    },
}
AREA_TRUTH = [{"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["", "units"]}}]


def test_reference_answer_and_chat_json_ground_truth():
    assert reference_calls(AREA_TRUTH) == [ToolCall("calculate_triangle_area", {"base": 10, "height": 5})]
    assert reference_answer(AREA_TRUTH) == "[calculate_triangle_area(base=10, height=5)]"
    assert reference_answer([]) == "[]"
    truth = ground_truth_from_calls([{"name": "f", "arguments": {"a": 1}}, {"name": "g"}])
    assert truth == [{"f": {"a": [1]}}, {"g": {}}]
    with pytest.raises(TypeError):
        ground_truth_from_calls([{"arguments": {}}])


def test_task_problem_and_reference_self_check():
    task = {"tools": [AREA], "ground_truth": AREA_TRUTH}
    assert task_problem(task) is None and is_reference_valid(task) and is_reference_valid(task, "json")
    assert "tools" in task_problem({"tools": [{"description": "x"}], "ground_truth": []})
    assert "do not pass" in task_problem(
        {"tools": [AREA], "ground_truth": [{"calculate_triangle_area": {"base": [10]}}]}
    )
    assert "ground_truth" in task_problem({"tools": [AREA], "ground_truth": [{"a": {}, "b": {}}]})


def test_render_prompt_marks_optional_parameters():
    text = render_prompt([AREA], "  Area of a 10 by 5 triangle? ")
    assert (
        "- calculate_triangle_area(base: integer, height: integer, unit?: string): Area of a triangle."
        in text
    )
    assert text.endswith("Request: Area of a 10 by 5 triangle?\nCalls:")


def write_lines(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))


@pytest.fixture
def bfcl_dir(tmp_path):
    question = [[{"role": "user", "content": "Find the area of a triangle with base 10 and height 5."}]]
    write_lines(
        tmp_path / "BFCL_v4_simple_python.json",
        [
            {"id": "simple_python_0", "question": question, "function": [AREA]},
            {"id": "simple_python_1", "question": question + question, "function": [AREA]},
            "{not json",
            {"id": "simple_python_2", "question": question, "function": [AREA]},
        ],
    )
    write_lines(
        tmp_path / "possible_answer" / "BFCL_v4_simple_python.json",
        [
            {"id": "simple_python_0", "ground_truth": AREA_TRUTH},
            {"id": "simple_python_1", "ground_truth": AREA_TRUTH},
        ],
    )
    write_lines(
        tmp_path / "BFCL_v4_irrelevance.json",
        [
            {
                "id": "irrelevance_0",
                "question": [[{"role": "user", "content": "Who wrote Hamlet?"}]],
                "function": [AREA],
            },
        ],
    )
    return tmp_path


def test_bfcl_reader_turns_files_into_tasks_and_marks_bad_rows(bfcl_dir):
    assert prompt_sources.entries["bfcl"] == "prefgen.methods.tool_use.sources:BfclSource"
    rows = load_rows(str(bfcl_dir), categories=["simple_python", "irrelevance"])
    assert [r["source"] for r in rows] == [
        "bfcl:simple_python:simple_python_0",
        "bfcl:simple_python:simple_python_1",
        "bfcl:simple_python:3",
        "bfcl:simple_python:simple_python_2",
        "bfcl:irrelevance:irrelevance_0",
    ]
    good, multi, broken, unanswered, irrelevant = rows
    assert good["task"]["ground_truth"] == AREA_TRUTH and good["task"]["tools"] == [AREA]
    assert (
        good["prompt"][0]["role"] == "system" and "calculate_triangle_area(" in good["prompt"][0]["content"]
    )
    assert good["prompt"][1]["content"].startswith("Find the area")
    reward = rewards.build("tool_call", {})
    assert reward.task_problem(good["task"]) is None and reward.task_problem(irrelevant["task"]) is None
    assert irrelevant["task"]["ground_truth"] == []
    assert "multi-turn" in reward.task_problem(multi["task"])
    assert "not JSON" in reward.task_problem(broken["task"])
    assert "no ground truth" in reward.task_problem(unanswered["task"])


def test_bfcl_reader_text_style_limit_and_errors(bfcl_dir):
    rows = load_rows(str(bfcl_dir), categories=["simple_python"], prompt_style="text", limit=1)
    assert (
        len(rows) == 1
        and rows[0]["prompt"].endswith("Calls:")
        and "Request: Find the area" in rows[0]["prompt"]
    )
    with pytest.raises(FileNotFoundError, match="BFCL_v4_multiple.json"):
        load_rows(str(bfcl_dir), categories=["multiple"])
    (bfcl_dir / "BFCL_v4_parallel.json").write_text("")
    with pytest.raises(FileNotFoundError, match="possible_answer"):
        load_rows(str(bfcl_dir), categories=["parallel"])
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_rows(str(bfcl_dir / "nope"))
    with pytest.raises(TypeError, match="no option"):
        load_rows(str(bfcl_dir), colour="red")


def test_reader_rejects_bad_bfcl_rows_with_their_reason(bfcl_dir):
    from prefgen.config import PromptsConfig
    from prefgen.sources.reader import read_prompts

    config = PromptsConfig(
        source="builtin:bfcl", options={"data_dir": str(bfcl_dir), "categories": ["simple_python"]}
    )
    prompts = read_prompts(config, rewards.build("tool_call", {}).task_problem)
    assert [p.task["bfcl_id"] for p in prompts.prompts] == ["simple_python_0"]
    reasons = [r.reason for r in prompts.rejected]
    assert (
        len(reasons) == 3
        and any("multi-turn" in r for r in reasons)
        and any("not JSON" in r for r in reasons)
    )
