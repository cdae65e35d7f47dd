"""`truecost estimate` (placeholder until the perf model lands)."""

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def estimate() -> None:
        """Not yet."""
