"""How fast the serving simulation runs, side by side with the analytic model's cost.

For each scenario it simulates 10,000 requests (best of --rounds, CPU time of this process) and
prints simulated requests per CPU-second, engine steps per CPU-second, and the cost of one
simulated request in units of one steady-state ``operating_point`` call (the analytic model's
unit of work, timed in the same run). A second table shows why the simulation is fast enough:
one ``StepTable.step_s`` against one ``roofline.step_time`` on the same random steps.

    .venv/bin/python benchmarks/simulate_speed.py              # ~20 s on 2 cores
    .venv/bin/python benchmarks/simulate_speed.py --rounds 1 --requests 2000
"""

from __future__ import annotations

import argparse
import platform
import random
import time

from truecost.perf.roofline import causal_pairs, step_time
from truecost.perf.serving import make_deployment, operating_point
from truecost.perf.simulate import simulate
from truecost.perf.steps import StepTable
from truecost.perf.traffic import ClosedLoop, Fixed, LogNormal, Poisson

SCENARIOS = [  # (label, model, precision, tp, arrivals, lengths)
    ("8B, Poisson 2 req/s, fixed 1000/1000", "llama-3.1-8b", "fp8", 1, Poisson(2.0), Fixed(1000, 1000)),
    ("8B, Poisson 12 req/s (86% load), log-normal", "llama-3.1-8b", "fp8", 1, Poisson(12.0), LogNormal(1000, 1000)),
    ("8B, closed loop 256, fixed 1000/1000", "llama-3.1-8b", "fp8", 1, ClosedLoop(256), Fixed(1000, 1000)),
    ("70B TP4, closed loop 64, log-normal", "llama-3.1-70b", "fp8", 4, ClosedLoop(64), LogNormal(2000, 300)),
    ("Mixtral TP2, Poisson 8 req/s, fixed 2000/250", "mixtral-8x7b", "fp8", 2, Poisson(8.0), Fixed(2000, 250)),
]


def cpu(fn, rounds: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(rounds):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=10_000)
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; best of {args.rounds} "
          f"rounds, CPU time of one process; {args.requests:,} requests per simulation")
    print()
    print("| scenario | CPU s | requests/s | steps/s | one request = N operating points |")
    print("|---|---:|---:|---:|---:|")
    for label, model, precision, tp, arrivals, lengths in SCENARIOS:
        dep = make_deployment(model, "h100-sxm", precision, tp)
        simulate(dep, arrivals, lengths, requests=200)  # fills the step table once, as compare does
        isl, osl = (int(x) for x in lengths.means)
        t_op, _ = cpu(lambda: [operating_point(dep, 64, isl, osl) for _ in range(200)], args.rounds)
        t_sim, sim = cpu(lambda: simulate(dep, arrivals, lengths, requests=args.requests), args.rounds)
        per_request = t_sim / args.requests
        print(f"| {label} | {t_sim:.3f} | {args.requests / t_sim:,.0f} | {sim.steps / t_sim:,.0f} | "
              f"{per_request / (t_op / 200):.2f} |")
    print()
    print("| model | step_time µs | table µs | speed-up |")
    print("|---|---:|---:|---:|")
    rng = random.Random(0)
    for model, precision, tp in (("llama-3.1-8b", "fp8", 1), ("llama-3.1-70b", "fp8", 4), ("mixtral-8x7b", "fp8", 2)):
        dep = make_deployment(model, "h100-sxm", precision, tp)
        table = StepTable(dep)
        steps = [(rng.randint(1, 256), rng.uniform(100, 8000), rng.choice([0, rng.randint(1, 4096)])) for _ in range(2000)]
        steps = [(b, ctx, p, causal_pairs(p)) for b, ctx, p in steps]
        for b, ctx, p, a in steps:  # warm the table's knots, as a simulation does on its first steps
            table.step_s(b, ctx, p, a)
        t_direct, _ = cpu(lambda: [step_time(dep, b, ctx, p, a, 1 if p else 0) for b, ctx, p, a in steps], args.rounds)
        t_table, _ = cpu(lambda: [table.step_s(b, ctx, p, a) for b, ctx, p, a in steps], args.rounds)
        print(f"| {model} TP{tp} | {t_direct / len(steps) * 1e6:.1f} | {t_table / len(steps) * 1e6:.2f} | "
              f"{t_direct / t_table:.0f}x |")


if __name__ == "__main__":
    main()
