"""Run a program against its tests in the sandbox and say, test by test, what happened.

:func:`build_test_program` compiles everything here, in the parent (a syntax error costs no
sandbox, and asserts can never be optimised away: ``optimize=0``); :func:`run_test_program`
ships the code objects to :mod:`prefgen.sandbox.harness` inside :func:`run_python` and reads
its event stream back into a :class:`TestOutcome`. The harness runs the tests in a process of
its own and the candidate's program in another; only plain data crosses between them (see
``README.md`` beside this file for the threat model).

Tests are either a list of statements (usually ``assert`` lines, one test each), or test code
(a string). Test code that defines ``check`` is HumanEval-style: ``check(<entry point>)`` is
called, and each top-level statement of ``check`` that contains an ``assert`` counts as one test,
run on its own so that one failure does not hide the others. Other test code is treated the same
way at module level: each top-level statement holding an assert is a test. In every assert,
``a == b`` is :func:`~prefgen.sandbox.plaindata.strict_equal` (a bool never equals a number).

A trusted ``prefix`` (HumanEval's prompt: helper functions and the stub to complete) runs beside
the tests, so that tests use the problem's helpers, not the candidate's redefinitions of them;
its stubs (functions whose body is only a docstring or ``pass``) and the entry point are always
taken from the candidate.
"""

from __future__ import annotations

import ast
import marshal
import threading
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefgen.sandbox.runner import ExecutionResult, SandboxLimits, run_python

PROGRAM_FILE, SETUP_FILE, TESTS_FILE, PREFIX_FILE = "<program>", "<setup>", "<tests>", "<prompt>"
CHECK_NAME = "check"
_RECORD = "_prefgen_record"
_EQUAL = "_prefgen_eq"
_SANDBOX_DIR = Path(__file__).resolve().parent
# Built on first use, complete, under the lock, then published in one assignment: the reward's
# threads call _shipped_code at once and must never see it half filled.
_SHIPPED: dict[str, types.CodeType] | None = None
_SHIPPED_LOCK = threading.Lock()


class ProblemError(ValueError):
    """The problem itself (tests or setup) is unusable: not the candidate's fault."""


@dataclass
class CompiledTests:
    """A problem's tests, compiled: how they run, what they count, which global names they read."""

    kind: str                       # asserts | module | check | check_whole
    code: list[types.CodeType] | types.CodeType
    sources: list[str]              # the source of each counted test, for feedback
    names: list[str]                # global names the tests read (some come from the program)


@dataclass
class TrustedPrefix:
    """The problem's own code before the candidate's (a HumanEval prompt), run beside the tests."""

    code: types.CodeType | None     # None when it does not compile on its own
    stubs: list[str] = field(default_factory=list)  # functions left for the candidate to write


@dataclass
class TestProgram:
    """Compiled pieces of one run: what the harness needs, and what explains its results."""

    program: types.CodeType
    tests: list[types.CodeType] | types.CodeType
    kind: str                       # asserts | module | check | check_whole
    test_sources: list[str]         # the source of each counted test, for feedback
    setup: types.CodeType | None = None
    entry_point: str | None = None
    test_names: list[str] = field(default_factory=list)
    prefix: TrustedPrefix | None = None

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
                       entry_point: str | None = None, prefix: str | None = None) -> TestProgram:
    """Compile a candidate program and its tests (``prefix``: the problem's trusted code).

    Raises ``SyntaxError`` (or ``ValueError`` for NUL bytes) for a program that does not
    compile, and :class:`ProblemError` for tests or setup that cannot run.
    """
    program_code = compile_source(program, PROGRAM_FILE)
    setup_code = None
    if setup:
        try:
            setup_code = compile_source(setup, SETUP_FILE)
        except (SyntaxError, ValueError) as exc:
            raise ProblemError(f"setup code does not compile: {exc}") from exc
    compiled = compile_tests(tests, entry_point)
    return TestProgram(program_code, compiled.code, compiled.kind, compiled.sources, setup_code,
                       entry_point, compiled.names, compile_prefix(prefix) if prefix else None)


