"""``status.json``: what a run is doing, per stage, for ``prefgen status`` and for schedulers; and
reading a loop's rounds (their directories, metrics, which round's datasets ``latest`` shows)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
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


# --- reading a loop's directory (``rounds: N``) for ``prefgen status`` / ``inspect`` and the loop --


def round_dirs(root: str | Path) -> list[tuple[int, Path]]:
    """A loop's round directories, ``(k, root/rounds/round_k)`` in round order (empty: no loop)."""
    found = []
    for path in (Path(root) / "rounds").glob("round_*"):
        number = path.name[len("round_"):]
        if number.isdigit() and path.is_dir():
            found.append((int(number), path))
    return sorted(found)


def version_counts(version: Path | None) -> dict[str, Any]:
    """The ``counts`` a published version recorded in its ``version.json`` ({} if none)."""
    if version is None or not (version / "version.json").is_file():
        return {}
    try:
        return json.loads((version / "version.json").read_text()).get("counts", {})
    except (OSError, ValueError):
        return {}


def last_round_with_pairs(root: str | Path) -> tuple[int, Path] | None:
    """``(k, version dir)`` of the last round whose latest version has at least one pair.

    A later round is the newer policy's data (round N's pairs are what round N+1 would train
    on), so it wins; a round that paired nothing is skipped for the one before it. None when no
    round has published pairs.
    """
    for k, path in reversed(round_dirs(root)):
        version = RunDir(path).latest_version()
        if version is not None and version.is_dir() and version_counts(version).get("pairs", 0) > 0:
            return k, version
    return None


def loop_metrics(root: str | Path) -> dict[int, dict[str, Any]]:
    """``metrics.jsonl`` of a loop, by round ({} if it has none yet)."""
    path = Path(root) / "metrics.jsonl"
    if not path.is_file():
        return {}
    entries = {}
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
            entries[int(entry["round"])] = entry
        except (ValueError, KeyError, TypeError):
            continue  # a line a newer prefgen wrote differently: the others still show
    return entries
