"""mutmut against cosmic-ray on this code: mutants checked per second on one module, side by side.

Both run on a scratch copy of the repository, mutating ``src/truecost/cost.py`` and running the
tests that exercise it. mutmut 3 forks from one pytest process and runs only the tests that reach
the mutated function; cosmic-ray starts its test command afresh for every mutant, so it is given
the shortest honest command: the five test files that exercise cost.py (generous to it). Each tool
gets at most ``--budget`` seconds; the rate is mutants checked / seconds used.

    .venv/bin/python -m pip install -e '.[mutation]'
    .venv/bin/python benchmarks/mutation_tools.py [--budget 240]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MODULE = "src/truecost/cost.py"
TESTS = ["tests/unit/test_cost.py", "tests/unit/test_compare.py", "tests/unit/test_train.py",
         "tests/cli/test_train_cli.py", "tests/cli/test_estimate_compare_cli.py"]


def _copy(dst: Path) -> None:
    for name in ("src", "tests", "examples", "pyproject.toml"):
        p = REPO / name
        (shutil.copytree(p, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
         if p.is_dir() else shutil.copy2(p, dst / name))


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root / "src"), "TRUECOST_HOME": str(root / "home")}


def mutmut(budget: float) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory(prefix="mutmut-") as tmp:
        root = Path(tmp)
        _copy(root)
        text = (root / "pyproject.toml").read_text()
        text = re.sub(r"only_mutate = \[.*?\]", f'only_mutate = ["{MODULE}"]', text, count=1, flags=re.S)
        (root / "pyproject.toml").write_text(text)
        t = time.monotonic()
        try:
            subprocess.run([str(BIN / "mutmut"), "run", "--max-children", "2"], cwd=root,
                           env={**_env(root), "PYTHONPATH": "src"}, capture_output=True, timeout=budget)
        except subprocess.TimeoutExpired:
            pass
        used = time.monotonic() - t
        codes = json.loads((root / "mutants" / (MODULE + ".meta")).read_text())["exit_code_by_key"]
        return len(codes), sum(c is not None for c in codes.values()), used


def cosmic_ray(budget: float) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory(prefix="cosmic-ray-") as tmp:
        root = Path(tmp)
        _copy(root)
        cmd = f"{sys.executable} -m pytest -x -q -p no:cacheprovider -m 'not snapshot' {' '.join(TESTS)}"
        (root / "cr.toml").write_text(
            f'[cosmic-ray]\nmodule-path = "{MODULE}"\ntimeout = 120.0\nexcluded-modules = []\n'
            f'test-command = "{cmd}"\n\n[cosmic-ray.distributor]\nname = "local"\n')
        subprocess.run([str(BIN / "cosmic-ray"), "init", "cr.toml", "cr.sqlite"], cwd=root,
                       env=_env(root), check=True, capture_output=True)
        t = time.monotonic()
        try:
            subprocess.run([str(BIN / "cosmic-ray"), "exec", "cr.toml", "cr.sqlite"], cwd=root,
                           env=_env(root), capture_output=True, timeout=budget)
        except subprocess.TimeoutExpired:
            pass
        used = time.monotonic() - t
        with sqlite3.connect(root / "cr.sqlite") as db:
            total = db.execute("select count(*) from mutation_specs").fetchone()[0]
            done = db.execute("select count(*) from work_results").fetchone()[0]
        return total, done, used


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=240.0, help="seconds per tool at most")
    args = ap.parse_args()
    print(f"{MODULE}, {os.cpu_count()} CPUs, at most {args.budget:g} s per tool\n")
    print("| tool | version | mutants of cost.py | checked | seconds | mutants/s |\n|---|---|---:|---:|---:|---:|")
    rates = {}
    for name, fn, dist in (("mutmut", mutmut, "mutmut"), ("cosmic-ray", cosmic_ray, "cosmic-ray")):
        total, done, used = fn(args.budget)
        rates[name] = done / used
        print(f"| {name} | {version(dist)} | {total} | {done} | {used:.0f} | {done / used:.2f} |", flush=True)
    print(f"\nmutmut checks {rates['mutmut'] / rates['cosmic-ray']:.0f}x the mutants per second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