def compile_prefix(source: str) -> TrustedPrefix:
    """The trusted prefix's code and stubs; code None if it does not compile on its own."""
    try:
        tree = ast.parse(source, PREFIX_FILE)
        code = compile(tree, PREFIX_FILE, "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return TrustedPrefix(None)
    stubs = [node.name for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_stub(node)]
    return TrustedPrefix(code, stubs)


def compile_tests(tests: list[str] | str, entry_point: str | None) -> CompiledTests:
    """The tests, compiled with ``==`` made strict in asserts; ProblemError if unusable."""
    if isinstance(tests, list):
        tests = [t for t in tests if isinstance(t, str) and t.strip()]
        if not tests:
            raise ProblemError("no tests")
        codes, names = [], set()
        for i, source in enumerate(tests):
            try:
                tree = ast.parse(source, f"<test {i}>")
                names |= _global_names(tree)
                codes.append(_compile_tree(_StrictEquality().visit(tree), f"<test {i}>"))
            except (SyntaxError, ValueError) as exc:
                raise ProblemError(f"test {i} does not compile: {exc}") from exc
        return CompiledTests("asserts", codes, tests, sorted(names))
    if not isinstance(tests, str) or not tests.strip():
        raise ProblemError("no tests")
    try:
        tree = ast.parse(tests, TESTS_FILE)
    except (SyntaxError, ValueError) as exc:
        raise ProblemError(f"tests do not compile: {exc}") from exc
    return _compile_test_code(tree, tests.splitlines(), entry_point)


def _compile_test_code(tree: ast.Module, lines: list[str], entry_point: str | None) -> CompiledTests:
    check = next((n for n in reversed(tree.body) if isinstance(n, ast.FunctionDef) and n.name == CHECK_NAME), None)
    if check is not None:
        if not entry_point:
            raise ProblemError("tests define check(candidate) but the task has no entry_point")
        body_owner, kind = check, "check"
    else:
        body_owner, kind = tree, "module"
    names = _global_names(tree) | ({entry_point} if entry_point else set())
    tree = _StrictEquality().visit(tree)
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
    return CompiledTests(kind, _compile_tree(tree, TESTS_FILE), sources, sorted(names))


def run_test_program(test: TestProgram, limits: SandboxLimits | None = None, *,
                     module_name: str = "solution", python: str | None = None) -> TestOutcome:
    """Run ``test`` in a fresh sandbox and collect its per-test outcome."""
    shipped = _shipped_code()
    public = {"module_name": module_name, "setup": test.setup, "program": test.program}
    prefix = test.prefix or TrustedPrefix(None)
    private = {"module_name": module_name, "setup": test.setup, "prefix": prefix.code,
               "tests": test.tests, "kind": test.kind, "check_name": CHECK_NAME,
               "entry_point": test.entry_point, "test_names": test.test_names,
               "remote_names": sorted(set(prefix.stubs) | ({test.entry_point} if test.entry_point else set()))}
    # The harness, codec and candidate server are the same in every run: the fork server keeps them.
    shared = {"PREFGEN_HARNESS": shipped["harness"], "PREFGEN_CODEC": shipped["plaindata"],
              "PREFGEN_CANDIDATE": shipped["candidate"]}
    execution = run_python(shipped["harness"], limits=limits, program_globals={"PAYLOAD": public},
                           channel=True, private_input=marshal.dumps(private), shared_code=shared,
                           python=python)
    outcome = TestOutcome(num_tests=test.num_tests, execution=execution)
    for line in execution.channel:
        event = _literal(line)
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


def compile_source(source: str, filename: str) -> types.CodeType:
    """``source`` compiled for the sandbox, with none of the compiling module's future flags."""
    return compile(source, filename, "exec", dont_inherit=True, optimize=0)


def _compile_tree(tree: ast.Module, filename: str) -> types.CodeType:
    # Every node added here carries its statement's location (_at): no pass over the tree needed.
    return compile(tree, filename, "exec", dont_inherit=True, optimize=0)


def _at(node: ast.AST, like: ast.AST) -> ast.AST:
    """``node`` placed where ``like`` is (line and column, start and end)."""
    return ast.copy_location(node, like)


def _shipped_code() -> dict[str, types.CodeType]:
    """The harness, the candidate's server and the plain-data codec, compiled once (thread-safe)."""
    global _SHIPPED
    shipped = _SHIPPED
    if shipped is None:
        with _SHIPPED_LOCK:
            if _SHIPPED is None:
                built = {}
                for name in ("harness", "candidate", "plaindata"):
                    source = (_SANDBOX_DIR / f"{name}.py").read_text()
                    built[name] = compile(source, f"<prefgen-{name}>", "exec", dont_inherit=True, optimize=0)
                _SHIPPED = built
            shipped = _SHIPPED
    return shipped


def _is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function with nothing but a docstring, ``pass`` or ``...`` in its body."""
    return all(isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
               for stmt in node.body)


def _global_names(tree: ast.AST) -> set[str]:
    """Every name read anywhere in ``tree`` (a superset of the globals it reads)."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


class _StrictEquality(ast.NodeTransformer):
    """In assert statements, ``a == b`` becomes ``_prefgen_eq(a, b)`` (see plaindata.strict_equal)."""

    def visit_Assert(self, node: ast.Assert) -> ast.Assert:
        node.test = _EqualityRewriter().visit(node.test)
        return node


class _EqualityRewriter(ast.NodeTransformer):
    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq):
            return node  # chains and other operators keep Python's semantics
        return _at(ast.Call(_at(ast.Name(_EQUAL, ast.Load()), node), [node.left, node.comparators[0]], []), node)

    def visit_Lambda(self, node: ast.Lambda) -> ast.Lambda:
        return node  # a function body is not the assert's comparison


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
    def name(identifier: str) -> ast.Name:
        return _at(ast.Name(identifier, ast.Load()), stmt)

    def record(arg: ast.expr) -> ast.stmt:
        call = _at(ast.Call(name(_RECORD), [_at(ast.Constant(index), stmt), arg], []), stmt)
        return _at(ast.Expr(call), stmt)

    handler = _at(ast.ExceptHandler(type=name("BaseException"), name="_prefgen_exc",
                                    body=[record(name("_prefgen_exc"))]), stmt)
    return _at(ast.Try(body=[stmt], handlers=[handler], orelse=[record(_at(ast.Constant(None), stmt))],
                       finalbody=[]), stmt)
