"""Derive the power terms of the engine profiles from two published H100 power readings.

ML.ENERGY Benchmark v3.0 (Chung et al. 2026, arXiv:2601.22076; readings as quoted by the vLLM
semantic-router fleet-sim power-model reference) measures an H100 SXM serving an LLM with vLLM at
~300 W at batch 1 and ~600 W at batch 128. With the idle floor an assumption (power_idle_fraction),
the modelled HBM and tensor-core utilisations of those two steps (Llama-3.1-8B bf16, vllm profile,
ISL 250 / OSL 400 chat requests) give two linear equations in the memory and compute coefficients:

    P/TDP = f_idle + f_memory * u_mem + f_compute * u_math

Run: PYTHONPATH=src python benchmarks/power_anchors.py
The validation rows (catalog/data/validation/energy_published.csv) are *not* used here.
"""

from truecost.perf.deployment import make_deployment
from truecost.perf.serving import operating_point

ANCHORS_W = {1: 300.0, 128: 600.0}  # batch -> H100 SXM board power, ML.ENERGY v3.0


def utilisations(batch: int) -> tuple[float, float]:
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, "vllm")
    step = operating_point(dep, batch, 250, 400).step
    u_mem = sum(op.bytes for op in step.ops.values()) / step.total_s / dep.gpu.hbm_bytes_per_s
    u_math = sum(op.peak_s for op in step.ops.values()) / step.total_s
    return u_mem, u_math


def main() -> None:
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, "vllm")
    tdp, idle = dep.gpu.tdp_w, dep.engine.power_idle_fraction
    (m1, c1), (m2, c2) = (utilisations(b) for b in ANCHORS_W)
    y1, y2 = (w / tdp - idle for w in ANCHORS_W.values())
    det = m1 * c2 - m2 * c1
    f_memory = (y1 * c2 - y2 * c1) / det
    f_compute = (m1 * y2 - m2 * y1) / det
    print(f"batch 1:   u_mem {m1:.3f}  u_math {c1:.3f}  -> {ANCHORS_W[1]:.0f} W")
    print(f"batch 128: u_mem {m2:.3f}  u_math {c2:.3f}  -> {ANCHORS_W[128]:.0f} W")
    print(f"power_idle_fraction {idle:.2f} (assumed)  power_memory_fraction {f_memory:.2f}  "
          f"power_compute_fraction {f_compute:.2f}")


if __name__ == "__main__":
    main()
