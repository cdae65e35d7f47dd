"""How fast plan's screen runs: candidate configurations per CPU-second, vectorised (numpy over a
``Deployments`` batch) side by side with the one-configuration path compare uses, in one run.

For each model it screens the whole space plan searches by default — every catalog GPU with a
price × GPUs per replica and layout × precision × engine profile × max batch — for a chat workload
with percentile SLOs, and reports:

- ``screen``: ``plan.screen`` on every configuration at once (memory plan, the most live
  sequences within the SLO as steady-state means by bisection, capacity, replicas, $/hour bound,
  binding, the near-peak steady state); CPU time of this process, best of ``--rounds``;
- ``scalar``: the same figures one configuration at a time through compare's path
  (``memory_plan`` + ``sizing.mean_slo_point`` per ``Deployment``), on a random sample of rows;
- a second table: one ``roofline.step_time`` over a batch vs one call per configuration.

One core: numpy's element-wise loops are single-threaded; the BLAS thread pools are pinned to one
thread anyway before numpy is imported.

    .venv/bin/python benchmarks/plan_speed.py               # ~30 s on 2 cores
    .venv/bin/python benchmarks/plan_speed.py --rounds 1 --sample 50
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from truecost.perf.deployment import Deployments  # noqa: E402
from truecost.perf.memory import memory_plan  # noqa: E402
from truecost.perf.roofline import causal_pairs, step_time  # noqa: E402
from truecost.perf.simulate import Objective  # noqa: E402
from truecost.plan import MAX_BATCHES, _available_gpus, _engines, _precisions, screen  # noqa: E402
from truecost.sizing import mean_slo_point  # noqa: E402
from truecost.workload import Workload  # noqa: E402

MODELS = ("llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "gpt-oss-120b", "deepseek-v3")
WORKLOAD = {"name": "chat", "tasks_per_day": 500_000, "tokens": {"input": 2000, "cached_input_fraction": 0.5,
                                                                 "output": 300},
            "slo": {"ttft_p95_s": 1.0, "tpot_p95_s": 0.05}}


def cpu(fn, rounds: int):
    best, out = math.inf, None
    for _ in range(rounds):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def scalar_screen(w: Workload, sp, rows: np.ndarray) -> None:
    """compare's per-configuration sizing of ``rows``: memory plan, SLO concurrency, replicas."""
    objectives = [Objective(o.metric, "mean", o.limit_s) for o in w.slo.objectives()]
    for row in rows:
        dep = sp.deployment(int(row))
        try:
            mem = memory_plan(dep, sp.isl, sp.osl)
        except Exception:  # does not fit
            continue
        cached = math.floor(sp.isl * sp.hit) if dep.engine.prefix_caching else 0
        op = mean_slo_point(dep, objectives, sp.isl, sp.osl, mem.max_concurrency, cached)
        if op is not None:
            math.ceil(w.requests_per_s_peak / (op.requests_per_s * w.utilisation))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sample", type=int, default=200, help="configurations timed on the scalar path")
    args = ap.parse_args()
    gpus, engines, precisions = _available_gpus(None), _engines(None), _precisions(None)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}; CPU time of "
          f"one process, best of {args.rounds}; scalar path on {args.sample} random configurations per model")
    print()
    print("| model | configurations | screen ms | screen configs/s | scalar configs/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    total_n, total_t = 0, 0.0
    for model in MODELS:
        w = Workload.model_validate({**WORKLOAD, "self_hosted": [{"model": model}]})
        c, objectives = w.self_hosted[0], list(w.slo.objectives())
        run = lambda: screen(w, c, gpus, precisions, engines, MAX_BATCHES, objectives)  # noqa: E731
        run()  # catalog and engine files loaded once, as in a real run
        t_vec, sp = cpu(run, args.rounds)
        rows = rng.choice(len(sp), size=min(args.sample, len(sp)), replace=False)
        t_one, _ = cpu(lambda: scalar_screen(w, sp, rows), 1)
        vec_rate, one_rate = len(sp) / t_vec, len(rows) / t_one
        total_n, total_t = total_n + len(sp), total_t + t_vec
        print(f"| {model} | {len(sp):,} | {t_vec * 1e3:.1f} | {vec_rate:,.0f} | {one_rate:,.0f} | "
              f"{vec_rate / one_rate:,.0f}x |")
    print(f"| all | {total_n:,} | {total_t * 1e3:.1f} | {total_n / total_t:,.0f} | | |")
    print()
    print("| model | rows | batch step_time µs/row | one step_time µs | ratio |")
    print("|---|---:|---:|---:|---:|")
    for model in MODELS:
        w = Workload.model_validate({**WORKLOAD, "self_hosted": [{"model": model}]})
        sp = screen(w, w.self_hosted[0], gpus, precisions, engines, MAX_BATCHES, list(w.slo.objectives()))
        deps = [sp.deployment(int(r)) for r in rng.choice(len(sp), size=min(args.sample, len(sp)), replace=False)]
        batch = Deployments.stack(deps)
        B = rng.integers(1, 256, len(deps)).astype(float)
        P = rng.integers(0, 4096, len(deps)).astype(float)
        A = np.array([causal_pairs(p, 500) for p in P])
        t_batch, _ = cpu(lambda: step_time(batch, B, 2150.0, P, A, 1.0), args.rounds * 5)
        t_each, _ = cpu(lambda: [step_time(d, B[i], 2150.0, P[i], A[i], 1.0) for i, d in enumerate(deps)], args.rounds)
        print(f"| {model} | {len(deps)} | {t_batch / len(deps) * 1e6:.2f} | {t_each / len(deps) * 1e6:.1f} | "
              f"{t_each / t_batch:,.0f}x |")


if __name__ == "__main__":
    main()
