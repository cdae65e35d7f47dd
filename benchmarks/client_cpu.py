"""CPU per streamed request of truecost's load generator, for one or more source trees side by
side: a check that a change to the client's hot path (``bench/client.py``, ``runner.py``) costs
nothing. Each tree runs ``runner.run_shard`` (closed loop, 32 in flight) in its own process
against ``fastserver.py``, in alternating rounds; CPU time (user + system) is the measure, since
wall-clock rates on a shared machine move with its load.

    python benchmarks/client_cpu.py /path/to/main/src src --rounds 6

Prints the median CPU per request for 16-token and 1024-token replies and each tree's ratio to
the first.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_ONE = """
import resource, sys, time
sys.path.insert(0, sys.argv[1])
from truecost.bench.client import Endpoint
from truecost.bench.runner import run_shard
from truecost.bench.workload import synthetic
specs = synthetic(int(sys.argv[4]), 16, int(sys.argv[3]))
r0 = resource.getrusage(resource.RUSAGE_SELF)
out = run_shard(Endpoint.of(sys.argv[2], "fast-model"), specs, None, 32, time.time())
r1 = resource.getrusage(resource.RUSAGE_SELF)
ok = sum(r.ok for r in out.records)
print((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / ok)
"""
SCENARIOS = ((16, 3000), (1024, 400))  # (reply tokens, requests)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", nargs="+", type=Path, help="src/ folders holding truecost")
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    srv = subprocess.Popen([sys.executable, str(HERE / "fastserver.py"), "0"],
                           stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{int(srv.stdout.readline())}/v1"  # type: ignore[union-attr]
        cpu: dict[tuple[int, int], list[float]] = {}
        for r in range(args.rounds):
            order = list(enumerate(args.trees))
            for i, tree in order if r % 2 == 0 else order[::-1]:
                for osl, n in SCENARIOS:
                    out = subprocess.run([sys.executable, "-c", _ONE, str(tree.resolve()), base,
                                          str(osl), str(n)], capture_output=True, text=True,
                                         check=True).stdout
                    cpu.setdefault((i, osl), []).append(float(re.findall(r"[\d.e-]+", out)[-1]))
    finally:
        srv.kill()
        srv.wait()
    for osl, _ in SCENARIOS:
        first = statistics.median(cpu[(0, osl)])
        for i, tree in enumerate(args.trees):
            m = statistics.median(cpu[(i, osl)])
            print(f"{osl:>5}-token replies  {str(tree):<40} {m * 1e3:.3f} ms CPU/request  "
                  f"x{m / first:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
