"""Engines that heal: a killed engine is replaced and its shards re-run, a killed scoring worker's
task is retried, and an engine that cannot start fails the run quickly with its own error.

Each run is `prefgen run` in a process of its own with its own local Ray, so the crash points
(``PREFGEN_CRASH_AT``, read by the Ray workers it starts) reach the engine and scoring workers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cli_process import prefgen, published_fingerprint, run_log, write_config
from conftest import SMALL_ENGINE, fox_config


def _config(tmp_path: Path, model: Path, out: str, engine: dict | None = None) -> Path:
    """conftest's 24 fox prompts on the tiny model, published under ``tmp_path/out/out/test``."""
    return write_config(tmp_path / f"{out}.yaml", fox_config(tmp_path / out, model, engine))


def _processes_with(marker: str) -> list[int]:
    """Pids of live processes whose environment contains ``marker`` (strays of a run)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_killed_engine_and_scoring_worker_heal_to_the_same_dataset(tmp_path, tiny_model, fox_reference):
    # 24 prompts in 3 shards on one engine: the engine dies holding shard 2 (computed, not
    # returned) with shard 3 queued; the first scoring task's worker dies mid-task.
    markers = tmp_path / "crashed"
    markers.mkdir()
    crash_env = {"PREFGEN_CRASH_AT": "engine_generate:2,score_task", "PREFGEN_CRASH_ONCE": str(markers)}
    code, output, _ = prefgen(["run", str(_config(tmp_path, tiny_model, "killed")), "--quiet"], env=crash_env)
    assert code == 0, output

    assert sorted(p.name for p in markers.iterdir()) == ["engine_generate", "score_task"]  # both died
    log = run_log(tmp_path / "killed" / "out" / "test")
    assert "died" in log and "replacing it and re-queueing its shards" in log and "engine 0 replaced" in log
    assert published_fingerprint(tmp_path / "killed" / "out" / "test") == fox_reference  # an undisturbed run's
    deadline = time.monotonic() + 15  # SIGKILLed processes may take a moment to be gone
    while _processes_with(str(markers)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_with(str(markers)) == []  # no engine process outlived the run


@pytest.mark.slow
def test_engine_that_cannot_start_fails_fast_with_its_own_error(tmp_path, tiny_model):
    config = _config(tmp_path, tiny_model, "broken", engine={**SMALL_ENGINE, "extra": {"no_such_engine_option": 1}})

    code, output, seconds = prefgen(["run", str(config), "--quiet"], timeout=600)

    assert code == 1, output
    assert "failed to start after 2 tries" in output and "no_such_engine_option" in output
    assert seconds < 300  # bounded: two tries, no hang


# --- the parts, without engines ------------------------------------------------------------------
def test_engine_error_is_the_engines_own_last_error_line():
    from prefgen.executors.engine_pool import engine_error

    text = (
        "The actor died because of an error raised in its creation task, ray::EngineActor.__init__()\n"
        "  File \"vllm/engine/arg_utils.py\", line 10, in from_cli\n"
        "TypeError: EngineArgs.__init__() got an unexpected keyword argument 'no_such_engine_option'\n"
    )
    assert engine_error(RuntimeError(text)).startswith("TypeError: EngineArgs.__init__() got an unexpected")
    assert engine_error(RuntimeError("no error line here")) == "no error line here"


def test_crash_point_fires_once_across_processes_with_a_marker_dir(tmp_path):
    import subprocess
    import sys

    from cli_process import SRC

    env = {**os.environ, "PYTHONPATH": SRC, "PREFGEN_CRASH_AT": "other:1,score_task:2",
           "PREFGEN_CRASH_ONCE": str(tmp_path)}
    reach_twice = "from prefgen.faults import crash_point; crash_point('score_task'); crash_point('score_task')"
    first = subprocess.run([sys.executable, "-c", reach_twice], env=env, check=False)
    second = subprocess.run([sys.executable, "-c", reach_twice], env=env, check=False)
    assert first.returncode == -9  # SIGKILLed at the second reach
    assert second.returncode == 0  # the marker says it already fired
    assert (tmp_path / "score_task").exists() and not (tmp_path / "other").exists()
