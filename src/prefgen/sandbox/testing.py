"""Run a program against its tests in the sandbox and say, test by test, what happened.

:func:`build_test_program` compiles everything here, in the parent (a syntax error costs no
sandbox, and asserts can never be optimised away: ``optimize=0``); :func:`run_test_program`
ships the code objects to :mod:`prefgen.sandbox.harness` inside :func:`run_python` and reads
its authenticated event stream back into a :class:`TestOutcome`.

Tests are either a list of statements (usually ``assert`` lines, one test each), or test code
(a string). Test code that defines ``check`` is HumanEval-style: ``check(<entry point>)`` is
called, and each top-level statement of ``check`` that contains an ``assert`` counts as one test,
run on its own so that one failure does not hide the others. Other test code is treated the same
way at module level: each top-level statement holding an assert is a test.
"""

from __future__ import annotations

import ast
import secrets
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefgen.sandbox.runner import ExecutionResult, SandboxLimits, run_python

PROGRAM_FILE, SETUP_FILE, TESTS_FILE = "<program>", "<setup>", "<tests>"
CHECK_NAME = "check"
_RECORD = "_prefgen_record"
_HARNESS_CODE: types.CodeType | None = None


class ProblemError(ValueError):
    """The problem itself (tests or setup) is unusable: not the candidate's fault."""


@dataclass
class TestProgram:
    """Compiled pieces of one run: what the harness needs, and what explains its results."""

    program: types.CodeType
    tests: list[types.CodeType] | types.CodeType
    kind: str                       # asserts | module | check | check_whole
    test_sources: list[str]         # the source of each counted test, for feedback
    setup: types.CodeType | None = None
    entry_point: str | None = None

    @property
    def num_tests(self) -> int:
        return len(self.test_sources)


@dataclass
class TestOutcome:
    """What running a :class:`TestProgram` gave."""

    num_tests: int
    results: dict[int, Any] = field(default_factory=dict)  # test index -> None (passed) | exc
    started: bool = False
    done: bool = False
    setup_error: Any = None
    program_error: Any = None
    tests_error: Any = None
    check_error: Any = None
    execution: ExecutionResult | None = None

    @property
    def num_passed(self) -> int:
        return sum(1 for exc in self.results.values() if exc is None)

    @property
    def passed(self) -> bool:
        """Every test ran and succeeded, and the harness got to its end."""
        return self.done and self.num_tests > 0 and self.num_passed == self.num_tests


def build_test_program(program: str, tests: list[str] | str, *, setup: str | None = None,
                       entry_point: str | None = None) -> TestProgram:
    """Compile a candidate program and its tests.

    Raises ``SyntaxError`` (or ``ValueError`` for NUL bytes) for a program that does not
    compile, and :class:`ProblemError` for tests or setup that cannot run.
    """
    program_code = _compile(program, PROGRAM_FILE)
    setup_code = None
    if setup:
        try:
            setup_code = _compile(setup, SETUP_FILE)
        except (SyntaxError, ValueError) as exc:
            raise ProblemError(f"setup code does not compile: {exc}") from exc
    kind, tests_code, sources = compile_tests(tests, entry_point)
    return TestProgram(program_code, tests_code, kind, sources, setup_code, entry_point)


