"""Print the mutmut names of the mutants that survived the last run and are not listed as
equivalent, one per line: ``mutmut run $(python mutation/survivors.py)`` re-checks just those
(after adding tests), which is what `make mutation-survivors` does."""

from __future__ import annotations

import sys

from score import _equivalents, _explained, collect

if __name__ == "__main__":
    _, survivors = collect()
    eq = _equivalents()
    print("\n".join(s["key"] for s in survivors if _explained(s, eq) is None))
    sys.exit(0)
