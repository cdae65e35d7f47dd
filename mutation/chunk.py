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

mutmut 3 skips every decorated function, ``@property`` and ``@cached_property`` included, so a
formula written as a property has no mutants. ``--properties`` rewrites, in the scratch copy of
the modules given only, each method whose one decorator is ``property`` or ``cached_property``
into the undecorated method followed by ``name = property(name)`` (the body is then mutated). A
``cached_property`` becomes a plain ``property`` too: the same value on the frozen models that use
it, and each access then reaches mutmut's trampoline, so its map of which test reaches which
function is whole (a value cached on a shared catalog object by an earlier test would hide the
later tests from it). Properties with a setter are left alone.
"""

from __future__ import annotations

import argparse
import ast
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


def undecorate_properties(src: str) -> tuple[str, int]:
    """``src`` with each single-decorator ``@property``/``@cached_property`` method rewritten as the
    bare method plus ``name = property(name)`` after its body; and how many were rewritten."""
    lines = src.splitlines(keepends=True)
    setters = {d.value.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.FunctionDef)
               for d in n.decorator_list
               if isinstance(d, ast.Attribute) and isinstance(d.value, ast.Name)}
    edits = []
    for node in ast.walk(ast.parse(src)):
        if not isinstance(node, ast.FunctionDef) or len(node.decorator_list) != 1:
            continue
        dec = node.decorator_list[0]
        if not (isinstance(dec, ast.Name) and dec.id in ("property", "cached_property")):
            continue
        if node.name in setters:
            continue
        indent = lines[node.lineno - 1][: len(lines[node.lineno - 1]) - len(lines[node.lineno - 1].lstrip())]
        edits.append((dec.lineno, node.end_lineno, f"{indent}{node.name} = property({node.name})\n"))
    for dec_line, end, assign in sorted(edits, reverse=True):
        lines.insert(end, assign)
        del lines[dec_line - 1]
    return "".join(lines), len(edits)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="+", help="source files to mutate, e.g. src/truecost/perf/power.py")
    ap.add_argument("--tests", nargs="+", required=True, help="the test files run against the mutants")
    ap.add_argument("--children", type=int, default=1, help="mutants run at once (default 1)")
    ap.add_argument("--keep", type=Path, help="scratch directory to use and keep")
    ap.add_argument("--record", type=Path, help="write the counts and survivors (JSON) to this file")
    ap.add_argument("--properties", action="store_true",
                    help="mutate @property and @cached_property bodies too (mutmut skips them)")
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
        if args.properties:
            for m in args.modules:
                f = root / m
                text, n = undecorate_properties(f.read_text())
                f.write_text(text)
                print(f"{m}: {n} properties made mutable", file=sys.stderr)
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
        record = ["--json", str(args.record.resolve())] if args.record else []
        return subprocess.run([sys.executable, str(root / "mutation" / "score.py"), *record],
                              cwd=root).returncode
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
