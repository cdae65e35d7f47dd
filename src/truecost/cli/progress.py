"""Progress on stderr for the CLI: a rich bar (done/total, rate, ETA, errors so far) when stderr
is a terminal, plain lines otherwise (at most one every ``LINE_EVERY_S`` per task, plus the
last), nothing with ``--quiet``. stdout is never touched, so ``--json`` stays clean."""

from __future__ import annotations

import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TaskID, TextColumn
from rich.progress import TimeElapsedColumn, TimeRemainingColumn

from ..progress import Progress, Task
from .output import err_console

__all__ = ["LINE_EVERY_S", "cli_progress"]

LINE_EVERY_S = 5.0  # plain-line mode: how often a running task reports


class _BarTask(Task):
    def __init__(self, owner: _Bars, label: str, total: float | None) -> None:
        super().__init__(label, total)
        self.owner = owner
        self.id: TaskID = owner.rich.add_task(label, total=total, errors="")

    def _changed(self) -> None:
        self.owner.rich.update(self.id, completed=self.done, total=self.total,
                               errors=f"{self.errors} errors" if self.errors else "")

    def _closed(self) -> None:
        self._changed()
        self.owner.rich.stop_task(self.id)


class _Bars(Progress):
    def __init__(self) -> None:
        # labels may hold names from user files: text, never markup
        self.rich = RichProgress(TextColumn("{task.description}", markup=False), BarColumn(),
                                 MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(),
                                 TextColumn("{task.fields[errors]}", markup=False),
                                 console=err_console,
                                 transient=False)
        self.started = False

    def task(self, label: str, total: float | None = None) -> Task:
        if not self.started:
            self.rich.start()
            self.started = True
        return _BarTask(self, label, total)

    def note(self, text: str) -> None:
        self.rich.console.print(text, markup=False, highlight=False)

    def stop(self) -> None:
        if self.started:
            self.rich.stop()


class _LineTask(Task):
    def __init__(self, label: str, total: float | None) -> None:
        super().__init__(label, total)
        self.t0 = self.last = time.monotonic()

    def _line(self) -> str:
        total = f"/{self.total:g}" if self.total is not None else ""
        elapsed = max(time.monotonic() - self.t0, 1e-9)
        errs = f", {self.errors} errors" if self.errors else ""
        return f"{self.label}: {self.done:g}{total} ({self.done / elapsed:.3g}/s{errs})"

    def _changed(self) -> None:
        now = time.monotonic()
        if now - self.last >= LINE_EVERY_S:
            self.last = now
            err_console.print(self._line(), markup=False, highlight=False)

    def _closed(self) -> None:
        err_console.print(self._line() + " done", markup=False, highlight=False)


class _Lines(Progress):
    def task(self, label: str, total: float | None = None) -> Task:
        return _LineTask(label, total)

    def note(self, text: str) -> None:
        err_console.print(text, markup=False, highlight=False)

    def stop(self) -> None:
        pass


def cli_progress(quiet: bool = False) -> _Bars | _Lines | None:
    """The renderer for this process's stderr; call ``.stop()`` when the work ends."""
    if quiet:
        return None
    return _Bars() if err_console.is_terminal else _Lines()
