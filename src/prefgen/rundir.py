"""The run directory: checkpointed shards, the run lock, status, and published versions.

Layout under ``output.dir/<name>/``::

    work/generate/<key>.parquet   candidates of one shard of prompts
    work/score/<key>.parquet      the same candidates, scored
    versions/v0001/ ...           published datasets (pairs/, candidates/, README.md, version.json)
    latest -> versions/v0002      what readers open; swapped in one rename
    rejected_inputs.jsonl         rows of this run's inputs that could not be used, with reasons
    status.json                   per-stage counts, updated as shards finish
    logs/run-<time>.log           the log of each run

Every file that matters is written aside and renamed into place, so a killed run leaves either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

STAGES = ("generate", "score")


class RunLockedError(Exception):
    """Another process holds this run directory's lock."""


class OutputNotWritableError(Exception):
    """The output directory cannot be written (permissions, disk full)."""


class RunDir:
    """Paths and atomic operations of one pipeline's run directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # --- layout ---------------------------------------------------------------------------
    def stage_dir(self, stage: str) -> Path:
        return self.root / "work" / stage

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    @property
    def latest(self) -> Path:
        return self.root / "latest"

    @property
    def rejects_path(self) -> Path:
        return self.root / "rejected_inputs.jsonl"

    @property
    def status_path(self) -> Path:
        return self.root / "status.json"

    def prepare(self) -> None:
        """Create the directories, or fail clearly if the output cannot be written."""
        try:
            for stage in STAGES:
                self.stage_dir(stage).mkdir(parents=True, exist_ok=True)
            self.versions_dir.mkdir(exist_ok=True)
            (self.root / "logs").mkdir(exist_ok=True)
            probe = self.root / f".write-probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise OutputNotWritableError(f"output.dir: cannot write {self.root}: {exc.strerror or exc}") from exc

    # --- lock -----------------------------------------------------------------------------
    @contextmanager
    def lock(self, wait_seconds: float = 0) -> Iterator[None]:
        """Hold the run's lock; wait up to ``wait_seconds`` for another run to release it."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / ".lock", "a+")
        deadline = time.monotonic() + wait_seconds
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = (self.root / ".lock").read_text().strip() or "another process"
                        raise RunLockedError(
                            f"{self.root} is being refreshed by {holder}; try again later or pass --wait SECONDS"
                        ) from None
                    time.sleep(0.5)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            yield
        finally:
            handle.close()

    def is_locked(self) -> bool:
        """True while some process holds the lock (used by ``prefgen status``)."""
        path = self.root / ".lock"
        if not path.exists():
            return False
        with open(path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    # --- shards ---------------------------------------------------------------------------
    def shard_path(self, stage: str, key: str) -> Path:
        return self.stage_dir(stage) / f"{key}.parquet"

    def has_shard(self, stage: str, key: str) -> bool:
        return self.shard_path(stage, key).exists()

    def shard_keys(self, stage: str) -> list[str]:
        return sorted(p.stem for p in self.stage_dir(stage).glob("*.parquet"))

    def write_shard(self, stage: str, key: str, rows: list[dict[str, Any]]) -> None:
        """Write rows as one Parquet file, atomically."""
        path = self.shard_path(stage, key)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            pq.write_table(pa.Table.from_pylist(rows), tmp)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _output_error(exc, path) from exc

    def read_shard(self, stage: str, key: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
        return pq.read_table(self.shard_path(stage, key), columns=columns).to_pylist()

    # --- status ---------------------------------------------------------------------------
    def write_status(self, status: dict[str, Any]) -> None:
        write_json_atomic(self.status_path, status)

    def read_status(self) -> dict[str, Any] | None:
        if not self.status_path.exists():
            return None
        return json.loads(self.status_path.read_text())

    # --- versions -------------------------------------------------------------------------
    def version_dirs(self) -> list[Path]:
        return sorted(p for p in self.versions_dir.glob("v[0-9]*") if p.is_dir())

    def latest_version(self) -> Path | None:
        if not self.latest.is_symlink():
            return None
        return (self.root / os.readlink(self.latest)).resolve()

    def new_staging_dir(self) -> Path:
        path = self.versions_dir / f".staging-{uuid.uuid4().hex}"
        path.mkdir(parents=True)
        return path

    def remove_stale_staging(self) -> int:
        """Remove what killed runs left half-written (call under the lock)."""
        stale = list(self.versions_dir.glob(".staging-*"))
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        for tmp in self.root.glob("work/*/.*.tmp"):
            tmp.unlink(missing_ok=True)
        return len(stale)

    def next_version_name(self) -> str:
        numbers = [int(p.name[1:]) for p in self.version_dirs() if p.name[1:].isdigit()]
        return f"v{max(numbers, default=0) + 1:04d}"

    def commit_version(self, staging: Path, name: str) -> Path:
        """Move a finished staging directory into place and point ``latest`` at it."""
        from prefgen.faults import crash_point

        final = self.versions_dir / name
        os.replace(staging, final)
        crash_point("publish_commit")
        self.point_latest(final)
        return final

    def point_latest(self, version: Path) -> None:
        """Swap the ``latest`` symlink in one rename: readers see the old or the new target."""
        tmp = self.root / f".latest-{uuid.uuid4().hex}"
        os.symlink(os.path.relpath(version, self.root), tmp)
        os.replace(tmp, self.latest)

    def prune_versions(self, keep: int) -> list[str]:
        """Delete the oldest versions beyond ``keep``; never the one ``latest`` points to."""
        current = self.latest_version()
        versions = self.version_dirs()
        removed = []
        for path in versions[: max(0, len(versions) - keep)]:
            if current is not None and path.resolve() == current:
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        return removed


def write_text_atomic(path: Path, text: str) -> None:
    """Write text aside and rename into place: a reader sees the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _output_error(exc, path) from exc


def write_json_atomic(path: Path, value: Any) -> None:
    """Write JSON aside and rename into place."""
    write_text_atomic(path, json.dumps(value, indent=2, sort_keys=True, default=str))


def _output_error(exc: OSError, path: Path) -> OutputNotWritableError:
    if exc.errno == errno.ENOSPC:
        return OutputNotWritableError(f"output.dir: disk full while writing {path}")
    return OutputNotWritableError(f"output.dir: cannot write {path}: {exc.strerror or exc}")
