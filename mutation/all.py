"""``make mutation``: every module of ``only_mutate`` against its own test files, one module at a
time, then one score over all of them.

    python mutation/all.py [--fresh] [--only PATTERN] [--children N] [--min 0.9]

The modules and their test files are listed in ``mutation/modules.toml``; a module of
``only_mutate`` missing there is an error, so the two lists cannot drift apart. Each module runs
through ``mutation/chunk.py`` (a scratch copy, ``--properties`` unless the entry says otherwise)
and its counts and survivors are recorded in ``mutation/results/``, keyed by a hash of the module's
source and its test files: a later ``make mutation`` re-runs only the modules whose code or tests
changed since (``--fresh``, or ``make mutation FRESH=1``, re-runs all). Survivors listed in
``mutation/equivalent.toml`` are matched when the score is printed, so listing one needs no re-run.

Why per module rather than one mutmut run over every module against every test: on a shared
2-core machine the single run takes many hours (mutmut first runs every selected test to map
tests to functions, then each mutant against every test that reached its function, the slow
simulator and CLI tests included). Against its own files a module takes seconds to minutes. The
price: a mutant killed only by a test outside the module's files counts as a survivor, so the score
printed is a lower bound of the single run's.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import hashlib
import json
import subprocess
import sys
import time
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from score import _equivalents, _explained, report

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def modules() -> list[dict]:
    table = tomllib.loads((HERE / "modules.toml").read_text())["module"]
    only = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    mutated = {p for pattern in only for p in glob.glob(pattern, root_dir=REPO)
               if p.endswith(".py") and not p.endswith("__init__.py")}
    listed = {m["path"] for m in table}
    if mutated - listed:
        raise SystemExit(f"error: modules of only_mutate with no entry in mutation/modules.toml: "
                         f"{', '.join(sorted(mutated - listed))}; add each with its test files")
    if listed - mutated:
        raise SystemExit(f"error: mutation/modules.toml lists modules outside only_mutate: "
                         f"{', '.join(sorted(listed - mutated))}")
    return table


def key(entry: dict) -> str:
    """What a module's record depends on: its source, its test files and the shared test fixtures."""
    h = hashlib.sha256()
    shared = ["tests/conftest.py", "tests/hand.py", "mutation/chunk.py"]
    for name in [entry["path"], *entry["tests"], *shared]:
        path = REPO / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    h.update(str(entry.get("properties", True)).encode())
    return h.hexdigest()


def record_path(entry: dict) -> Path:
    return RESULTS / (entry["path"].removeprefix("src/").replace("/", "__") + ".json")


def run_one(entry: dict, children: int) -> dict | None:
    before = key(entry)  # the code the scratch copy is taken from
    out = record_path(entry).with_suffix(".tmp")
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(HERE / "chunk.py"), entry["path"], "--children", str(children),
           "--record", str(out), "--tests", *entry["tests"]]
    if entry.get("properties", True):
        cmd.insert(3, "--properties")
    start = time.monotonic()
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if not out.exists():
        print(f"  failed (exit {run.returncode}):\n{(run.stdout + run.stderr)[-2000:]}", file=sys.stderr)
        return None
    data = json.loads(out.read_text())
    out.unlink()
    data.update(module=entry["path"], tests=entry["tests"], key=before,
                date=datetime.now(UTC).strftime("%Y-%m-%d"), seconds=round(time.monotonic() - start),
                command=" ".join(["python", "mutation/chunk.py", *cmd[2:]]).replace(str(out), "FILE"))
    return data


def table_rows(table: list[dict], records: dict[str, tuple[dict, bool]]) -> str:
    eq = _equivalents()
    rows = ["| module | test files | mutants | killed | equivalent (listed) | unexplained | score | run |",
            "|---|---|---:|---:|---:|---:|---:|---|"]
    for entry in table:
        if entry["path"] not in records:
            rows.append(f"| `{entry['path'].removeprefix('src/truecost/')}` | not run yet | | | | | | |")
            continue
        rec, current = records[entry["path"]]
        killed = sum(c.get("killed", 0) for c in rec["by_module"].values())
        checked = killed + sum(c.get("survived", 0) for c in rec["by_module"].values())
        listed = sum(_explained(s, eq) is not None for s in rec["survivors"])
        tests = ", ".join(f"`{t.removeprefix('tests/unit/')}`" for t in rec["tests"])
        rows.append(f"| `{entry['path'].removeprefix('src/truecost/')}` | {tests} | {checked:,} | {killed:,} | "
                    f"{listed} | {len(rec['survivors']) - listed} | {killed / checked:.1%} | "
                    f"{rec['date']}, {rec['seconds']:,} s{'' if current else ' (stale)'} |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fresh", action="store_true", help="re-run every module, recorded or not")
    ap.add_argument("--only", help="run only the modules whose path matches this glob")
    ap.add_argument("--children", type=int, default=2, help="mutants run at once (default 2)")
    ap.add_argument("--min", type=float, default=0.90)
    ap.add_argument("--markdown", action="store_true", help="survivors as a markdown table")
    ap.add_argument("--report-only", action="store_true", help="print the recorded score, run nothing")
    ap.add_argument("--table", action="store_true",
                    help="with --report-only: one markdown row per module record (the README's table)")
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    table = modules()
    records = {}
    for entry in table:
        path = record_path(entry)
        old = json.loads(path.read_text()) if path.exists() else None
        current = old is not None and old.get("key") == key(entry)
        selected = args.only is None or fnmatch.fnmatch(entry["path"], args.only)
        if not args.report_only and selected and (args.fresh or not current):
            print(f"mutating {entry['path']} against {len(entry['tests'])} test file(s) ...",
                  file=sys.stderr, flush=True)
            new = run_one(entry, args.children)
            if new is not None:
                path.write_text(json.dumps(new, indent=1) + "\n")
                print(f"  {sum(c.get('killed', 0) for c in new['by_module'].values())} killed of "
                      f"{sum(c.get('killed', 0) + c.get('survived', 0) for c in new['by_module'].values())} "
                      f"in {new['seconds']} s", file=sys.stderr, flush=True)
                old, current = new, True
        if old is not None:
            records[entry["path"]] = (old, current)
    if args.table:
        print(table_rows(table, records))
        return 0
    by_module: dict[str, Counter] = {}
    survivors = []
    for path, (rec, _) in records.items():
        for module, counts in rec["by_module"].items():
            by_module[module] = Counter(counts)
        survivors += rec["survivors"]
    score, _ = report(by_module, survivors, args.markdown)
    missing = [e["path"] for e in table if e["path"] not in records]
    stale = [p for p, (_, current) in records.items() if not current]
    if missing:
        print(f"\nnot run yet: {', '.join(missing)}")
    if stale:
        print(f"\nrecorded before the module or its tests last changed (re-run them): {', '.join(stale)}")
    print("\nrecords: mutation/results/ (date, command and seconds of each module's run)")
    return 0 if score >= args.min and not missing and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
