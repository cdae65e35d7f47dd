"""Mutation-test a few modules against their own test files only, in a scratch copy of the
repository: the quick way to score a module on a shared machine, where ``make mutation`` (every
module of ``only_mutate`` against every non-snapshot test) takes hours.

    python mutation/chunk.py src/truecost/perf/power.py --tests tests/unit/perf/test_power.py

mutmut first runs the chosen tests once to learn which test reaches which function, then runs,
for each mutant, the tests that reach its function. Limiting the tests to a module's own files
makes that first run seconds instead of minutes; the price is that a mutant killed only by some
other test counts as a survivor here (the score is a lower bound of ``make mutation``'s). The
snapshot, integration and GPU tests stay out (the markers of ``[tool.mutmut]``). The score and
every survivor are printed by ``mutation/score.py`` on the scratch copy, against
``mutation/equivalent.toml``; ``--keep DIR`` leaves the copy (and its ``mutants/``) in DIR.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="+", help="source files to mutate, e.g. src/truecost/perf/power.py")
    ap.add_argument("--tests", nargs="+", required=True, help="the test files run against the mutants")
    ap.add_argument("--children", type=int, default=1, help="mutants run at once (default 1)")
    ap.add_argument("--keep", type=Path, help="scratch directory to use and keep")
    args = ap.parse_args()
    for p in [*args.modules, *args.tests]:
        if not (REPO / p).exists():
            print(f"error: {p} does not exist under {REPO}", file=sys.stderr)
            return 2
    tmp = None
    if args.keep:
        root = args.keep.resolve()
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="truecost-mutation-")
        root = Path(tmp.name)
    try:
        for name in ("src", "tests", "examples", "mutation", "pyproject.toml"):
            p = REPO / name
            if p.is_dir():
                shutil.copytree(p, root / name, ignore=shutil.ignore_patterns("__pycache__", "mutants"))
            else:
                shutil.copy2(p, root / name)
        py = root / "pyproject.toml"
        text = py.read_text()
        text, n = re.subn(r"^only_mutate = \[.*?^\]", f"only_mutate = {_toml_list(args.modules)}",
                          text, count=1, flags=re.M | re.S)
        if n != 1:
            print("error: no only_mutate list under [tool.mutmut] in pyproject.toml", file=sys.stderr)
            return 2
        text = text.replace("[tool.mutmut]\n", "[tool.mutmut]\npytest_add_cli_args_test_selection = "
                            f"{_toml_list(args.tests)}\n", 1)
        py.write_text(text)
        env = {**os.environ, "PYTHONPATH": "src"}
        run = subprocess.run(["nice", "-n", "10", sys.executable, "-m", "mutmut", "run",
                              "--max-children", str(args.children)],
                             cwd=root, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            print((run.stdout + run.stderr)[-3000:], file=sys.stderr)
            return run.returncode
        return subprocess.run([sys.executable, str(root / "mutation" / "score.py")], cwd=root).returncode
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
