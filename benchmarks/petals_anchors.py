"""Derive the Petals engine profile's per-layer overhead and GEMM efficiency from published
Petals server logs.

A Petals server measures, when it starts, how fast it runs one of its blocks and logs it. PR #499
of bigscience-workshop/petals (2023-09-03, Falcon-40B support) quotes those lines for Falcon-40B
blocks quantised to NF4, bfloat16 activations:

    A100-SXM4-80GB   Inference throughput  710.3 tokens/sec per block (1 tokens/batch)
                     Forward pass throughput 61,680.6 tokens/sec per block (1024 tokens/batch)
    H100 PCIe        Inference throughput  728.4 tokens/sec per block (1 tokens/batch)
                     Forward pass throughput 93,138.6 tokens/sec per block (1024 tokens/batch)

At one token a block is memory-bound: what the roofline's weight streaming (at the profile's
memory efficiency) leaves of the measured time is the per-layer overhead, and it comes out
nearly the same on both GPUs (so it is launch/CPU-bound, not bandwidth-bound). At 1,024 tokens
a block is compute-bound: after that overhead, the GEMM FLOPs over the remaining time give the
fraction of the bf16 peak that NF4's dequantise-then-GEMM reaches. Both are averaged over the two
GPUs and written, with this script's name and date, into the ``petals`` profile of
``catalog/data/engines.toml``. NF4 is taken as truecost's ``int4`` (4 bits a weight, 16-bit
matmuls); QLoRA's double-quantised NF4 stores 4.127 bits (Dettmers et al. 2023, §3), a 3% larger
block that this leaves in the overhead.

The validation rows (catalog/data/validation/swarm_published.csv: BLOOM-176B and Llama 2 swarms
of the Petals papers) are *not* used here.

Run: PYTHONPATH=src python benchmarks/petals_anchors.py
"""

from truecost import catalog
from truecost.arch import ModelArch
from truecost.perf.engine import engine
from truecost.perf.roofline import step_time
from truecost.perf.swarm import _deployment, _without_lm_head

# Falcon-40B, transcribed from huggingface.co/tiiuae/falcon-40b config.json (new_decoder_architecture:
# 128 query heads of 64, 8 KV heads, a 4x GELU MLP without biases, two LayerNorms per block).
FALCON_40B = ModelArch(
    key="falcon-40b", name="Falcon 40B", layers=60, d_model=8192, heads=128, kv_heads=8, head_dim=64,
    d_ff=32768, vocab=65024, tied_embeddings=False, max_context=2048, mlp="plain", norm="layernorm",
    source="huggingface.co/tiiuae/falcon-40b config.json", retrieved="2026-11-25")

# GPU -> (tokens/s per block at 1 token per batch, at 1,024 tokens per batch), PR #499
LOGS = {"a100-80gb": (710.3, 61_680.6), "h100-pcie": (728.4, 93_138.6)}


def main() -> None:
    prof = engine("petals")
    overheads, effs = [], []
    for gpu, (decode_tps, forward_tps) in LOGS.items():
        no_overhead = prof.model_copy(update={"step_overhead_per_layer_s": 0.0})
        dep = _deployment(FALCON_40B, catalog.gpu(gpu), "int4", no_overhead, 0, 1)
        roofline_1 = _without_lm_head(step_time(dep, 1, 1))
        overhead = 1 / decode_tps - roofline_1
        peak = dep.gpu.peak_flops(dep.precision.compute)  # NF4 is weight-only: bf16 GEMMs
        flops_1024 = 2 * 1024 * dep.dense_params
        eff = flops_1024 / peak / (1024 / forward_tps - overhead)
        overheads.append(overhead)
        effs.append(eff)
        print(f"{gpu:10s} block at 1 token {1e3 / decode_tps:.3f} ms, weight streaming {roofline_1 * 1e3:.3f} ms "
              f"-> overhead {overhead * 1e3:.3f} ms/layer; at 1,024 tokens {1024e3 / forward_tps:.2f} ms "
              f"-> GEMM efficiency {eff:.3f} of the bf16 peak")
    print(f"step_overhead_per_layer_s {sum(overheads) / len(overheads):.5f}  "
          f"compute_efficiency {sum(effs) / len(effs):.2f}")


if __name__ == "__main__":
    main()
