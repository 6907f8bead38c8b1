"""The progress bar of game-generating jobs (self-play, GNU Go games): rich, with games/hour,
time left, and a free text field a job fills with its running tallies (wins, moves, losses)."""

from __future__ import annotations

import threading

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class GamesPerHourColumn(ProgressColumn):
    def render(self, task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = 3600.0 * task.completed / elapsed if elapsed > 0 and task.completed else 0.0
        return Text(f"{rate:,.0f} games/h", style="progress.data.speed")


class GameProgress:
    """`with GameProgress(n, "gnugo games") as p: ... p.game_done("B 3 W 5")`; thread-safe."""

    def __init__(self, total: int, description: str, enabled: bool = True):
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            GamesPerHourColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            disable=not enabled,
        )
        self._task = self._progress.add_task(description, total=total, info="")
        self._lock = threading.Lock()

    def __enter__(self) -> GameProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def game_done(self, info: str | None = None) -> None:
        with self._lock:
            if info is None:
                self._progress.advance(self._task)
            else:
                self._progress.update(self._task, advance=1, info=info)
