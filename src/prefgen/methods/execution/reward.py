"""The ``execution`` reward: run generated code against tests in the sandbox (LeTI-style).

Each candidate's code runs with its problem's tests in a fresh sandbox (:mod:`prefgen.sandbox`):
the tests in a trusted process, the candidate's program in another, with only plain values
crossing between them, so that a program gets credit only for comparisons that hold on real values
(threat model: ``prefgen/sandbox/README.md``). Score = fraction of tests passed (with
``partial_credit: false``, LeTI's success: 1.0 when every test passes, else 0.0);
``details["passed"]`` is true only when every test ran and succeeded (a program that exits before
its tests run has not passed). ``reason`` is one of ``passed``, ``failed`` (an assert failed),
``error`` (an exception, or the program ended before its tests did), ``syntax``, ``no_code``,
``too_long`` (the completion is longer than ``max_chars``, 100,000 characters by default: it
scores 0 without being parsed or run), ``timeout``, ``memory``, ``killed`` (output limit or a
signal); candidates of a broken problem get score ``None`` and reason ``broken_problem``.

``details["feedback"]`` is LeTI's textual feedback in short: the failing test and the traceback
trimmed to the generated code's frames, with line numbers re-aligned to the completion
(``File "<completion>", line 3``). The same text is what :meth:`ExecutionReward.extra_datasets`
puts between ``<|lang_feedback|>`` and ``<|/lang_feedback|>`` in the ``leti`` dataset.

Task format (``Prompt.task``), as written by ``builtin:humaneval`` and expected in a jsonl of your
own problems (one ``{"prompt": ..., "task": {...}}`` object per line)::

    tests               list of statements, usually assert lines, one test each
                        ("assert add(1, 2) == 3"), or test code as one string: either
                        HumanEval-style, defining check(candidate) (each top-level statement
                        of check holding an assert is one test), or plain module code whose
                        top-level assert-bearing statements are the tests. Required.
    entry_point         the function passed to check(candidate); required with check-style tests.
    setup               code run before the program (imports, fixtures). Optional.
    format              "completion": the completion continues the prompt (HumanEval), the
                        program is prompt + completion; "full" (default): the completion is the
                        whole program (MBPP, chat prompts).
    canonical_solution  a reference solution in the same format. Optional: when present, it is
                        run once per problem and a problem whose reference fails is reported
                        as broken instead of counting against the model.

Tests exchange only plain values with the program (None, bool, numbers, str, bytes, and lists,
tuples, dicts and sets of them): arguments are copies, and a result of another type fails its
test with a ``TypeError`` saying so. In completion format the prompt's own functions (other than
its stubs and the entry point) are the ones the tests call.

Code is taken from the completion's first fenced python block (```` ```python ````), else from
the raw text cut at LeTI's stop strings (``\\nclass``, ``\\nassert``, ``\\n\"\"\"``, ``\\nprint``,
``\\nif``). In ``completion`` format a fenced block that starts at column 0 (a rewritten function)
is appended after the prompt rather than joined to its last line.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from prefgen.records import Candidate, Prompt, Scored
from prefgen.rewards.base import Reward, RewardParams, RewardResult

LETI_STOP = ["\nclass", "\nassert", '\n"""', "\nprint", "\nif"]
FORMATS = ("completion", "full")
HARNESS_VERSION = 2  # 2: tests run apart from the candidate, values cross as plain data
# Fences are found line by line with patterns that cannot backtrack (each quantifier is followed
# by something it cannot match), so that finding code is linear in the answer's length. One
# pattern where ``[ \t]*`` and ``[^\n]*`` could both take the same spaces once took minutes
# over a fence followed by a megabyte of spaces.
_FENCE_LINE = re.compile(r"^[ \t]*```", re.MULTILINE)   # a line opening or closing a fence
_FENCE_LANGUAGE = re.compile(r"[ \t]*([\w+.-]*)")       # the language word after an opener
_PYTHON_FENCES = ("", "python", "py", "python3", "py3")
_MEMORY_SIGNS = ("MemoryError", "Cannot allocate memory", "out of memory", "std::bad_alloc")


