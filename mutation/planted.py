"""Plant the audit's one-line bugs in the core formulas, one at a time, and check that a test
whose expected value comes from hand arithmetic or outside data (snapshot tests excluded) fails.

The audit of issue 13 planted 36 such bugs; 8 were caught only by the README snapshot tests.
This list recreates each kind it named (parameter and KV counts, roofline op costs, KV pool,
TTFT/E2E, Little's law, ownership $/hour, cached and batch pricing, 6·N·D, GPU-hours, PUE,
percentiles, ITL, goodput, bench $/1M, compare sizing) and every bug it singled out (TTFT's
half-step, E2E's OSL − 1, mean context ISL + OSL/2, prefill time share, 730 h, utilisation and
peak_to_mean in sizing, vLLM's average admission, $/good request, API $/1M total, mean in-flight).

    python mutation/planted.py            # every bug; stops each run at the first failing test
    python mutation/planted.py 16 17      # some of them

Each bug is applied to a scratch copy of the repository (never to the working tree), the unit,
CLI and API tests run there with ``-m "not snapshot and not integration and not gpu"`` (the
load generator's I/O tests left out: ``IO_TESTS``; the planted file's own tests first, ``FIRST``),
and the first failing test is reported. Exit status 1 if any bug survives or no longer applies
(the code it targets changed: update the line here).
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

# Every test outside the load generator's I/O, fastest to fail first.
TEST_ORDER = ["tests/unit", "tests/cli", "tests/test_public_api.py", "tests/test_doctests.py"]

# The tests of each planted file, run first: collecting every test takes a minute or two on the
# shared machine, one file a few seconds. A bug these do not kill gets the whole TEST_ORDER, so
# this only changes how fast the answer comes, not the answer.
FIRST: dict[str, list[str]] = {
    "arch.py": ["tests/unit/test_arch.py"],
    "perf/roofline.py": ["tests/unit/perf/test_roofline.py"],
    "perf/memory.py": ["tests/unit/perf/test_memory.py"],
    "perf/serving.py": ["tests/unit/perf/test_serving.py"],
    "cost.py": ["tests/unit/test_cost.py"],
    "prices.py": ["tests/unit/test_prices.py", "tests/unit/bench/test_pricing.py"],
    "train.py": ["tests/unit/test_train.py"],
    "bench/metrics.py": ["tests/unit/bench/test_metrics.py"],
    "bench/pricing.py": ["tests/unit/bench/test_pricing.py"],
    "compare.py": ["tests/unit/test_compare.py"],
    "workload.py": ["tests/unit/test_compare.py", "tests/unit/test_workload.py"],
}

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
     "m.vocab * m.d_model * 2.0 / t", "m.vocab * m.d_model * 1.0 / t"),
    ("roofline: attention counts QK only", "perf/roofline.py",
     "return 2 * matmul_flops(1, m.head_dim, m.heads)", "return matmul_flops(1, m.head_dim, m.heads)"),
    ("roofline: linear weights not sharded by TP", "perf/roofline.py",
     "dense * dep.dense_weight_bytes / t, dense_rate", "dense * dep.dense_weight_bytes, dense_rate"),
    ("roofline: LM head on every prompt token", "perf/roofline.py",
     'ops["lm_head"] = lm_head(dep, B + prefill_seqs)', 'ops["lm_head"] = lm_head(dep, B + P)'),
    ("roofline: experts touched as if k = 1", "perf/roofline.py",
     "(1.0 - active / experts) ** maximum", "(1.0 - 1 / experts) ** maximum"),
    ("roofline: ring all-reduce moves (t-1)/t", "perf/roofline.py",
     "2 * (ranks - 1) / ranks * msg_bytes", "(ranks - 1) / ranks * msg_bytes"),
    ("roofline: one all-reduce per layer", "perf/roofline.py",
     "t = (m.layers + m.layers - moe_layers) * _allreduce_s", "t = (m.layers) * _allreduce_s"),
    ("KV pool: kv_memory_fraction ignored", "perf/memory.py",
     "pool = maximum(free, 0.0) * dep.engine.kv_memory_fraction", "pool = maximum(free, 0.0)"),
    ("KV pool: reserve in GB, not GiB", "perf/memory.py",
     "reserve = dep.engine.runtime_reserve_gib * 2**30", "reserve = dep.engine.runtime_reserve_gib * 1e9"),
    ("KV pool: vLLM average admission at full ISL+OSL", "perf/memory.py",
     "dep.kv_bytes_per_gpu(isl + osl / 2))", "dep.kv_bytes_per_gpu(isl + osl))"),
    ("TTFT: no half-step wait", "perf/serving.py",
     "ttft = dep.engine.request_overhead_s + 0.5 * t_iter + _prefill_s",
     "ttft = dep.engine.request_overhead_s + _prefill_s"),
    ("E2E: OSL steps after the first token, not OSL - 1", "perf/serving.py",
     "e2e = ttft + (osl - 1) * t_iter", "e2e = ttft + osl * t_iter"),
    ("steady state: mean context ISL+OSL", "perf/serving.py",
     "decode_context=isl + osl / 2, prefill_tokens", "decode_context=isl + osl, prefill_tokens"),
    ("steady state: requests/s over OSL-1 steps", "perf/serving.py",
     "C / (osl * t_iter))", "C / ((osl - 1) * t_iter))"),
    ("prefill time share: prefill attention left out", "perf/serving.py",
     'prefill += by_op.get("attention_prefill", 0)', "prefill += 0"),
    ("Little's law on TTFT instead of E2E", "perf/serving.py",
     "if rate * operating_point(dep, mid, isl, osl, cached=cached).e2e_s > mid:",
     "if rate * operating_point(dep, mid, isl, osl, cached=cached).ttft_s > mid:"),
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
     "replicas = math.ceil(w.requests_per_s_peak / (cap * w.utilisation))\n            if tails:",
     "replicas = math.ceil(w.requests_per_s_peak / cap)\n            if tails:"),
    ("sizing: mean rate, not the peak", "compare.py",
     "replicas = math.ceil(w.requests_per_s_peak / (cap * w.utilisation))\n            if tails:",
     "replicas = math.ceil(w.requests_per_s_mean / (cap * w.utilisation))\n            if tails:"),
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
                # -x: the first failing test kills the bug (the file's own tests first)
                for tests in [*([FIRST[rel]] if rel in FIRST else []), TEST_ORDER]:
                    out = subprocess.run([python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                          "-m", MARKERS, *tests, *(f"--ignore={t}" for t in IO_TESTS)],
                                         cwd=root, env=env,
                                         capture_output=True, text=True, timeout=1800)
                    failed = re.findall(r"^FAILED (\S+)", out.stdout, re.M)
                    if out.returncode == 1 and failed:
                        break
            finally:
                path.write_text(text)
            if out.returncode == 1 and failed:
                rows.append((i, kind, rel, f"killed by {failed[0].split('/')[-1]}"))
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
