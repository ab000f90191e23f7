"""What people watch: a rich progress bar per stage (count, rate, ETA) and quiet mode for cron."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "-/s", style="progress.data.speed")


class StageTracker:
    """One bar per stage; a no-op when quiet."""

    def __init__(self, console: Console | None = None, quiet: bool = False):
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self._progress: Progress | None = None

    @contextmanager
    def live(self) -> Iterator[StageTracker]:
        if self.quiet:
            yield self
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        with self._progress:
            yield self
        self._progress = None

    def stage(self, name: str, total: int, done: int = 0) -> StageBar:
        task = self._progress.add_task(name, total=total, completed=done) if self._progress else None
        return StageBar(self._progress, task)

    def print(self, *args, **kwargs) -> None:
        if not self.quiet:
            self.console.print(*args, **kwargs)


class StageBar:
    def __init__(self, progress: Progress | None, task):
        self._progress, self._task = progress, task

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def update_total(self, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)
