"""The mutation score of the last ``mutmut run`` (``make mutation``), per module, and every mutant
that survived: each must be listed in ``mutation/equivalent.toml`` with the reason it cannot be
told apart from the original, or be killed by a test.

Reads mutmut's result files (``mutants/**/*.py.meta``) and, for each survivor, the original and
mutated function in ``mutants/`` to show the changed line. A survivor is matched to an entry of
``equivalent.toml`` by its function and its mutated line (not by mutmut's numbering, which moves
when code changes). Score = (killed + timed out) / every mutant checked; a mutant no test reaches
counts as a survivor. Exit status 1 below ``--min`` (default 0.90) or with an unexplained
survivor when ``--strict``.

    python mutation/score.py [--min 0.9] [--strict] [--markdown] [--json FILE]
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
EQUIVALENT = Path(__file__).with_name("equivalent.toml")
KILLED = {1, 3, 36, 24, -24, 152, 255}  # killed, pytest internal error, timeouts (mutmut's codes)
SURVIVED = {0, 5, 33}  # survived, no tests


def _functions(path: Path) -> dict[str, str]:
    src = path.read_text()
    lines = src.splitlines()
    out = {}
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = "\n".join(lines[node.lineno - 1:node.end_lineno])
    return out


def _changed(orig: str, mutant: str) -> tuple[str, str]:
    """The original lines and the mutated lines that differ (stripped, joined), the function's
    own name left out of its ``def`` line."""
    name = re.compile(r"def \S+?__mutmut_\w+\(")
    a = [name.sub("def f(", ln.strip()) for ln in orig.splitlines()]
    b = [name.sub("def f(", ln.strip()) for ln in mutant.splitlines()]
    old, new = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            old += a[i1:i2]
            new += b[j1:j2]
    return " ".join(old), " ".join(new)


def _equivalents() -> list[dict[str, str]]:
    if not EQUIVALENT.exists():
        return []
    return tomllib.loads(EQUIVALENT.read_text()).get("equivalent", [])


def collect() -> tuple[dict[str, Counter], list[dict[str, str]]]:
    by_module: dict[str, Counter] = defaultdict(Counter)
    survivors = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        source = meta.with_suffix("")  # .../x.py
        module = str(source.relative_to(MUTANTS / "src"))
        funcs = None
        for key, code in codes.items():
            c = by_module[module]
            if code in KILLED:
                c["killed"] += 1
            elif code in SURVIVED:
                c["survived"] += 1
                funcs = funcs if funcs is not None else _functions(source)
                name = key.rsplit(".", 1)[1]  # x_fn__mutmut_3 or xǁClassǁfn__mutmut_3
                base = name.rsplit("__mutmut_", 1)[0]
                old, new = _changed(funcs.get(f"{base}__mutmut_orig", ""), funcs.get(name, ""))
                survivors.append({"module": module, "key": key, "function": base, "original": old,
                                  "mutant": new, "no_tests": code != 0})
            elif code is None:
                c["not checked"] += 1
            else:
                c["other"] += 1
    return by_module, survivors


def _explained(s: dict[str, str], equivalents: list[dict[str, str]]) -> str | None:
    for e in equivalents:
        if e["function"] == s["function"] and e.get("mutant", s["mutant"]) == s["mutant"] and \
                e.get("original", s["original"]) == s["original"]:
            return e["reason"]
    return None


def report(by_module: dict[str, Counter], survivors: list[dict], markdown: bool = False) -> tuple[float, int]:
    """Print the score per module and the survivors; return (score, unexplained survivors)."""
    equivalents = _equivalents()
    total = Counter()
    print(f"{'module':28} {'mutants':>8} {'killed':>8} {'survived':>9} {'score':>7}")
    for module, c in sorted(by_module.items()):
        checked = c["killed"] + c["survived"]
        total.update(c)
        if checked:
            print(f"{module:28} {checked:8} {c['killed']:8} {c['survived']:9} {c['killed'] / checked:7.1%}")
    checked = total["killed"] + total["survived"]
    score = total["killed"] / checked if checked else 0.0
    print(f"{'all':28} {checked:8} {total['killed']:8} {total['survived']:9} {score:7.1%}")
    if total["not checked"]:
        print(f"({total['not checked']} mutants not checked yet: the run was interrupted or limited)")
    unexplained = [s for s in survivors if _explained(s, equivalents) is None]
    listed = len(survivors) - len(unexplained)
    print(f"\nsurvivors: {len(survivors)} ({listed} equivalent, listed with "
          f"the reason in mutation/equivalent.toml; {len(unexplained)} unexplained)")
    if listed and checked > listed:
        # the score above counts a listed equivalent as a survivor; the textbook mutation score
        # (killed / (mutants - equivalent)) leaves them out. The gate uses the one above.
        print(f"killed of the mutants that can be killed (listed equivalents left out): "
              f"{total['killed']:,} of {checked - listed:,}, {total['killed'] / (checked - listed):.1%}")
    rows = [(s, _explained(s, equivalents)) for s in survivors]
    if markdown:
        print("\n| module | function | original | mutant | equivalent because |\n|---|---|---|---|---|")
        for s, why in rows:
            print(f"| {s['module']} | `{s['function']}` | `{s['original']}` | `{s['mutant']}` | {why or '**unexplained**'} |")
    else:
        for s, why in rows:
            if why is None:
                tag = "no test reaches it" if s["no_tests"] else "survived"
                print(f"  {s['key']} ({tag}):\n      - {s['original']}\n      + {s['mutant']}")
    return score, len(unexplained)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--min", type=float, default=0.90)
    ap.add_argument("--strict", action="store_true", help="fail on any unexplained survivor")
    ap.add_argument("--markdown", action="store_true", help="survivors as a markdown table")
    ap.add_argument("--json", type=Path, help="also write the counts and survivors to this file")
    args = ap.parse_args()
    if not MUTANTS.is_dir():
        print("error: no mutants/ directory; run `make mutation` first", file=sys.stderr)
        return 1
    by_module, survivors = collect()
    if args.json:
        args.json.write_text(json.dumps({"by_module": by_module, "survivors": survivors}, indent=1) + "\n")
    score, unexplained = report(by_module, survivors, args.markdown)
    ok = score >= args.min and not (args.strict and unexplained)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
