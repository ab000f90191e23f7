"""``builtin:basic_python``: every problem is well formed, solvable by its canonical body, and
able to fail; the source's options and its registration behave like ``builtin:humaneval``'s."""

from __future__ import annotations

import ast

import pytest
import yaml
from typer.testing import CliRunner

from prefgen.cli import app
from prefgen.config import PromptsConfig
from prefgen.methods.execution.basic_python import (
    LOOPS_AND_CONDITIONS,
    MORE_LOOPS_AND_CONDITIONS,
    MORE_ONE_LINERS,
    ONE_LINERS,
    PROBLEMS,
    load_rows,
)
from prefgen.methods.execution.humaneval import validate_problem
from prefgen.methods.execution.reward import ExecutionReward
from prefgen.records import Candidate, Prompt
from prefgen.registry import prompt_sources, rewards
from prefgen.sources.reader import PromptSourceError, read_prompts

ROWS = load_rows()
WRONG_BODY = "    return None\n"


def prompt_of(row: dict) -> Prompt:
    return Prompt(id=Prompt.make_id(row["prompt"], row["task"]), prompt=row["prompt"], task=row["task"])


@pytest.fixture(scope="module")
def scored():
    """Every problem's canonical body and a wrong body, scored in one batch in the sandbox.

    The rows keep their canonical solutions, so the reward's broken-problem check runs as well.
    Returns {row source: (canonical result, wrong result)}."""
    items = []
    for i, row in enumerate(ROWS):
        prompt = prompt_of(row)
        for j, text in enumerate((row["task"]["canonical_solution"], WRONG_BODY)):
            items.append((prompt, Candidate(id=f"b{i}-{j}", prompt_id=prompt.id, sample_index=j, text=text)))
    results = ExecutionReward(timeout_s=10.0, workers=2).score_safely(items)
    return {row["source"]: (results[2 * i], results[2 * i + 1]) for i, row in enumerate(ROWS)}


def test_two_hundred_problems_with_stable_unique_ids():
    assert len(ROWS) == len(PROBLEMS) == 200
    assert [row["source"] for row in ROWS] == [f"basic-python:basic/{i}" for i in range(200)]
    assert len({row["task"]["entry_point"] for row in ROWS}) == 200
    assert len({row["prompt"] for row in ROWS}) == 200
    # The first 60 keep their ids: basic/60 ... were appended after them.
    assert PROBLEMS[:60] == ONE_LINERS + LOOPS_AND_CONDITIONS


def test_every_canonical_solution_passes_in_the_sandbox(scored):
    failing = {source: (canonical.reason, canonical.details.get("feedback"))
               for source, (canonical, _) in scored.items() if canonical.reason != "passed"}
    assert failing == {}
    assert all(canonical.score == 1.0 for canonical, _ in scored.values())


def test_every_check_has_at_least_three_tests_and_can_fail(scored):
    for source, (canonical, wrong) in scored.items():
        assert canonical.details["tests_total"] >= 3, source
        assert wrong.score is not None and wrong.score < 1.0, (source, wrong.reason, wrong.score)
        assert wrong.details["passed"] is False, source


def test_prompts_are_typed_signatures_ending_with_the_docstring():
    for row in ROWS:
        prompt, name = row["prompt"], row["task"]["entry_point"]
        assert prompt.startswith(f"def {name}(") and prompt.endswith('    """\n'), row["source"]
        [function] = ast.parse(prompt + "    pass\n").body
        assert isinstance(function, ast.FunctionDef) and function.name == name
        assert function.returns is not None and all(arg.annotation is not None for arg in function.args.args)
        docstring = ast.get_docstring(function)
        assert 1 <= docstring.count(f">>> {name}(") <= 2, row["source"]
        body = row["task"]["canonical_solution"]
        assert body.startswith("    ") and body.endswith("\n")  # completion format: the body alone


def test_half_one_liners_half_a_loop_or_a_condition():
    def lines(problem):
        return problem.body().count("\n")

    assert len(ONE_LINERS) == len(LOOPS_AND_CONDITIONS) == 30
    assert len(MORE_ONE_LINERS) == len(MORE_LOOPS_AND_CONDITIONS) == 70
    assert PROBLEMS == ONE_LINERS + LOOPS_AND_CONDITIONS + MORE_ONE_LINERS + MORE_LOOPS_AND_CONDITIONS
    assert all(lines(problem) == 1 for problem in ONE_LINERS + MORE_ONE_LINERS)
    # Some harder ones still fit on a line in Python (count_words); most need a loop or an if.
    assert sum(lines(problem) > 1 for problem in LOOPS_AND_CONDITIONS) >= 15
    assert sum(lines(problem) > 1 for problem in MORE_LOOPS_AND_CONDITIONS) >= 35