class ExecutionParams(RewardParams):
    timeout_s: float = Field(5.0, gt=0, le=600, description="Wall-clock limit per execution, in seconds.")
    memory_mb: int = Field(1024, ge=64, le=65536, description="Address-space limit per process (MiB).")
    processes: int = Field(8, ge=1, le=1024, description="Processes and threads a sandbox may have.")
    disk_mb: int = Field(64, ge=1, le=4096, description="Size of the sandbox's private /sandbox and /tmp (MiB).")
    workers: int | None = Field(None, ge=1, le=256,
                                description="Executions run at once; default: twice the CPU count.")
    stop: list[str] = Field(default_factory=lambda: list(LETI_STOP),
                            description="Stop strings cutting raw (unfenced) completions (LeTI's).")
    check_canonical: bool = Field(True, description="Run each problem's canonical_solution once to detect broken problems.")
    partial_credit: bool = Field(True, description="Score the share of tests passed; false: 1.0 only when every "
                                                   "test passes, else 0.0 (LeTI's success), so a chosen program "
                                                   "is always a correct one.")
    feedback_chars: int = Field(600, ge=80, le=20000, description="Length cap of details['feedback'].")
    output_chars: int = Field(2000, ge=0, le=1_000_000, description="stdout / stderr kept in details, each.")
    python: str | None = Field(None, description="Interpreter for sandboxed programs (same Python version); "
                                                 "default: the base interpreter of the running one.")
    max_chars: int = Field(100_000, ge=1_000, le=10_000_000,
                           description="Longest completion looked at, in characters; a longer one scores 0 "
                                       "(reason too_long) before any parsing, and starts no sandbox.")


@dataclass
class Layout:
    """Where the candidate's code sits in the program, to map tracebacks back to the completion."""

    program: str
    code: str
    code_start: int      # line of the program on which the code starts (1-based)
    completion_line: int  # line of the completion on which the code starts (1-based)
    completion: str

    def locate(self, program_line: int) -> tuple[str, int, str]:
        """(file, line, text) of a program line: in the completion, or in the prompt."""
        program_lines = self.program.splitlines()
        text = program_lines[program_line - 1].strip() if 0 < program_line <= len(program_lines) else ""
        if program_line >= self.code_start:
            return "<completion>", program_line - self.code_start + self.completion_line, text
        return "<prompt>", program_line, text


