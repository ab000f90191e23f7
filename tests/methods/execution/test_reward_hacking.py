"""Reward hacking: programs that solve nothing but try to make the ``execution`` reward say they do.

Each hack below gets a score of 0 (and ``passed`` false) while an honest solution of the same
problem, scored in the same batch, passes. Every hack's function returns wrong answers: any
credit it got would come from fooling the harness. Many of them fooled a harness that ran the
tests in the candidate's own process (equality overrides, a redefined helper, a patched ``math``,
the expected value read from the test's code). See ``src/prefgen/sandbox/README.md``.
"""

from __future__ import annotations

import pytest

from prefgen.methods.execution.humaneval import load_rows, read_problems
from prefgen.methods.execution.reward import ExecutionReward
from prefgen.records import Candidate, Prompt


def prompt_of(text: str, task: dict) -> Prompt:
    return Prompt(id=Prompt.make_id(text, task), prompt=text, task=task)


ADD = prompt_of("Write add(a, b).", {"tests": ["assert add(1234, 4321) == 5555", "assert add(-70, 71) == 1",
                                               "assert add(20, 22) == 42"], "format": "full"})
PRIME = prompt_of("Write is_prime(n) and primes_below(n).", {
    "tests": ["assert is_prime(7)", "assert is_prime(13)", "assert len(primes_below(10)) == 4"], "format": "full"})
MEAN = prompt_of("Write mean(xs).", {
    "tests": "import math\nassert abs(mean([1, 2]) - 1.5) < 1e-9\nassert math.isclose(mean([2, 4, 9]), 5.0)\n",
    "format": "full"})
_ROW = load_rows(task_ids=["HumanEval/32"])[0]
FIND_ZERO = prompt_of(_ROW["prompt"], _ROW["task"])  # check() uses the prompt's own poly()
_CYCLIC = load_rows(task_ids=["HumanEval/38"])[0]
DECODE = prompt_of(_CYCLIC["prompt"], _CYCLIC["task"])  # check() draws its inputs from random

HONEST = [
    (ADD, "def add(a, b):\n    return a + b\n"),
    (PRIME, ("def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))\n"
             "def primes_below(n):\n    return [k for k in range(n) if is_prime(k)]\n")),
    (MEAN, "def mean(xs):\n    return sum(xs) / len(xs)\n"),
    (FIND_ZERO, _ROW["task"]["canonical_solution"]),
    (DECODE, _CYCLIC["task"]["canonical_solution"]),
]

WRONG_ADD = "def add(a, b):\n    return -12345\n"

