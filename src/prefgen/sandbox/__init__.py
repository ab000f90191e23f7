"""A process sandbox for running generated (hostile) code, and a test harness on top of it.

- :func:`run_python` (``runner``): one program, one fresh confined process; limits, no network,
  private file system, whole process tree killed at the end.
- :func:`build_test_program` / :func:`run_test_program` (``testing``): a candidate program and its
  tests, run in separate processes of one sandbox; the tests judge only plain values
  (``plaindata``), and results come from a channel the candidate never holds.

The threat model (what is defended, what is not) is in ``README.md`` beside this file.
"""

from prefgen.sandbox.runner import ExecutionResult, SandboxLimits, isolation, run_python
from prefgen.sandbox.testing import (
           ProblemError,
           TestOutcome,
           TestProgram,
           build_test_program,
           run_test_program,
)

__all__ = ["ExecutionResult", "ProblemError", "SandboxLimits", "TestOutcome", "TestProgram",
           "build_test_program", "isolation", "run_python", "run_test_program"]
