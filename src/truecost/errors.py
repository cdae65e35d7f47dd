"""The errors truecost raises for things a user can fix.

Every message is one line that says what is wrong and how to fix it. The CLI prints
``error: <message>`` to stderr and exits with status 1; anything that is *not* a
``TruecostError`` is a bug and may show a traceback.

    TruecostError
     ├── UnknownNameError     an unknown model, GPU, offer, engine ... (lists the nearest names)
     ├── CatalogError         a catalog or user file that is malformed (names the file and key)
     ├── InputError           an impossible value (negative tokens, MFU outside (0, 1], ...)
     ├── DoesNotFitError      a deployment whose weights + KV cache exceed GPU memory
     └── EndpointError        an inference endpoint that cannot be measured (bench)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "CatalogError",
    "DoesNotFitError",
    "EndpointError",
    "InputError",
    "TruecostError",
    "UnknownNameError",
]


class TruecostError(Exception):
    """Base class: a problem in what the user asked for, reported as one line."""


class UnknownNameError(TruecostError, KeyError):
    """A name that is not in a catalog. The message lists the closest known names."""

    def __init__(self, kind: str, name: str, known: Iterable[str], *, hint: str | None = None) -> None:
        self.kind, self.name = kind, name
        known = sorted(set(known))
        close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.4)
        if hint is None and close:
            hint = "did you mean " + ", ".join(close) + "?"
        elif hint is None and not known:
            hint = f"there are no {_plural(kind)} yet"
        elif hint is None:
            hint = f"known {_plural(kind)}: " + ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        super().__init__(f"unknown {kind} '{name}'; {hint}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


def _plural(noun: str) -> str:
    """English plural of a catalog kind: "grid intensity" -> "grid intensities", "R&D share" ->
    "R&D shares", "price basis" -> "price bases"."""
    if noun.endswith("sis"):
        return noun[:-2] + "es"
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "sh", "ch")):
        return noun + "es"
    return noun + "s"


class CatalogError(TruecostError):
    """A catalog or user-supplied TOML file that cannot be used as it is."""


class InputError(TruecostError, ValueError):
    """A value that cannot be right (the message says which and what range is allowed)."""


class DoesNotFitError(TruecostError):
    """A model that does not fit in the memory of the deployment asked for."""


class EndpointError(TruecostError):
    """An endpoint that cannot be measured: unreachable, unauthorised, not streaming, ..."""
