"""A clone of the repository alone passes: nothing reads a `shared` folder beside the checkout.

1. No file in src/, tests/, Makefile or .ci/ names the team's shared data folder.
2. The checkout's files (what `git ls-files` lists, plus new files not ignored) copied into an
   empty temporary folder, with no `shared` beside it, import, find their data, run the tests
   that read shipped data, and run `truecost compare` on every example.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

# Spelled in pieces so that this file does not name them itself.
FORBIDDEN = ["..".rstrip() + "/shared", "/work" + "/shared"]
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", "node_modules", "build", "dist"}


def _text_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return [p for p in root.rglob("*") if p.is_file() and not SKIP_DIRS & set(p.parts)]


def test_no_file_names_the_shared_folder() -> None:
    offenders = []
    for top in ("src", "tests", "Makefile", ".ci"):
        for path in _text_files(REPO / top):
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue  # binary files cannot name a path a program would read
            offenders += [f"{path.relative_to(REPO)}: {s}" for s in FORBIDDEN if s in text]
    assert offenders == []


def _checkout_files() -> list[str]:
    """The files a clone would have: tracked plus untracked-but-not-ignored (a commit away)."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                             cwd=REPO, capture_output=True, check=True, timeout=60).stdout
        return [f for f in out.decode().split("\0") if f and (REPO / f).is_file()]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an sdist): walk it
        return [str(p.relative_to(REPO)) for p in _text_files(REPO)]


def test_a_copy_of_the_checkout_alone_passes(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    for rel in _checkout_files():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, clone / rel)
    assert not (clone.parent / "shared").exists() and list(tmp_path.iterdir()) == [clone]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env |= {"PYTHONPATH": str(clone / "src"), "TRUECOST_HOME": str(tmp_path / "home"),
            "COLUMNS": "80", "NO_COLOR": "1"}

    def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=timeout)

    where = run("-c", "import truecost; from truecost.catalog import data_file; "
                      "print(truecost.__file__); print(data_file('validation/serving_published.csv'))")
    assert where.returncode == 0, where.stderr
    module, data = where.stdout.split()
    assert Path(module).is_relative_to(clone) and Path(data).is_relative_to(clone)
    assert Path(data).is_file()

    # the tests that read shipped data (validation CSVs, catalogs, configs)
    tests = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_train.py",
                "tests/unit/perf/test_validation.py", "tests/unit/test_catalog.py",
                "tests/unit/test_validation_suites.py", "tests/unit/test_gpu_catalog.py")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout and "skipped" not in tests.stdout

    examples = sorted((clone / "examples").glob("*.toml"))
    assert examples
    for example in examples:
        r = run("-m", "truecost", "compare", str(example.relative_to(clone)))
        assert r.returncode == 0, f"{example.name}: {r.stderr}"
    r = run("-m", "truecost", "validate", "training")
    assert r.returncode == 0 and "all rows: 8 rows" in r.stdout, r.stderr
