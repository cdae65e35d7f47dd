"""The Typer root. Each verb lives in its own module and registers itself here.

Every failure is one line on stderr, never a traceback:
- a user error (``TruecostError``): ``error: <message>``, exit status 1;
- a command line typer cannot parse (unknown option, a word where a number goes, a value
  outside a closed set, which is listed): ``error: <what>; see 'truecost VERB --help'``, 2;
- anything else is a bug in truecost: ``error: internal error (Type: message); this is a bug
  ...``, exit status 70 (EX_SOFTWARE); ``TRUECOST_DEBUG=1`` shows the traceback (without local
  variables: they may hold API keys).
An API key set in the environment is scrubbed from every such line.
"""

from __future__ import annotations

import os
import sys

import typer

from ..checks import api_key, scrub
from ..errors import TruecostError
from .output import err_console

app = typer.Typer(
    name="truecost",
    help="What an AI model really costs: per task, per month, per training run.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

# click's base exception (typer >= 0.20 vendors click, older typer re-uses the package)
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

EXIT_USER, EXIT_USAGE, EXIT_BUG = 1, 2, 70  # 70: EX_SOFTWARE (sysexits.h), an internal error
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
BUG_HINT = ("this is a bug in truecost: please report it with the command you ran "
            "(TRUECOST_DEBUG=1 shows the traceback)")

_registered = False
_command = None  # the click command typer builds from the verbs: ~80 ms, so built once


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
    from . import (bench, calibrate, catalog, compare, estimate, eval, forecast, plan, report, route, runs,
                   train, usage, validate)

    for module in (estimate, compare, plan, forecast, calibrate, train, bench, eval, route, runs, usage,
                   validate, catalog, report):
        module.register(app)
    _registered = True


def _say(message: str) -> None:
    try:
        key = api_key()
    except TruecostError:  # a malformed key: scrub the stripped text, whatever it is
        key = " ".join(os.environ.get(v, "") for v in ("TRUECOST_API_KEY", "OPENAI_API_KEY")).strip() or None
    err_console.print(f"error: {scrub(' '.join(message.split()), key)}", markup=False,
                      highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``truecost`` script and ``python -m truecost``."""
    global _command
    _register()
    try:
        if _command is None:
            _command = typer.main.get_command(app)
        code = _command.main(args=argv, prog_name="truecost", standalone_mode=False)
    except TruecostError as e:
        _say(str(e))
        sys.exit(EXIT_USER)
    except ClickException as e:  # typer could not parse the command line
        where = e.ctx.command_path if getattr(e, "ctx", None) is not None else "truecost"
        text = e.format_message().replace("Value error, ", "")
        if not text:  # a verb or group called without arguments: its help was printed
            sys.exit(EXIT_USAGE)
        _say(f"{text.rstrip('.')}; see '{where} --help'")
        sys.exit(e.exit_code)
    except typer.Abort:  # Ctrl-C at a prompt
        _say("aborted")
        sys.exit(EXIT_USER)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - the last resort: a bug, said as one line
        if os.environ.get("TRUECOST_DEBUG"):
            raise
        _say(f"internal error ({type(e).__name__}: {str(e)[:300] or 'no message'}); {BUG_HINT}")
        sys.exit(EXIT_BUG)
    if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C (and bench's SIGTERM) into exit code 130
        _say("interrupted (Ctrl-C or SIGTERM); a benchmark keeps what it measured "
             "(truecost runs list)")
    if isinstance(code, int) and code:
        sys.exit(code)
