"""`make mutation` runs each module of only_mutate against the test files mutation/modules.toml
names: the two lists must agree, and every test file named must exist (a typo would silently
leave a module's mutants facing no tests)."""

from __future__ import annotations

import glob
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_modules_toml_covers_only_mutate_and_names_real_test_files():
    sys.path.insert(0, str(REPO / "mutation"))
    try:
        import all as mutation_all  # noqa: PLC0415 (mutation/ is not a package)
    finally:
        sys.path.pop(0)
    table = mutation_all.modules()  # raises SystemExit when the lists disagree
    only = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    mutated = {p for pattern in only for p in glob.glob(pattern, root_dir=REPO)
               if p.endswith(".py") and not p.endswith("__init__.py")}
    assert {e["path"] for e in table} == mutated
    assert len(table) == len(mutated)  # no module listed twice
    for e in table:
        assert e["tests"], e["path"]
        for t in e["tests"]:
            assert (REPO / t).is_file(), (e["path"], t)