HACKS: dict[str, tuple[Prompt, str]] = {
    "eq_always_true": (ADD, """
class AlwaysEqual:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = object.__hash__
def add(a, b):
    return AlwaysEqual()
"""),
    "int_subclass_overrides_comparison": (ADD, """
class Liar(int):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
def add(a, b):
    return Liar(-12345)
"""),
    "str_and_list_subclasses": (PRIME, """
class TrueList(list):
    def __len__(self): return 4
    def __eq__(self, other): return True
class TrueStr(str):
    def __bool__(self): return True
    def __eq__(self, other): return True
def is_prime(n):
    return TrueStr('')
def primes_below(n):
    return TrueList()
"""),
    "lying_bool_and_len": (PRIME, """
class Yes:
    def __bool__(self): return True
    def __len__(self): return 4
def is_prime(n):
    return Yes()
def primes_below(n):
    return Yes()
"""),
    "class_attribute_override": (ADD, """
class Disguised:
    __class__ = property(lambda self: int)
    def __eq__(self, other): return True
def add(a, b):
    assert isinstance(Disguised(), int)
    return Disguised()
"""),
    "nan_result": (FIND_ZERO, """    return float('nan')
"""),
    "redefines_the_problems_helper": (FIND_ZERO, """    return 12345.0


def poly(xs, x):
    return 0.0
"""),
    "replaces_the_tests_check_function": (FIND_ZERO, """    return 12345.0


def check(candidate):
    pass


METADATA = {}
"""),
    "patches_modules_the_tests_use": (FIND_ZERO, """    import math
    math.fabs = lambda x: 0.0
    return 12345.0


import math
math.fabs = lambda x: 0.0
"""),
    "plants_modules_where_the_tests_import_from": (FIND_ZERO, """    return 12345.0


import os, sys
for folder in sys.path + [os.getcwd(), '/tmp']:
    for name in ('math', 'random', 'copy'):
        try:
            with open(os.path.join(folder, name + '.py'), 'w') as f:
                f.write('from importlib import import_module\\nfabs = lambda x: 0.0\\n')
        except OSError:
            pass
"""),
    "predicts_the_tests_random_inputs": (DECODE, """    from random import randint, choice
    import string
    return ''.join(choice(string.ascii_lowercase) for i in range(randint(10, 20)))
"""),
    "patches_builtins": (MEAN, """
import builtins
builtins.abs = lambda x: 0
builtins.len = lambda x: 4
builtins.isinstance = lambda *a: True
builtins.AssertionError = type('AssertionError', (Exception,), {})
builtins.print = lambda *a, **k: None
import math
math.isclose = lambda *a, **k: True
def mean(xs):
    return -12345.0
"""),
    "strips_asserts_with_an_ast_transformer": (ADD, """
import ast, builtins
class NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
real_compile, real_exec = builtins.compile, builtins.exec
def compile_without_asserts(source, *args, **kwargs):
    if isinstance(source, str):
        source = NoAsserts().visit(ast.parse(source))
    return real_compile(source, *args, **kwargs)
def exec_without_asserts(code, *args, **kwargs):
    if isinstance(code, str):
        code = compile_without_asserts(code, '<hack>', 'exec')
    return real_exec(code, *args, **kwargs)
builtins.compile, builtins.exec = compile_without_asserts, exec_without_asserts
def add(a, b):
    return -12345
"""),
    "patches_the_harness_functions": (ADD, """
import gc, types
def report_success(*args, **kwargs):
    return None
for obj in gc.get_objects():
    if isinstance(obj, types.FunctionType) and obj.__name__ in (
            'emit', '_emit', '_prefgen_record', 'describe', '_run_tests', '_apply', '_prefgen_eq',
            'strict_equal', 'from_plain', 'decode'):
        obj.__code__ = report_success.__code__
def add(a, b):
    return -12345
"""),
    "forges_results_on_every_channel": (ADD, """
import os, sys
lines = b"('start',)\\n" + b"".join(repr(('test', i, None)).encode() + b'\\n' for i in range(3)) + b"('done',)\\n"
for fd in range(1, 64):
    try:
        os.write(fd, lines)
    except OSError:
        pass
for path in ('/proc/self/fd/3', '/proc/1/fd/3', f'/proc/{os.getppid()}/fd/3', '/dev/fd/3'):
    try:
        with open(path, 'wb') as f:
            f.write(lines)
    except OSError:
        pass
sys.stdout.write(lines.decode()); sys.stderr.write(lines.decode())
def add(a, b):
    return -12345
"""),
    "reads_the_expected_value_from_memory": (ADD, """
import gc, sys, types, re, os
def expected_from(code, a, b):
    ints = [c for c in code.co_consts if type(c) is int]
    for i in range(len(ints) - 2):
        if ints[i:i + 2] == [a, b]:
            return ints[i + 2]
    return None
def add(a, b):
    frame = sys._getframe(1)
    while frame is not None:
        found = expected_from(frame.f_code, a, b)
        if found is not None:
            return found
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, types.CodeType):
            found = expected_from(obj, a, b)
            if found is not None:
                return found
    pattern = re.compile(rb'add\\(%d, %d\\) == (-?\\d+)' % (a, b))
    for pid in ('self', '1', str(os.getppid())):
        try:
            maps = open(f'/proc/{pid}/maps').read().splitlines()
            with open(f'/proc/{pid}/mem', 'rb') as mem:
                for line in maps:
                    start, end = (int(x, 16) for x in line.split()[0].split('-'))
                    try:
                        mem.seek(start)
                        hit = pattern.search(mem.read(min(end - start, 1 << 24)))
                    except (OSError, OverflowError, ValueError):
                        continue
                    if hit:
                        return int(hit.group(1))
        except OSError:
            pass
    return -12345
"""),
    "forges_with_the_per_run_token": (ADD, """
import gc, os, re
token = re.compile(r'^[0-9a-f]{24}$')
for obj in gc.get_objects():
    for text in (obj if isinstance(obj, (dict, list, tuple)) else ()):
        if isinstance(text, str) and token.match(text):
            for i in range(3):
                try:
                    os.write(3, (text + repr(('test', i, None)) + '\\n').encode())
                except OSError:
                    pass
def add(a, b):
    return -12345
"""),
    "exits_before_the_asserts": (ADD, WRONG_ADD + "import sys\nsys.exit(0)\n"),
    "hard_exits_before_the_asserts": (ADD, WRONG_ADD + "import os\nos._exit(0)\n"),
    "raises_system_exit_inside_the_function": (ADD, """
def add(a, b):
    raise SystemExit(0)
"""),
    "exception_whose_str_lies": (ADD, """
import os
class Passed(AssertionError):
    def __str__(self):
        for fd in range(1, 64):
            try:
                os.write(fd, b"('test', 0, None)\\n('test', 1, None)\\n('test', 2, None)\\n('done',)\\n")
            except OSError:
                pass
        return 'passed'
    __repr__ = __str__
def add(a, b):
    raise Passed()
"""),
    "kills_or_stops_the_reporter": (ADD, """
import os, signal, threading
for pid in [1, os.getppid()] + list(range(2, 64)):
    if pid != os.getpid():
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
def flood():
    while True:
        for fd in (1, 2, 3):
            try:
                os.write(fd, b"('done',)\\n")
            except OSError:
                pass
threading.Thread(target=flood, daemon=True).start()
def add(a, b):
    return -12345
"""),
    "patches_its_own_server_to_send_forged_answers": (ADD, """
import gc, types
def forged(*args, **kwargs):
    return ['ok', ['X', 'not plain']]
for obj in gc.get_objects():
    if isinstance(obj, types.FunctionType) and obj.__name__ in ('_handle', 'to_plain'):
        obj.__code__ = forged.__code__
def add(a, b):
    return -12345
"""),
    "bool_where_a_number_is_expected": (ADD, """
def add(a, b):
    return True if a + b == 1 else -12345
"""),
}


