"""`truecost estimate` (placeholder until the perf model lands)."""

import typer


def register(app: typer.Typer) -> None:
    pass
