"""Progress on stderr for the CLI: a rich bar (done/total, rate, ETA, errors so far) when stderr
is a terminal, plain lines otherwise (done/total, rate, errors, ETA; at most one every
``LINE_EVERY_S`` per task, plus the last), nothing with ``--quiet``. stdout is never touched, so
``--json`` stays clean."""

from __future__ import annotations

import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TaskID, TextColumn
from rich.progress import TimeElapsedColumn, TimeRemainingColumn

from ..progress import Progress, Task
from .output import err_console

__all__ = ["LINE_EVERY_S", "cli_progress"]

LINE_EVERY_S = 5.0  # plain-line mode: how often a running task reports
BAR_EVERY_S = 0.05  # bar mode: most frequent update of one bar (rich redraws at 10 Hz anyway);
# a benchmark advances its bar once per request, from the load generator's event loop


class _BarTask(Task):
    def __init__(self, owner: _Bars, label: str, total: float | None) -> None:
        super().__init__(label, total)
        self.owner = owner
        self.id: TaskID = owner.rich.add_task(label, total=total, errors="", rate="")
        self.t0, self.last = time.monotonic(), 0.0

    def _changed(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < BAR_EVERY_S and self.done != self.total:
            return
        self.last = now
        rate = self.done / max(now - self.t0, 1e-9)
        self.owner.rich.update(self.id, completed=self.done, total=self.total,
                               errors=f"{self.errors} errors" if self.errors else "",
                               rate=f"{rate:.3g}/s")

    def _closed(self, failed: bool) -> None:
        self._changed(force=True)
        self.owner.rich.stop_task(self.id)


class _Bars(Progress):
    def __init__(self) -> None:
        # labels may hold names from user files: text, never markup
        self.rich = RichProgress(TextColumn("{task.description}", markup=False), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                                 TimeElapsedColumn(), TimeRemainingColumn(),
                                 TextColumn("{task.fields[errors]}", markup=False), console=err_console,
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
    clock = staticmethod(time.monotonic)  # seconds; tests replace it

    def __init__(self, label: str, total: float | None) -> None:
        super().__init__(label, total)
        self.t0 = self.last = self.clock()

    def _line(self, now: float, final: bool = False) -> str:
        total = f"/{self.total:g}" if self.total is not None else ""
        elapsed = max(now - self.t0, 1e-9)
        rate = self.done / elapsed
        errs = f", {self.errors} errors" if self.errors else ""
        eta = ""
        if not final and self.total is not None and rate > 0 and self.done < self.total:
            eta = f", ETA {(self.total - self.done) / rate:.0f} s"
        return f"{self.label}: {self.done:g}{total} ({rate:.3g}/s{errs}{eta})"

    def _changed(self) -> None:
        now = self.clock()
        if now - self.last >= LINE_EVERY_S:
            self.last = now
            err_console.print(self._line(now), markup=False, highlight=False)

    def _closed(self, failed: bool) -> None:
        if not failed:  # a failure's one error line follows: no progress line before it
            err_console.print(self._line(self.clock(), final=True) + " done", markup=False,
                              highlight=False)


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