@pytest.fixture(scope="module")
def scored():
    """Every hack and every honest solution, scored in one batch."""
    items = list(HACKS.values()) + HONEST
    reward = ExecutionReward(timeout_s=5.0, workers=4)
    candidates = [(prompt, Candidate(id=f"c{i}", prompt_id=prompt.id, sample_index=i, text=fenced(prompt, code)))
                  for i, (prompt, code) in enumerate(items)]
    results = reward.score_safely(candidates)
    return dict(zip(HACKS, results)), results[len(HACKS):]


def fenced(prompt: Prompt, code: str) -> str:
    """Full programs as a fenced block; HumanEval completions as raw text continuing the prompt."""
    if prompt.task.get("format") == "completion":
        return code
    return f"```python\n{code.lstrip()}```\n"


def test_the_hostile_set_is_large_enough():
    assert len(HACKS) >= 15


@pytest.mark.parametrize("hack", list(HACKS))
def test_hack_scores_as_a_failure(scored, hack):
    result = scored[0][hack]
    assert result.score == 0.0, (hack, result.reason, result.details.get("feedback"))
    assert result.details["passed"] is False and result.details["tests_passed"] == 0
    assert result.reason in ("failed", "error"), result.reason


def test_honest_solutions_in_the_same_batch_pass(scored):
    for result in scored[1]:
        assert result.reason == "passed" and result.score == 1.0, result.details.get("feedback")


def test_unplain_results_get_feedback_that_says_why(scored):
    feedback = scored[0]["eq_always_true"].details["feedback"]
    assert "AlwaysEqual, which is not plain data" in feedback


def test_every_humaneval_canonical_solution_passes():
    rows = load_rows(with_canonical=False)
    prompts = [prompt_of(row["prompt"], row["task"]) for row in rows]
    solutions = [problem["canonical_solution"] for problem in read_problems()]
    items = [(p, Candidate(id=f"h{i}", prompt_id=p.id, sample_index=0, text=text))
             for i, (p, text) in enumerate(zip(prompts, solutions))]
    results = ExecutionReward(timeout_s=10.0, workers=4).score_safely(items)
    failing = [(row["source"], r.reason, r.details.get("feedback")) for row, r in zip(rows, results) if r.reason != "passed"]
    assert len(results) == 164 and failing == []


def test_interrupting_the_tester_earns_nothing():
    flood = ("import os, signal, threading\ndef interrupt():\n    while True:\n"
             "        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP):\n"
             "            try:\n                os.kill(os.getppid(), sig)\n            except OSError:\n"
             "                return\nthreading.Thread(target=interrupt, daemon=True).start()\n"
             "def add(a, b):\n    return a + b if a == 20 else -12345\n")
    items = [(ADD, Candidate(id=f"i{i}", prompt_id=ADD.id, sample_index=i, text=fenced(ADD, flood))) for i in range(3)]
    for result in ExecutionReward(timeout_s=5.0, workers=3).score_safely(items):
        # Each test is judged on its value alone, as if nothing had been sent.
        assert [t["ok"] for t in result.details["tests"]] == [False, False, True], result.details["feedback"]
        assert result.reason == "failed"
