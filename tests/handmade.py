"""A hand-built model, GPU and engine whose serving figures can be worked out on paper.

Written as catalog TOML files (the way a user adds their own), so tests drive them through the
CLI and the Python API alike. The arithmetic, with D = 1024, 8 heads × 128 (MHA), gated MLP
F = 4096, V = 1024, 2 layers, untied embeddings, everything in bf16:

    dense linear weights  2 × (4·D² + 3·D·F)          = 2 × (4,194,304 + 12,582,912) = 33,554,432
    embeddings, LM head, norms  2 × V·D + (2·2 + 1)·D = 2,097,152 + 5,120 = 2,102,272
    weights per GPU (2 B each)                         = 71,313,408 B
    KV per token  2 (K, V) × 8 × 128 × 2 layers × 2 B  = 8,192 B

GPU: 1 TFLOP/s bf16, 10 GB/s, 1 GiB; engine: every efficiency 1, no overheads, no reserve, KV
admitted for ISL + OSL. With ISL = OSL = 100 and C live sequences a steady-state step decodes C
tokens and prefills C·ISL/OSL = C prompt tokens, every op reading more than it computes:

    linear weights   33,554,432 × 2 B / 1e10 B/s  = 6.7108864 ms  (compute 2·2C·33.5M / 1e12 = 0.134·C ms)
    LM head          1024 × 1024 × 2 B / 1e10     = 0.2097152 ms
    decode attention C × (100 + 100/2) × 8,192 B  = 0.12288·C ms  (compute 1% of that)
    prefill KV write C × 8,192 B                  = 0.0008192·C ms (compute 50.5·C pairs × 8,192 FLOP: half)
    step = TPOT      6.9206016 + 0.1236992·C ms
"""

from __future__ import annotations

from pathlib import Path

MODEL = """\
["hand-2l"]
name = "Hand-computable model"
layers = 2
d_model = 1024
heads = 8
kv_heads = 8
head_dim = 128
d_ff = 4096
vocab = 1024
tied_embeddings = false
max_context = 4096
source = "tests/handmade.py"
retrieved = 2026-01-01
"""

GPU = """\
["hand-gpu"]
name = "Hand-computable GPU"
vendor = "nvidia"
dense_tflops = { bf16 = 1 }
memory_gib = 1
memory_tb_s = 0.01
interconnect = "none"
interconnect_gb_s = 1
max_gpus_per_node = 1
tdp_w = 100
usd_per_gpu_hour = 2.0
source = "tests/handmade.py"
retrieved = 2026-01-01
price_source = "tests/handmade.py"
price_as_of = 2026-01-01
"""

ENGINE = """\
["hand"]
name = "Hand-computable engine"
compute_efficiency = { bf16 = 1.0 }
attention_compute_efficiency = 1.0
memory_efficiency = 1.0
step_overhead_fixed_s = 0.0
allreduce_latency_s = 0.0
link_efficiency = 1.0
runtime_reserve_gib = 0.0
kv_memory_fraction = 1.0
kv_admission = "max_length"
max_batch_size = 16
max_num_tokens = 8192
request_overhead_s = 0.0
source = "tests/handmade.py"
retrieved = 2026-01-01
"""

# 20 requests/s at the peak, all day (peak_to_mean 1), sized at 100% utilisation.
WORKLOAD = """\
name = "hand"
tasks_per_day = 1728000
peak_to_mean = 1
utilisation = 1
[tokens]
input = 100
output = 100
[slo]
{slo}
[[self_hosted]]
model = "{model}"
"""


def write(directory: Path, slo: str = "tpot_s = 0.008") -> dict[str, Path]:
    """The hand model, GPU, engine and a workload using them, as files in ``directory``."""
    paths = {name: directory / f"hand-{name}.toml" for name in ("model", "gpu", "engine", "workload")}
    paths["model"].write_text(MODEL)
    paths["gpu"].write_text(GPU)
    paths["engine"].write_text(ENGINE)
    paths["workload"].write_text(WORKLOAD.format(slo=slo, model=paths["model"].as_posix()))
    return paths
