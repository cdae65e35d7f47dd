"""Plant the audit's one-line bugs in the core formulas, one at a time, and check that a test
whose expected value comes from hand arithmetic or outside data (snapshot tests excluded) fails.

The audit of issue 13 planted 36 such bugs; 8 were caught only by the README snapshot tests.
This list recreates each kind it named (parameter and KV counts, roofline op costs, KV pool,
TTFT/E2E, Little's law, ownership $/hour, cached and batch pricing, 6·N·D, GPU-hours, PUE,
percentiles, ITL, goodput, bench $/1M, compare sizing) and every bug it singled out (TTFT's
half-step, E2E's OSL − 1, mean context ISL + OSL/2, prefill time share, 730 h, utilisation and
peak_to_mean in sizing, vLLM's average admission, $/good request, API $/1M total, mean in-flight).

    python mutation/planted.py            # every bug; ~15 min on 2 shared cores
    python mutation/planted.py 16 17      # some of them

Each bug is applied to a scratch copy of the repository (never to the working tree), the unit,
CLI and API tests run there with ``-m "not snapshot and not integration and not gpu"`` (the
load generator's I/O tests left out: ``IO_TESTS``), and the failing tests are reported. Exit status 1 if any bug survives or no longer applies (the code it
targets changed: update the line here).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARKERS = "not snapshot and not integration and not gpu"
# Tests of the load generator's I/O (fake server, event loop, store, Ray) test no formula and
# are timing-sensitive on a loaded machine; leaving them out keeps a flaky failure from passing
# for a kill.
IO_TESTS = ["tests/integration", "tests/unit/bench/test_client.py", "tests/unit/bench/test_runner.py",
            "tests/unit/bench/test_run.py", "tests/unit/bench/test_store.py",
            "tests/unit/bench/test_distributed.py", "tests/cli/test_bench_cli.py"]

# (kind, file under src/truecost, original text, planted text)
BUGS: list[tuple[str, str, str, str]] = [
    ("params: gated MLP has 2 matrices", "arch.py",
     'mats = 3 if self.mlp == "gated" else 2', 'mats = 2 if self.mlp == "gated" else 2'),
    ("params: K/V projections sized by query heads", "arch.py",
     "n = D * H * Dh + 2 * D * K * Dh + H * Dh * D", "n = D * H * Dh + 2 * D * H * Dh + H * Dh * D"),
    ("params: tied embeddings counted twice", "arch.py",
     "lm_head=0 if self.tied_embeddings else V * D", "lm_head=V * D"),
    ("params: final norm left out", "arch.py",
     "norms = L * self.norms_per_layer * norm_w + norm_w", "norms = L * self.norms_per_layer * norm_w"),
    ("KV: K only, not K and V", "arch.py",
     "return 2 * self.kv_heads * self.head_dim", "return self.kv_heads * self.head_dim"),
    ("roofline: LM head read at 1 byte", "perf/roofline.py",
     "m.vocab * D * 2.0 / t", "m.vocab * D * 1.0 / t"),
    ("roofline: attention counts QK only", "perf/roofline.py",
     "return 2 * matmul_flops(1, m.head_dim, m.heads)", "return matmul_flops(1, m.head_dim, m.heads)"),
    ("roofline: linear weights not sharded by TP", "perf/roofline.py",
     "matmul_flops(T, dense, 1) / t, dense * w / t", "matmul_flops(T, dense, 1) / t, dense * w"),
    ("roofline: LM head on every prompt token", "perf/roofline.py",
     "logits_tokens = B + prefill_seqs", "logits_tokens = B + P"),
    ("roofline: experts touched as if k = 1", "perf/roofline.py",
     "(1.0 - active / experts) ** tokens", "(1.0 - 1 / experts) ** tokens"),
    ("roofline: ring all-reduce moves (t-1)/t", "perf/roofline.py",
     "2 * (t - 1) / t * msg", "(t - 1) / t * msg"),
    ("roofline: one all-reduce per layer", "perf/roofline.py",
     "return 2 * dep.model.layers * per", "return dep.model.layers * per"),
    ("KV pool: kv_memory_fraction ignored", "perf/memory.py",
     "pool = max(free, 0.0) * dep.engine.kv_memory_fraction", "pool = max(free, 0.0)"),
    ("KV pool: reserve in GB, not GiB", "perf/memory.py",
     "reserve = dep.engine.runtime_reserve_gib * 2**30", "reserve = dep.engine.runtime_reserve_gib * 1e9"),
    ("KV pool: vLLM average admission at full ISL+OSL", "perf/memory.py",
     'isl + osl if dep.engine.kv_admission == "max_length" else isl + osl / 2',
     'isl + osl if dep.engine.kv_admission == "max_length" else isl + osl'),
    ("TTFT: no half-step wait", "perf/serving.py",
     "return dep.engine.request_overhead_s + 0.5 * t_iter + t", "return dep.engine.request_overhead_s + t"),
    ("E2E: OSL steps after the first token, not OSL - 1", "perf/serving.py",
     "e2e = ttft + (osl - 1) * t_iter", "e2e = ttft + osl * t_iter"),
    ("steady state: mean context ISL+OSL", "perf/serving.py",
     "decode_context=isl + osl / 2, prefill_tokens", "decode_context=isl + osl, prefill_tokens"),
    ("steady state: requests/s over OSL-1 steps", "perf/serving.py",
     "C / (osl * t_iter))", "C / ((osl - 1) * t_iter))"),
    ("prefill time share: prefill attention left out", "perf/serving.py",
     'prefill += by_op.get("attention_prefill", 0)', "prefill += 0"),
    ("Little's law on TTFT instead of E2E", "perf/serving.py",
     "if rate * operating_point(dep, mid, isl, osl).e2e_s > mid:",
     "if rate * operating_point(dep, mid, isl, osl).ttft_s > mid:"),
    ("month of 720 hours", "cost.py",
     "HOURS_PER_MONTH = 730.0", "HOURS_PER_MONTH = 720.0"),
    ("ownership: no server overhead on capex", "cost.py",
     "capex = g.usd_purchase * (1 + t.server_overhead_fraction)", "capex = g.usd_purchase * (1 + 0.0)"),
    ("ownership: energy without PUE", "cost.py",
     "* t.pue * t.usd_per_kwh", "* t.usd_per_kwh"),
    ("API: cached input at the full input price", "prices.py",
     "+ cached_input_tokens * cached_price", "+ cached_input_tokens * self.usd_per_mtok_input"),
    ("API: batch pays the discount, not the price", "prices.py",
     "usd *= self.batch_discount", "usd *= 1 - self.batch_discount"),
    ("API: reasoning not billed", "prices.py",
     "billed_out = output_tokens + reasoning_tokens", "billed_out = output_tokens"),
    ("train: 2·N·D", "train.py",
     'dense = _modelled(6 * active.value * tokens', 'dense = _modelled(2 * active.value * tokens'),
    ("train: total, not active, parameters", "train.py",
     'dense = _modelled(6 * active.value * tokens', 'dense = _modelled(6 * total.value * tokens'),
    ("train: GPU-hours without MFU", "train.py",
     "gpu_hours = flops / (peak.value * mfu_fig.value) / SECONDS_PER_HOUR",
     "gpu_hours = flops / peak.value / SECONDS_PER_HOUR"),
    ("train: energy without PUE", "train.py",
     "return gpu_hours * tdp_w * power_fraction_of_tdp * pue / 1e6",
     "return gpu_hours * tdp_w * power_fraction_of_tdp / 1e6"),
    ("percentile: lower order statistic, no interpolation", "bench/metrics.py",
     "return s[lo] + (s[hi] - s[lo]) * (pos - lo)", "return s[lo]"),
    ("ITL over n tokens, not n - 1 gaps", "bench/metrics.py",
     "return (r.last_token - r.first_token) / (n - 1)", "return (r.last_token - r.first_token) / n"),
    ("goodput fraction over successes only", "bench/metrics.py",
     "good_fraction=(good / len(m) if m else None)", "good_fraction=(good / len(ok) if ok else None)"),
    ("mean in-flight = requests / window", "bench/metrics.py",
     "mean_concurrency=rate(math.fsum(r.end - r.actual_send for r in m))", "mean_concurrency=rate(len(m))"),
    ("bench: $/1M output over total tokens/s", "bench/pricing.py",
     "per(s.output_token_throughput, 1e6)", "per(s.total_token_throughput, 1e6)"),
    ("bench: $/good request over all requests/s", "bench/pricing.py",
     "per(s.goodput)", "per(s.request_throughput)"),
    ("bench: API $/1M total over output tokens", "bench/pricing.py",
     "total / both * 1e6 if both else None", "total / out * 1e6 if both else None"),
    ("sizing: utilisation ignored", "compare.py",
     "math.ceil(w.requests_per_s_peak / (cap * w.utilisation))", "math.ceil(w.requests_per_s_peak / cap)"),
    ("sizing: mean rate, not the peak", "compare.py",
     "math.ceil(w.requests_per_s_peak / (cap * w.utilisation))",
     "math.ceil(w.requests_per_s_mean / (cap * w.utilisation))"),
    ("workload: peak without peak_to_mean", "workload.py",
     "return self.requests_per_s_mean * self.peak_to_mean", "return self.requests_per_s_mean"),
    ("compare: $/1M input takes the decode share", "compare.py",
     "mtok_in = monthly * share /", "mtok_in = monthly * (1 - share) /"),
]


def _copy_repo(dst: Path) -> None:
    for name in ("src", "tests", "examples", "benchmarks", "pyproject.toml", "README.md"):
        p = REPO / name
        if p.is_dir():
            shutil.copytree(p, dst / name, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
        elif p.exists():
            shutil.copy2(p, dst / name)


def run(ids: list[int]) -> int:
    python = sys.executable
    rows, bad = [], 0
    with tempfile.TemporaryDirectory(prefix="truecost-planted-") as tmp:
        root = Path(tmp)
        _copy_repo(root)
        env = {**os.environ, "PYTHONPATH": str(root / "src"), "CI": ""}
        for i in ids:
            kind, rel, old, new = BUGS[i - 1]
            path = root / "src" / "truecost" / rel
            text = path.read_text()
            if text.count(old) != 1:
                rows.append((i, kind, rel, "NOT APPLIED: the line changed; update mutation/planted.py"))
                bad += 1
                continue
            path.write_text(text.replace(old, new))
            try:
                out = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                      "-m", MARKERS, "tests", *(f"--ignore={t}" for t in IO_TESTS)],
                                     cwd=root, env=env,
                                     capture_output=True, text=True, timeout=1800)
            finally:
                path.write_text(text)
            failed = re.findall(r"^FAILED (\S+)", out.stdout, re.M)
            if out.returncode == 1 and failed:
                names = ", ".join(f.split("/")[-1] for f in failed[:2])
                more = f" and {len(failed) - 2} more" if len(failed) > 2 else ""
                rows.append((i, kind, rel, f"killed by {names}{more}"))
            else:
                rows.append((i, kind, rel, f"SURVIVED (pytest exit {out.returncode})"))
                bad += 1
            print(f"{i:2d} {rows[-1][3]}", file=sys.stderr, flush=True)
    print(f"| # | planted bug | file | result |\n|---:|---|---|---|")
    for i, kind, rel, result in rows:
        print(f"| {i} | {kind} | {rel} | {result} |")
    print(f"\n{len(rows) - bad} of {len(rows)} planted bugs killed by non-snapshot tests")
    return 1 if bad else 0


if __name__ == "__main__":
    chosen = [int(a) for a in sys.argv[1:]] or list(range(1, len(BUGS) + 1))
    sys.exit(run(chosen))
