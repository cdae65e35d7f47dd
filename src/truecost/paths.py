"""Where truecost keeps what it writes: one place that knows the environment variables.

- ``TRUECOST_HOME`` (default ``~/.truecost``): calibrated engine profiles (``engines/``) and the
  result store;
- ``TRUECOST_DB``: the result store file, overriding ``$TRUECOST_HOME/truecost.duckdb``.

Only the standard library is imported here: the store's writer process loads this module without
the rest of the package.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["home", "store_path", "user_engine_dir"]


def home() -> Path:
    """``$TRUECOST_HOME``, else ``~/.truecost``."""
    return Path(os.environ.get("TRUECOST_HOME") or "~/.truecost").expanduser()


def store_path() -> Path:
    """The result store: ``$TRUECOST_DB``, else ``$TRUECOST_HOME/truecost.duckdb``."""
    if os.environ.get("TRUECOST_DB"):
        return Path(os.environ["TRUECOST_DB"]).expanduser()
    return home() / "truecost.duckdb"


def user_engine_dir() -> Path:
    """Where calibrated engine profiles are saved: ``$TRUECOST_HOME/engines``."""
    return home() / "engines"
