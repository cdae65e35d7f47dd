"""Checks at the edges: every number, name, path and secret that enters truecost passes here once.

The public API functions (``estimate``, ``compare``, ``train_cost``, ``run_bench`` ...) and the
loaders of user files (TOML, JSONL) call these before any arithmetic, so the CLI and the Python
API refuse the same inputs with the same one-line ``InputError``/``CatalogError``:

- numbers: finite (``nan``/``inf`` are refused with the option named), then the range each
  function states (``number``); ``finite_numbers`` checks every numeric argument of a function;
- names: never empty (``Name`` for names read from files; ``catalog.lookup`` refuses an empty
  one), closed sets case-insensitive, listing the choices on a miss (``choice``);
- files: regular, readable, UTF-8 text (a directory, a FIFO, a device or a binary file is one
  line, never a hang or a traceback) (``read_text``, ``read_bytes``); writes go to a temporary
  file and are renamed into place, never over a directory (``write_atomic``);
- secrets: an API key is used stripped, refused with whitespace inside, and scrubbed from any
  text kept or printed in every case (``api_key``, ``scrub``).

What is left out: the physical ranges of each domain (MFU ≤ 1, context ≤ the model's, memory)
stay with the function that knows them; this module only gives them one vocabulary.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from pydantic import StringConstraints

from .errors import InputError, TruecostError

__all__ = ["API_KEY_ENV", "Name", "api_key", "choice", "finite_numbers", "finite_result", "number",
           "read_bytes", "read_text", "scrub", "show", "write_atomic"]

F = TypeVar("F", bound=Callable[..., Any])

# A name read from a file: surrounding whitespace dropped, never empty (pydantic type).
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def show(value: Any) -> str:
    """A value as an error message quotes it: numbers in short form, text as typed."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        if value.bit_length() < 1000:
            return f"{value:.3g}"
        return f"a {_digits(value):,}-digit number"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def _digits(value: int) -> int:
    """Decimal digits of a huge int without str() (Python refuses str() past 4,300 digits): from
    its bit length, 2**(b-1) <= |v| < 2**b, then corrected against a power of ten."""
    v = abs(value)
    d = int((v.bit_length() - 1) * math.log10(2)) + 1
    if v >= 10**d:
        d += 1
    elif v < 10 ** (d - 1):
        d -= 1
    return d


def _is_finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _range(gt: float | None, ge: float | None, lt: float | None, le: float | None) -> str:
    parts = [f"{op} {show(b)}" for op, b in ((">", gt), (">=", ge), ("<", lt), ("<=", le))
             if b is not None]
    return " and ".join(parts)


