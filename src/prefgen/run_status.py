"""``status.json``: what a run is doing, per stage, for ``prefgen status`` and for schedulers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefgen.rundir import RunDir


class RunStatus:
    """Owns a run's status record; every change is written at once (atomically)."""

    def __init__(self, run_dir: RunDir, pipeline: str):
        self.run_dir = run_dir
        self.record: dict[str, Any] = {"pipeline": pipeline, "stages": {}, "started": datetime.now().isoformat()}

    def set(self, key: str, value: Any) -> None:
        self.record[key] = value
        self.record["updated"] = datetime.now().isoformat(timespec="seconds")
        self.run_dir.write_status(self.record)

    def failed(self, exc: BaseException) -> None:
        self.set("state", "failed")
        self.set("last_error", f"{type(exc).__name__}: {exc}"[:1000])

    def stage(self, stage: str, total: int, done: int) -> None:
        entry = self.record["stages"].setdefault(stage, {"failed": 0, "last_error": None})
        entry.update(total=total, done=done)
        self.set("stages", self.record["stages"])

    def advance(self, stage: str, done: int, error: str | None = None) -> None:
        entry = self.record["stages"][stage]
        entry["done"] += done
        if error:
            entry["failed"] += 1
            entry["last_error"] = error
        self.set("stages", self.record["stages"])
