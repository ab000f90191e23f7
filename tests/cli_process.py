"""`prefgen` in a fresh process, for tests that need a process of its own (its own Ray, a crash,
an exit code), with everything it started killed afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

SRC = str(Path(__file__).resolve().parents[1] / "src")


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def prefgen(args: list[str], env: dict[str, str] | None = None, prefix: list[str] = (), timeout: float = 900,
            cwd: Path | str | None = None):
    """Run ``prefgen ARGS`` (behind ``prefix``, e.g. nsenter) in ``cwd``; returns (exit code, output, seconds)."""
    import time

    full_env = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    started = time.monotonic()
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "prefgen.cli", *args],
        env=full_env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # a local Ray's processes share the group
        except ProcessLookupError:
            pass
    return process.returncode, output.decode(errors="replace"), time.monotonic() - started


def published_fingerprint(run_dir: Path) -> str:
    return json.loads((run_dir / "latest" / "version.json").read_text())["fingerprint"]


def run_log(run_dir: Path) -> str:
    """The text of every run log in the run directory."""
    return "".join(path.read_text() for path in sorted((run_dir / "logs").glob("run-*.log")))
