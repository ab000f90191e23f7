"""A process sandbox for running generated (hostile) code, and a test harness on top of it.

- :func:`run_python` (``runner``): one program, one fresh confined process; limits, no network,
  private file system, whole process tree killed at the end.
- :func:`build_test_program` / :func:`run_test_program` (``testing``): a candidate program and its
  tests, with a per-test outcome read back from an authenticated channel.
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