def number(value: Any, what: str, *, gt: float | None = None, ge: float | None = None,
           lt: float | None = None, le: float | None = None, unit: str = "") -> float:
    """``value`` as a finite float within the bounds given, else an ``InputError`` naming
    ``what`` (the option, e.g. ``"--rate"``): ``--rate must be a finite number > 0, got nan``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and _is_finite(value)
    if ok:
        x = float(value)
        ok = ((gt is None or x > gt) and (ge is None or x >= ge) and (lt is None or x < lt)
              and (le is None or x <= le))
    if not ok:
        bounds = _range(gt, ge, lt, le)
        raise InputError(f"{what} must be a finite number{' ' + bounds if bounds else ''}"
                         f"{' ' + unit if unit else ''}, got {show(value)}")
    return float(value)


def finite_result(value: float, what: str, hint: str) -> float:
    """A computed figure that must be finite: an overflow from huge inputs is the user's to fix
    (``hint`` says which inputs), not a number to print."""
    if not _is_finite(value):
        if value != value:  # nan: an undefined result, not a large one
            raise InputError(f"the result is undefined: {what} is not a number; {hint}")
        raise InputError(f"the result overflows: {what} is beyond 1.8e308, the largest number this "
                         f"arithmetic holds; {hint}")
    return value


def _flag(param: str) -> str:
    return "--" + param.replace("_", "-")


def _numbers(value: Any) -> Iterable[Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)


def finite_numbers(**flags: str) -> Callable[[F], F]:
    """Decorate a public function so that every numeric argument (and every number in a list
    argument) is finite; the error names the CLI option: ``--{name}``, or ``flags[name]`` where
    the option is spelt differently (``timeout_s="--timeout-s"``).

        @finite_numbers(params_total="--params")
        def train_cost(model, *, params_total=None, tokens, ...): ...
    """

    def wrap(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind_partial(*args, **kwargs)
            for param, value in bound.arguments.items():
                for v in _numbers(value):
                    if not _is_finite(v):
                        raise InputError(f"{flags.get(param, _flag(param))} must be a finite "
                                         f"number, got {show(v)}")
            return fn(*args, **kwargs)

        # The CLI quotes the API's defaults from here (``run_bench.__kwdefaults__``); the
        # wrapper itself takes **kwargs, so these are read, never applied twice.
        checked.__kwdefaults__ = fn.__kwdefaults__
        return checked  # type: ignore[return-value]

    return wrap


def choice(value: Any, choices: Iterable[str], what: str) -> str:
    """One of ``choices``, matched without regard to case; a miss lists them."""
    options = list(choices)
    text = str(getattr(value, "value", value)).strip()
    for c in options:
        if c.lower() == text.lower():
            return c
    raise InputError(f"unknown {what} '{text}'; choose one of {', '.join(options)}")


# -- files -----------------------------------------------------------------------------------
def _regular(path: Path, what: str, error: type[TruecostError]) -> Path:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except NotADirectoryError:
        raise error(f"{path}: file not found (a part of the path is not a folder)") from None
    except OSError as e:
        raise error(f"{path}: cannot read it ({_why(e)})") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path}: cannot read a folder; give the {what} file inside it")
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the read; a device may never end
        raise error(f"{path}: not a regular file (a pipe or device); give a {what} file")
    return path


def read_bytes(path: Path | str, what: str = "input", error: type[TruecostError] = InputError
               ) -> bytes:
    """The bytes of a regular, readable file, or one line saying why not."""
    path = _regular(Path(path), what, error)
    try:
        return path.read_bytes()
    except OSError as e:
        raise error(f"{path}: cannot read it ({_why(e)})") from None


def read_text(path: Path | str, what: str = "input", error: type[TruecostError] = InputError
              ) -> str:
    """The UTF-8 text of a regular, readable file, or one line saying why not (a binary file
    is not text)."""
    data = read_bytes(path, what, error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not a UTF-8 text file (byte {e.start} is not text); give a "
                    f"{what} file") from None


def write_atomic(path: Path | str, write: Callable[[Path], None], what: str = "output") -> Path:
    """Write through ``write(tmp_path)`` to a temporary file beside ``path``, then rename it
    into place: a failure leaves no half-written file, and a folder is never overwritten.
    Permission, read-only and missing-folder problems are one ``InputError`` line."""
    path = Path(path)
    if not str(path).strip():
        raise InputError(f"give a file name for the {what}")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name for the {what}")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise InputError(f"cannot write {path}: {blocking} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise InputError(f"cannot write {path}: {_why(e)}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    except OSError as e:
        raise InputError(f"cannot write {path}: {_why(e)}") from None
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def _why(e: OSError) -> str:
    return (e.strerror or type(e).__name__).lower()


# -- secrets ---------------------------------------------------------------------------------
API_KEY_ENV = ("TRUECOST_API_KEY", "OPENAI_API_KEY")  # first one set wins
_INNER_SPACE = re.compile(r"[\s\x00-\x1f\x7f]")


def api_key(given: str | None = None) -> str | None:
    """The API key to send: ``given``, else ``$TRUECOST_API_KEY``, else ``$OPENAI_API_KEY``;
    stripped (a pasted key often ends in a newline or space). A key with whitespace or a
    control character inside is refused: no server would accept it, and it could not be sent
    as one header."""
    source = "the API key"
    if given is None:
        for var in API_KEY_ENV:
            if os.environ.get(var, "").strip():
                given, source = os.environ[var], var
                break
    if given is None or not given.strip():
        return None
    key = given.strip()
    if _INNER_SPACE.search(key):
        raise InputError(f"{source} has whitespace or a control character inside it; set it "
                         f"to the key alone")
    return key


def scrub(text: str, key: str | None, mask: str = "***") -> str:
    """``text`` without ``key``: as sent, in any letter case, and as JSON or URL escaping
    would write it."""
    if not key or not text:
        return text
    forms = {key, json.dumps(key)[1:-1], quote(key, safe="")}
    pattern = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.sub(pattern, mask, text, flags=re.IGNORECASE)
