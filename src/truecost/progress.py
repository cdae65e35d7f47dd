"""Progress of long work, reported by the API and drawn by whoever called it.

An API function that can run for more than a couple of seconds (a benchmark point, an eval suite,
a usage import, a plan search, a calibration) takes ``progress: Progress | None``; it opens one
``task`` per unit of work, advances it, and closes it. The API never draws anything: the CLI
passes a renderer (``truecost.cli.progress``: a rich bar on a terminal, plain lines otherwise,
nothing with ``--quiet``), a notebook may pass its own, and ``None`` means silence.

    >>> with Progress().task("grading", total=3) as t:
    ...     t.advance(); t.advance(errors=1); t.advance()
"""

from __future__ import annotations

from types import TracebackType

__all__ = ["Progress", "Task", "task"]


class Task:
    """One unit of work with a known ``total`` (or None when open-ended). The base class records
    counts and draws nothing; renderers override ``_changed``."""

    def __init__(self, label: str, total: float | None = None) -> None:
        self.label, self.total = label, total
        self.done = 0.0
        self.errors = 0
        self.closed = False

    def advance(self, n: float = 1, *, errors: int = 0) -> None:
        """``n`` more units finished, ``errors`` of them failed."""
        self.done += n
        self.errors += errors
        self._changed()

    def update(self, done: float, *, errors: int | None = None, total: float | None = None) -> None:
        """Set the counts outright (for work that measures its own progress)."""
        self.done = done
        if errors is not None:
            self.errors = errors
        if total is not None:
            self.total = total
        self._changed()

    def close(self, failed: bool = False) -> None:
        """End the task; ``failed``: it ended with an error (renderers say nothing more, the
        error speaks for itself)."""
        if not self.closed:
            self.closed = True
            self._closed(failed)

    def _changed(self) -> None:
        """Hook: the counts changed."""

    def _closed(self, failed: bool) -> None:
        """Hook: the work ended (``failed``: with an error)."""

    def __enter__(self) -> Task:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(failed=exc_type is not None)


class Progress:
    """Opens tasks. This base class draws nothing; ``note`` lines are dropped."""

    def task(self, label: str, total: float | None = None) -> Task:
        return Task(label, total)

    def note(self, text: str) -> None:
        """A one-line message about the work (shown by renderers between bars)."""


def task(progress: Progress | None, label: str, total: float | None = None) -> Task:
    """``progress.task(...)``, or a silent task when ``progress`` is None."""
    return (progress or Progress()).task(label, total)
