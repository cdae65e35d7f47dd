"""The Typer root. Each verb lives in its own module and registers itself here.

User errors (``TruecostError``) become one line on stderr, ``error: <message>``, exit status 1.
Anything else is a bug and shows a traceback without local variables (they may hold API keys).
"""

from __future__ import annotations

import sys

import typer

from ..errors import TruecostError
from .output import err_console

app = typer.Typer(
    name="truecost",
    help="What an AI model really costs: per task, per month, per training run.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


_registered = False


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"truecost {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                       help="Print the version and exit.")) -> None:
    """What an AI model really costs: per task, per month, per training run."""


def _register() -> None:
    """Attach every verb's command once (main() may be called many times in one process)."""
    global _registered
    if _registered:
        return
    from . import bench, calibrate, catalog, compare, estimate, plan, runs, train, validate

    for module in (estimate, compare, plan, calibrate, train, bench, runs, validate, catalog):
        module.register(app)
    _registered = True


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``truecost`` script and ``python -m truecost``."""
    _register()
    try:
        app(args=argv)  # standalone: usage errors print and exit 2, as typer does
    except TruecostError as e:
        err_console.print(f"error: {e}", markup=False)
        sys.exit(1)