class ExecutionReward(Reward):
    """Fraction of a problem's tests that the candidate's code passes, run in the sandbox."""

    name = "execution"
    Params = ExecutionParams

    def __init__(self, params: RewardParams | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        self._canonical: dict[str, RewardResult] = {}
        self._tests_cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Shipped to Ray workers: caches and the lock stay behind.
        state = dict(self.__dict__)
        state.update(_canonical={}, _tests_cache={}, _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # --- plug-in contract -----------------------------------------------------------------
    def setup(self) -> None:
        from prefgen.sandbox import isolation

        isolation(self.params.python)  # probe once, warn once if not isolated

    def task_problem(self, task: dict[str, Any], chat: bool = False) -> str | None:
        """Why a prompt's task cannot be scored (for readers to reject it), or None."""
        try:
            validate_task(task, chat=chat)
        except ValueError as exc:
            return str(exc)
        return None

    def worker_paths(self) -> dict[str, str]:
        from prefgen.sandbox.runner import default_python

        # The sandbox's interpreter, the default one included: a node may lack it.
        return {**super().worker_paths(), "python": self.params.python or default_python()}

    def check(self) -> list[str]:
        python = self.params.python
        if python and not os.access(python, os.X_OK):
            return [f"reward.python: {python!r} is not an executable interpreter"]
        return []

    def fingerprint(self) -> str:
        from prefgen.hashing import content_hash

        return content_hash({"base": super().fingerprint(), "harness": HARNESS_VERSION})

    def score_batch(self, items: Sequence[tuple[Prompt, Candidate]]) -> list[RewardResult]:
        from prefgen.sandbox import SandboxLimits

        limits = SandboxLimits(timeout_s=self.params.timeout_s, memory_mb=self.params.memory_mb,
                               processes=self.params.processes, disk_mb=self.params.disk_mb)
        workers = self.params.workers or 2 * (os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prefgen-exec") as pool:
            self._check_canonicals(pool, items, limits)
            # Each worker prepares (extracts, compiles) its candidate itself: preparing runs
            # beside other candidates' executions instead of before all of them.
            results = list(pool.map(lambda item: self._score_one(item[0], item[1].text, limits), items))
        return [r if r is not None else RewardResult(None, {}, "missing result") for r in results]

    def _check_canonicals(self, pool: ThreadPoolExecutor, items: Sequence[tuple[Prompt, Candidate]], limits) -> None:
        """Run the canonical solution of each problem in ``items`` that has one (and wants it)."""
        canonical_jobs: dict[str, tuple[Any, Layout]] = {}
        seen: set[str] = set()
        for prompt, _ in items:
            if not self._wants_canonical(prompt) or prompt.id in seen:
                continue
            seen.add(prompt.id)
            canon = self._prepare(prompt, prompt.task["canonical_solution"], raw=True)
            if isinstance(canon, RewardResult):
                self._canonical[prompt.id] = canon
            else:
                canonical_jobs[prompt.id] = canon
        ids = list(canonical_jobs)
        for pid, result in zip(ids, pool.map(lambda p: self._run(*canonical_jobs[p], limits, retry=True), ids)):
            self._canonical[pid] = result

    def _score_one(self, prompt: Prompt, text: str, limits) -> RewardResult:
        prepared = self._prepare(prompt, text)
        if isinstance(prepared, RewardResult):
            return prepared
        broken = self._broken(prompt)
        if broken is not None:
            return broken
        return self._run(*prepared, limits)

    def describe(self, scored: Sequence[Scored]) -> str:
        """Card section: pass rate, outcome counts and one example of feedback."""
        mine = [s for s in scored if s.reward == self.name]
        if not mine:
            return ""
        passed = sum(1 for s in mine if s.details.get("passed"))
        reasons = Counter(s.reason or "unscored" for s in mine)
        lines = ["### Execution feedback", "", f"Pass rate: {passed}/{len(mine)} ({passed / len(mine):.1%}).", ""]
        lines += ["| outcome | samples |", "| --- | --- |"] + [f"| {r} | {n} |" for r, n in reasons.most_common()]
        example = next((s.details["feedback"] for s in mine if not s.details.get("passed") and s.details.get("feedback")), None)
        if example:
            lines += ["", "Example feedback (kept in the rejected side's details):", "", "```text", example[:600], "```"]
        return "\n".join(lines)

    def extra_datasets(self, prompts: dict[str, Prompt], scored: Sequence[Scored]) -> dict[str, list[dict]]:
        """LeTI's feedback-conditioned training records, as the ``leti`` dataset."""
        rows = []
        for item in scored:
            if item.reward != self.name or item.score is None:
                continue
            prompt = prompts.get(item.prompt_id)
            if prompt is None:
                continue
            rows.append(leti_record(prompt, item))
        return {"leti": rows}

    # --- internals ------------------------------------------------------------------------
    def _wants_canonical(self, prompt: Prompt) -> bool:
        return self.params.check_canonical and isinstance(prompt.task.get("canonical_solution"), str)

    def _broken(self, prompt: Prompt) -> RewardResult | None:
        if not self._wants_canonical(prompt):
            return None
        canon = self._canonical.get(prompt.id)
        if canon is None or canon.details.get("passed"):
            return None
        return RewardResult(None, {"broken_problem": True, "canonical_reason": canon.reason,
                                   "canonical_feedback": canon.details.get("feedback", "")}, "broken_problem")

    def _tests(self, prompt: Prompt):
        """(CompiledTests, TrustedPrefix or None) of a prompt's problem, or the ProblemError."""
        from prefgen.sandbox.testing import ProblemError, compile_prefix

        with self._lock:
            if prompt.id not in self._tests_cache:
                try:
                    compiled = validate_task(prompt.task, chat=prompt.is_chat)
                    # The prompt a completion continues is the problem's own code: its helpers
                    # run beside the tests, out of the candidate's reach.
                    prefix = compile_prefix(prompt.prompt) if task_format(prompt) == "completion" else None
                    self._tests_cache[prompt.id] = (compiled, prefix)
                except (ProblemError, ValueError) as exc:
                    self._tests_cache[prompt.id] = exc
            return self._tests_cache[prompt.id]

    def _prepare(self, prompt: Prompt, text: str, raw: bool = False):
        """A (TestProgram, Layout) to run, or the RewardResult when there is nothing to run."""
        from prefgen.sandbox.testing import PROGRAM_FILE, TestProgram, compile_source

        tests = self._tests(prompt)
        if isinstance(tests, Exception):
            return RewardResult(None, {"broken_problem": True, "problem_error": str(tests)}, "broken_problem")
        compiled, prefix = tests
        if not raw and len(text) > self.params.max_chars:
            # Before any pattern, parser or sandbox sees it: every step below is then bounded.
            return RewardResult(0.0, {"passed": False, "tests_total": len(compiled.sources), "tests_passed": 0,
                                      "chars": len(text), "max_chars": self.params.max_chars,
                                      "feedback": f"The completion is too long to run ({len(text)} characters; "
                                                  f"the limit is {self.params.max_chars})."}, "too_long")
        task = prompt.task
        layout = build_layout(prompt, text, self.params.stop, raw=raw)
        if layout is None:
            return RewardResult(0.0, {"passed": False, "tests_total": len(compiled.sources), "tests_passed": 0,
                                      "feedback": "No code found in the completion."}, "no_code")
        try:
            program = compile_source(layout.program, PROGRAM_FILE)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
            feedback = _cap(syntax_feedback(exc, layout), self.params.feedback_chars)
            return RewardResult(0.0, {**_base_details(layout, len(compiled.sources)), "feedback": feedback,
                                      "exception": {"type": type(exc).__name__, "message": str(exc)[:500]}},
                                "syntax")
        setup = compile_source(task["setup"], "<setup>") if task.get("setup") else None
        return TestProgram(program, compiled.code, compiled.kind, compiled.sources, setup, task.get("entry_point"),
                           compiled.names, prefix), layout

    def _run(self, test, layout: Layout, limits, retry: bool = False) -> RewardResult:
        from prefgen.sandbox.testing import run_test_program

        outcome = run_test_program(test, limits, python=self.params.python)
        if retry and outcome.execution.timed_out:
            # A reference solution that times out may only have met a loaded machine: once more.
            outcome = run_test_program(test, limits, python=self.params.python)
        return interpret(outcome, layout, test.test_sources, limits, self.params)


# --- code extraction and program layout ------------------------------------------------------

def extract_code(completion: str, stop: Sequence[str] = LETI_STOP) -> tuple[str, int, bool] | None:
    """(code, first line in the completion (1-based), fenced) or None when there is no code.

    The first fenced python block wins; without one the raw text is cut at the earliest stop
    string. Linear in the completion's length.
    """
    for language, start, end in _fenced_blocks(completion):
        if language.lower() in _PYTHON_FENCES:
            code = completion[start:end]
            if not code.strip():
                continue
            return code, completion.count("\n", 0, start) + 1, True
    cut = len(completion)
    for s in stop:
        if s:
            pos = completion.find(s)
            if pos != -1:
                cut = min(cut, pos)
    code = completion[:cut]
    if not code.strip():
        return None
    return code, 1, False


def _fenced_blocks(text: str):
    """(language, start, end) of each fenced block's code, in order.

    A block opens on a line starting (after spaces or tabs) with three backticks and ending
    with a newline; it closes on the next line that holds only three backticks (and spaces or
    tabs), or at the end of the text. Each fence line is looked at once or twice.
    """
    fences = _FENCE_LINE.finditer(text)
    for opener in fences:
        line_end = text.find("\n", opener.end())
        if line_end == -1:
            return  # a fence on the last line opens nothing
        language = _FENCE_LANGUAGE.match(text, opener.end()).group(1)
        start = line_end + 1
        end = len(text)
        for closer in fences:  # the same iterator: after this block, openers are looked for after it
            close_end = text.find("\n", closer.end())
            rest = text[closer.end():close_end if close_end != -1 else len(text)]
            if not rest.strip(" \t"):
                end = closer.start()
                break
        yield language, start, end
        if end == len(text):
            return


def build_layout(prompt: Prompt, text: str, stop: Sequence[str] = LETI_STOP, raw: bool = False) -> Layout | None:
    """The program to run for ``text`` (a completion, or with ``raw`` a reference solution)."""
    extracted = (text, 1, False) if raw else extract_code(text, stop)
    if extracted is None or not extracted[0].strip():
        return None
    code, completion_line, fenced = extracted
    if task_format(prompt) == "completion":
        prefix = prompt.prompt
        if fenced and code[:1] not in (" ", "\t") and prefix and not prefix.endswith("\n"):
            prefix += "\n"
    else:
        prefix = ""
    return Layout(prefix + code, code, prefix.count("\n") + 1, completion_line, text)


def task_format(prompt: Prompt) -> str:
    fmt = prompt.task.get("format") or "full"
    return "full" if prompt.is_chat else fmt


def validate_task(task: dict[str, Any], chat: bool = False):
    """Raise ``ValueError`` with the reason when a task cannot be scored by this reward.

    Returns the compiled tests (a :class:`~prefgen.sandbox.testing.CompiledTests`).

    Readers call it on each input row (``validate_task(row["task"])``) so that a problem without
    usable tests is rejected at read time rather than at scoring time.
    """
    from prefgen.sandbox.testing import compile_tests

    if not isinstance(task, dict):
        raise ValueError("task must be an object with 'tests'")  # noqa: TRY004 - readers catch ValueError
    tests = task.get("tests")
    if tests is None or (isinstance(tests, (str, list)) and not tests):
        raise ValueError("task has no tests")
    if not isinstance(tests, (str, list)) or (isinstance(tests, list) and not all(isinstance(t, str) for t in tests)):
        raise ValueError("task.tests must be a list of strings or a string of test code")
    fmt = task.get("format", "full")
    if fmt not in FORMATS:
        raise ValueError(f"task.format must be one of {FORMATS}, not {fmt!r}")
    if fmt == "completion" and chat:
        raise ValueError("task.format 'completion' needs a plain-text prompt, not chat messages")
    for key in ("entry_point", "setup", "canonical_solution"):
        if task.get(key) is not None and not isinstance(task[key], str):
            raise ValueError(f"task.{key} must be a string")
    if task.get("setup"):
        try:
            compile(task["setup"], "<setup>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise ValueError(f"task.setup does not compile: {exc}") from exc
    return compile_tests(tests, task.get("entry_point"))  # ProblemError is a ValueError


# --- outcome -> reward -------------------------------------------------------------------

def interpret(outcome, layout: Layout, test_sources: list[str], limits, params: ExecutionParams) -> RewardResult:
    """Score, reason and details (with LeTI feedback) of one run."""
    ex = outcome.execution
    details = _base_details(layout, outcome.num_tests)
    if ex.setup_error:
        details["sandbox_error"] = ex.setup_error
        return RewardResult(None, details, "sandbox_error")
    failures = sorted((i, exc) for i, exc in outcome.results.items() if exc is not None)
    stage_error = next(((stage, exc) for stage in ("setup_error", "program_error", "tests_error", "check_error")
                        if (exc := getattr(outcome, stage)) is not None), None)
    recorded = [exc for _, exc in failures] + ([stage_error[1]] if stage_error else [])
    memory = any(_is_exc(e) and e[0] == "MemoryError" for e in recorded) or (
        not outcome.done and any(sign in ex.stderr for sign in _MEMORY_SIGNS))
    if outcome.passed:
        reason = "passed"
    elif not outcome.done:
        if ex.timed_out:
            reason = "timeout"
        elif memory:
            reason = "memory"
        elif ex.killed == "output_limit" or ex.signal is not None:
            reason = "killed"
        else:
            reason = "error"
    elif memory:
        reason = "memory"
    elif stage_error or any(_is_exc(e) and e[0] != "AssertionError" for _, e in failures):
        reason = "error"
    else:
        reason = "failed"
    first_failure = failures[0] if failures else None
    feedback, traceback_text, exception = _feedback(reason, outcome, first_failure, stage_error, layout,
                                                    test_sources, limits)
    details.update({
        "passed": outcome.passed,
        "tests_passed": outcome.num_passed,
        "tests": [{"ok": outcome.results.get(i, "missing") is None,
                   "error": _exc_name(outcome.results.get(i, "not run"))} for i in range(min(outcome.num_tests, 200))],
        "exception": exception,
        "traceback": traceback_text,
        "feedback": _cap(feedback, params.feedback_chars),
        "stdout": ex.stdout[:params.output_chars],
        "stderr": ex.stderr[:params.output_chars],
        "output_bytes": ex.stdout_bytes + ex.stderr_bytes,
        "duration_s": ex.duration_s,
        "cpu_s": ex.cpu_s,
        "killed": ex.killed,
        "signal": ex.signal,
        "sandbox": {k: ex.isolation[k] for k in ("mode", "network") if k in ex.isolation},
    })
    if params.partial_credit:
        score = outcome.num_passed / outcome.num_tests if outcome.num_tests else 0.0
    else:
        score = 1.0 if outcome.passed else 0.0
    return RewardResult(score, details, reason)


def _feedback(reason, outcome, first_failure, stage_error, layout, test_sources, limits):
    """(feedback, traceback text or None, {"type", "message"} or None)."""
    ex = outcome.execution
    if reason == "passed":
        return "", None, None
    if reason == "timeout":
        running = next((i for i in range(outcome.num_tests) if i not in outcome.results), None)
        where = f" during test: {test_sources[running]}" if running is not None and outcome.started else ""
        what = "CPU time" if ex.killed == "cpu_time" else "time"
        return (f"Timeout: the program exceeded its {what} limit ({limits.timeout_s:g} s){where}",
                None, {"type": "Timeout", "message": ""})
    if reason == "killed" and ex.killed == "output_limit":
        return (f"Killed: the program wrote more than {limits.output_limit_bytes} bytes of output",
                None, {"type": "OutputLimit", "message": ""})
    exc, header = None, ""
    if stage_error is not None:
        stage, exc = stage_error
        header = {"setup_error": "Error in the problem's setup code",
                  "program_error": "Error while running the program",
                  "tests_error": "Error in the test code",
                  "check_error": "Error in check()"}[stage]
    elif first_failure is not None:
        index, exc = first_failure
        header = f"Test failed: {test_sources[index]}" if index < len(test_sources) else "Test failed"
    if _is_exc(exc):
        tb = format_traceback(exc, layout)
        return header + "\n" + tb, tb, {"type": exc[0], "message": exc[1][:500]}
    if reason == "memory":
        return (f"MemoryError: the program exceeded its memory limit ({limits.memory_mb} MiB)", None,
                {"type": "MemoryError", "message": ""})
    if reason == "killed":
        return f"Killed by signal {ex.signal}", None, {"type": "Killed", "message": f"signal {ex.signal}"}
    status = f"status {ex.exit_code}" if ex.exit_code is not None else f"signal {ex.signal}"
    return (f"The program exited ({status}) before its tests finished", None,
            {"type": "EarlyExit", "message": status})


def format_traceback(exc, layout: Layout, max_frames: int = 6) -> str:
    """The traceback trimmed to the candidate's frames, re-aligned to the completion's lines."""
    name, message, frames = exc
    lines = []
    kept = [(f, n, fn) for f, n, fn in frames if f == "<program>"]
    if kept:
        lines.append("Traceback (most recent call last):")
        if len(kept) > max_frames:
            lines.append(f"  [... {len(kept) - max_frames} more frames]")
            kept = kept[-max_frames:]
        for _, line, function in kept:
            file, where, text = layout.locate(line)
            lines.append(f'  File "{file}", line {where}, in {function}')
            if text:
                lines.append(f"    {text}")
    lines.append(f"{name}: {message}" if message else name)
    return "\n".join(lines)


def syntax_feedback(exc: BaseException, layout: Layout) -> str:
    if isinstance(exc, SyntaxError) and exc.lineno:
        file, line, text = layout.locate(exc.lineno)
        return f'  File "{file}", line {line}\n    {text}\nSyntaxError: {exc.msg}'
    return f"SyntaxError: {type(exc).__name__}: {str(exc)[:300]}"


def leti_record(prompt: Prompt, item: Scored) -> dict[str, Any]:
    """One LeTI training record: ``<|good|>``/``<|bad|>``, feedback for failures, problem + solution."""
    details = item.details or {}
    good = bool(details.get("passed"))
    problem = prompt.prompt if isinstance(prompt.prompt, str) else _last_user_message(prompt.prompt)
    code = details.get("code") or item.text
    if task_format(prompt) == "completion":
        solution_text = code
        joined = problem + code
    else:
        solution_text = code
        joined = problem + ("\n" if problem and not problem.endswith("\n") else "") + code
    feedback = "" if good else f"<|lang_feedback|>{details.get('feedback', '')}<|/lang_feedback|>"
    return {
        "prompt_id": item.prompt_id,
        "candidate_id": item.id,
        "good": good,
        "reason": item.reason,
        "feedback": "" if good else details.get("feedback", ""),
        "prompt": problem,
        "completion": solution_text,
        "text": ("<|good|>" if good else "<|bad|>") + feedback + joined,
    }


def _last_user_message(messages) -> str:
    for message in reversed(messages):
        role = message.role if hasattr(message, "role") else message.get("role")
        if role == "user":
            return message.content if hasattr(message, "content") else message.get("content", "")
    return ""


def _base_details(layout: Layout, num_tests: int) -> dict[str, Any]:
    return {"passed": False, "tests_total": num_tests, "tests_passed": 0, "code": layout.code,
            "code_line": layout.completion_line}


def _is_exc(exc: Any) -> bool:
    return isinstance(exc, tuple) and len(exc) == 3 and isinstance(exc[0], str) and isinstance(exc[1], str) \
        and isinstance(exc[2], list)


def _exc_name(exc: Any) -> str | None:
    if exc is None:
        return None
    return exc[0] if _is_exc(exc) else str(exc)


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + "\n[...]\n" + text[-(limit - head - 7):]