def test_rows_are_valid_and_the_reader_rejects_none():
    for row in ROWS:
        assert validate_problem(row) is row
        assert row["task"]["format"] == "completion"
    reward = rewards.build("execution", {})
    result = read_prompts(PromptsConfig(source="builtin:basic_python"), reward.task_problem)
    assert len(result.prompts) == 200 and not result.rejected


def test_limit_task_ids_and_with_canonical():
    assert [row["source"] for row in load_rows(limit=3)] == [f"basic-python:basic/{i}" for i in range(3)]
    assert load_rows(limit=0) == []
    picked = load_rows(task_ids=["basic/12", "basic/40"])
    assert [row["source"] for row in picked] == ["basic-python:basic/12", "basic-python:basic/40"]
    assert load_rows(task_ids=["basic/40"], limit=5) == [ROWS[40]]
    assert load_rows(task_ids=["HumanEval/0"]) == []
    bare = load_rows(limit=2, with_canonical=False)
    assert all("canonical_solution" not in row["task"] for row in bare)
    assert bare[0]["task"]["tests"] == ROWS[0]["task"]["tests"]


def test_unknown_option_is_a_clear_error():
    with pytest.raises(TypeError, match=r"builtin:basic_python has no option\(s\) \['colour'\]; known: limit"):
        load_rows(colour="blue")
    assert prompt_sources.params_problems("basic_python", {"colour": "blue"}, "prompts.options") == [
        "prompts.options.colour: unknown key"]
    with pytest.raises(PromptSourceError, match="colour"):
        read_prompts(PromptsConfig(source="builtin:basic_python", options={"colour": "blue"}))


def test_source_options_reach_the_loader():
    result = read_prompts(PromptsConfig(source="builtin:basic_python",
                                        options={"task_ids": ["basic/3", "basic/7"], "with_canonical": False}))
    assert [p.task["entry_point"] for p in result.prompts] == ["reverse_string", "count_vowels"]
    assert all("canonical_solution" not in p.task for p in result.prompts)


def test_a_pipeline_on_basic_python_validates(tmp_path, tiny_model):
    runner = CliRunner()
    config = {
        "name": "basic", "runtime": "local",
        "model": {"path": str(tiny_model), "max_model_len": 512},
        "prompts": {"source": "builtin:basic_python", "options": {"limit": 10}, "heldout_fraction": 0.1},
        "generate": {"n": 2, "max_tokens": 64, "temperature": 1.0, "seed": 0},
        "reward": {"name": "execution", "timeout_s": 5.0},
        "pairing": {"strategy": "best_worst", "min_margin": 0.1},
        "output": {"dir": str(tmp_path / "out")},
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output
    bad = runner.invoke(app, ["validate", str(path), "prompts.options.colour=blue"])
    assert bad.exit_code == 2 and "prompts.options.colour: unknown key" in bad.output, bad.output
    assert not (tmp_path / "out").exists()



def test_chat_style_asks_for_the_whole_function_and_scores_fenced_replies():
    rows = load_rows(limit=3, prompt_style="chat")
    assert all(row["task"]["format"] == "full" for row in rows)
    for row, plain in zip(rows, ROWS):
        (turn,) = row["prompt"]
        assert turn["role"] == "user" and plain["prompt"] in turn["content"] and "```python" in turn["content"]
        validate_problem(row)
    items = []
    for i, row in enumerate(rows):
        prompt = prompt_of(row)
        replies = (f"Here it is:\n```python\n{row['task']['canonical_solution']}```\n",
                   f"The function `{row['task']['entry_point']}` returns the answer.")
        items += [(prompt, Candidate(id=f"c{i}-{j}", prompt_id=prompt.id, sample_index=j, text=text))
                  for j, text in enumerate(replies)]
    results = ExecutionReward(timeout_s=10.0, workers=2).score_safely(items)
    assert [r.score for r in results[::2]] == [1.0, 1.0, 1.0]
    assert all(r.score == 0.0 for r in results[1::2]), [r.reason for r in results[1::2]]
    with pytest.raises(ValueError, match="prompt_style"):
        load_rows(prompt_style="shout")