def compile_tests(tests: list[str] | str, entry_point: str | None):
    """(kind, code, counted test sources) for a test list or test code; ProblemError if unusable."""
    if isinstance(tests, list):
        tests = [t for t in tests if isinstance(t, str) and t.strip()]
        if not tests:
            raise ProblemError("no tests")
        codes = []
        for i, source in enumerate(tests):
            try:
                codes.append(_compile(source, f"<test {i}>"))
            except (SyntaxError, ValueError) as exc:
                raise ProblemError(f"test {i} does not compile: {exc}") from exc
        return "asserts", codes, tests
    if not isinstance(tests, str) or not tests.strip():
        raise ProblemError("no tests")
    try:
        tree = ast.parse(tests, TESTS_FILE)
    except (SyntaxError, ValueError) as exc:
        raise ProblemError(f"tests do not compile: {exc}") from exc
    lines = tests.splitlines()
    check = next((n for n in reversed(tree.body) if isinstance(n, ast.FunctionDef) and n.name == CHECK_NAME), None)
    if check is not None:
        if not entry_point:
            raise ProblemError("tests define check(candidate) but the task has no entry_point")
        body_owner, kind = check, "check"
    else:
        body_owner, kind = tree, "module"
    sources = []
    new_body = []
    for stmt in body_owner.body:
        if _counts_as_test(stmt):
            new_body.append(_report_outcome(stmt, len(sources)))
            sources.append("\n".join(lines[stmt.lineno - 1:stmt.end_lineno]).strip())
        else:
            new_body.append(stmt)
    body_owner.body = new_body
    if kind == "module" and not sources:
        raise ProblemError("tests contain no assert and no check(candidate) function")
    if kind == "check" and not sources:
        kind, sources = "check_whole", [f"{CHECK_NAME}({entry_point})"]
    ast.fix_missing_locations(tree)
    code = compile(tree, TESTS_FILE, "exec", dont_inherit=True, optimize=0)
    return kind, code, sources


def run_test_program(test: TestProgram, limits: SandboxLimits | None = None, *,
                     module_name: str = "solution", python: str | None = None) -> TestOutcome:
    """Run ``test`` in a fresh sandbox and collect its per-test outcome."""
    nonce = secrets.token_hex(12)
    payload = {
        "nonce": nonce,
        "module_name": module_name,
        "setup": test.setup,
        "program": test.program,
        "tests": test.tests,
        "kind": test.kind,
        "check_name": CHECK_NAME,
        "entry_point": test.entry_point,
    }
    execution = run_python(_harness_code(), limits=limits, program_globals={"PAYLOAD": payload},
                           channel=True, python=python)
    outcome = TestOutcome(num_tests=test.num_tests, execution=execution)
    for line in execution.channel:
        if not line.startswith(nonce):
            continue  # written by the program, not the harness
        event = _literal(line[len(nonce):])
        if isinstance(event, tuple) and event:
            _apply(outcome, event)
    return outcome


def _apply(outcome: TestOutcome, event: tuple) -> None:
    name = event[0]
    if name == "start":
        outcome.started = True
    elif name == "done":
        outcome.done = True
    elif name == "test" and len(event) == 3 and isinstance(event[1], int):
        if 0 <= event[1] < outcome.num_tests:
            outcome.results.setdefault(event[1], event[2])
    elif name in ("setup_error", "program_error", "tests_error", "check_error") and len(event) == 2:
        setattr(outcome, name, event[1])


def _literal(text: str) -> Any:
    if len(text) > 200_000:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _compile(source: str, filename: str) -> types.CodeType:
    return compile(source, filename, "exec", dont_inherit=True, optimize=0)


def _harness_code() -> types.CodeType:
    global _HARNESS_CODE
    if _HARNESS_CODE is None:
        source = Path(__file__).with_name("harness.py").read_text()
        _HARNESS_CODE = compile(source, "<prefgen-harness>", "exec", dont_inherit=True, optimize=0)
    return _HARNESS_CODE


def _counts_as_test(stmt: ast.stmt) -> bool:
    """A statement holding an assert (outside nested functions/classes); not ``assert True``."""
    if isinstance(stmt, ast.Assert):
        return not isinstance(stmt.test, ast.Constant)
    todo = [stmt]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Assert):
                return True
            todo.append(child)
    return False


def _report_outcome(stmt: ast.stmt, index: int) -> ast.stmt:
    """``try: <stmt> except BaseException as e: record(i, e) else: record(i, None)``."""
    def record(arg: ast.expr) -> ast.stmt:
        return ast.Expr(ast.Call(ast.Name(_RECORD, ast.Load()), [ast.Constant(index), arg], []))

    handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name="_prefgen_exc",
                                body=[record(ast.Name("_prefgen_exc", ast.Load()))])
    node = ast.Try(body=[stmt], handlers=[handler], orelse=[record(ast.Constant(None))], finalbody=[])
    return ast.copy_location(node, stmt)
