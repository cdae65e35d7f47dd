"""Hand-computable inputs for oracle tests: a GPU with round peaks, a model with round dimensions,
and an engine profile whose every term the test sets.

Expected values in the oracle tests are worked out by hand from these numbers (the arithmetic is
written in each test), never by calling the function under test, and never from a shipped
catalog entry or a tuned default that another change could move. Three GPUs make one resource
the only one that costs time:

- ``FAST``: compute and bandwidth so large that a step costs its fixed overhead alone (to 1e-17
  relative), which makes TTFT, E2E, Little's law and sizing closed forms in the engine terms;
- ``MEMORY_BOUND``: 2 TB/s of HBM (1 TB/s achievable at η_m = 0.5) and unbounded FLOP/s, so
  every op costs its bytes / 1e12 s;
- ``COMPUTE_BOUND``: 1 PFLOP/s bf16 (η_c = 0.5 → 5e14 FLOP/s; attention η = 0.25 → 2.5e14) and
  unbounded bandwidth, so every op costs its FLOPs over those.

``MODEL`` ("hand-2l"): 2 layers, D = 1024, 8 query heads and 2 KV heads of 128, gated MLP of
4096, vocabulary 1024, untied embeddings. Its counts, by hand:

    attention per layer = D·H·Dh + 2·D·K·Dh + H·Dh·D = 1,048,576 + 524,288 + 1,048,576 = 2,621,440
    MLP per layer       = 3·D·F = 3·1024·4096                                         = 12,582,912
    dense (2 layers)    = 2 · 15,204,352                                              = 30,408,704
    embedding = LM head = V·D = 1024·1024                                             =  1,048,576
    norms               = 2 layers · 2 · 1024 + 1024 (final)                          =      5,120
    total               = 30,408,704 + 2 · 1,048,576 + 5,120                          = 32,510,976
    KV bytes per token (bf16) = 2 (K,V) · 2 heads · 128 · 2 layers · 2 bytes          =      2,048

The engine profile is built field by field (``engine(**terms)``): when the profile gains a term,
it must be set here (to the value that leaves these closed forms true) or construction fails.
The step overhead is all fixed (1 ms at any depth).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from truecost.arch import ModelArch, MoE
from truecost.hardware import GPU, Precision
from truecost.perf.deployment import Deployment
from truecost.perf.engine import EngineProfile

DAY = date(2026, 1, 1)

# Hand counts of MODEL (module docstring).
DENSE_PARAMS = 30_408_704
EMBED_PARAMS = 1_048_576  # = LM head
NORM_PARAMS = 5_120
TOTAL_PARAMS = 32_510_976
KV_BYTES_PER_TOKEN = 2_048  # bf16
WEIGHTS_BYTES_BF16 = TOTAL_PARAMS * 2  # 65,021,952
LM_HEAD_BYTES = EMBED_PARAMS * 2  # 2,097,152: the LM head stays 16-bit
DENSE_BYTES_BF16 = DENSE_PARAMS * 2  # 60,817,408: the weights a step streams through linear layers
ATTN_FLOPS_PER_PAIR_PER_LAYER = 2 * 2 * 128 * 8  # QKᵀ and PV, one multiply-add per head dim: 4,096

MODEL_FIELDS: dict[str, Any] = dict(
    name="Hand 2-layer", hf_id="test/hand-2l", layers=2, d_model=1024, heads=8, kv_heads=2,
    head_dim=128, d_ff=4096, vocab=1024, tied_embeddings=False, max_context=1_000_000,
    source="hand-made for tests", retrieved=DAY)
MODEL = ModelArch(key="hand-2l", **MODEL_FIELDS)

# An MoE variant: every layer's MLP is 8 experts of width 1024, 2 active per token.
#   one expert = 3·1024·1024 = 3,145,728; router per layer = D·E = 8,192
MOE_MODEL = ModelArch(key="hand-moe", **{**MODEL_FIELDS, "hf_id": "test/hand-moe"},
                      moe=MoE(experts=8, active_experts=2, d_ff_expert=1024))
EXPERT_PARAMS = 3_145_728

_GPU_FIELDS: dict[str, Any] = dict(
    name="Hand GPU", vendor="nvidia", memory_gib=64, interconnect="NVLink",
    interconnect_gb_s=100, max_gpus_per_node=8, tdp_w=1000, usd_per_gpu_hour=2.0,
    usd_purchase=20_000, source="hand-made for tests", retrieved=DAY,
    price_source="hand-made price", price_as_of=DAY)
UNBOUNDED_TFLOPS = 1e18  # 1e30 FLOP/s: a step's FLOPs cost ~1e-22 s
UNBOUNDED_TB_S = 1e18  # 1e30 bytes/s


def gpu(key: str = "hand-gpu", *, bf16_tflops: float = 1000.0, memory_tb_s: float = 2.0,
        **over: Any) -> GPU:
    """A GPU with round numbers: 1,000 dense bf16 TFLOP/s (fp8 twice that), 2 TB/s, 64 GiB,
    100 GB/s links, 1 kW, $2/hour, $20,000."""
    fields = {**_GPU_FIELDS, **over}
    fields.setdefault("dense_tflops", {"bf16": bf16_tflops, "fp8": 2 * bf16_tflops})
    return GPU(key=key, memory_tb_s=memory_tb_s, **fields)


FAST = gpu("hand-fast", bf16_tflops=UNBOUNDED_TFLOPS, memory_tb_s=UNBOUNDED_TB_S)
MEMORY_BOUND = gpu("hand-memory", bf16_tflops=UNBOUNDED_TFLOPS, memory_tb_s=2.0)
COMPUTE_BOUND = gpu("hand-compute", bf16_tflops=1000.0, memory_tb_s=UNBOUNDED_TB_S)

ENGINE_TERMS: dict[str, Any] = dict(
    name="Hand engine",
    compute_efficiency={"bf16": 0.5, "fp8": 0.5, "int8": 0.5},  # → 5e14 bf16 FLOP/s on COMPUTE_BOUND
    attention_compute_efficiency=0.25,  # → 2.5e14 FLOP/s: differs from η_c so a swap shows
    memory_efficiency=0.5,  # → 1e12 bytes/s on a 2 TB/s GPU
    step_overhead_fixed_s=0.001,
    step_overhead_per_layer_s=0.0,  # the whole 1 ms is fixed: a step's overhead is 1 ms at any depth
    allreduce_latency_s=1e-5,
    alltoall_latency_s=2e-5,  # differs from the all-reduce's, so a swap shows (EP only)
    link_efficiency=0.5,  # → 5e10 bytes/s on 100 GB/s links
    moe_tile_tokens=4,  # m₀: each expert an MoE step touches costs 4 tokens' worth of extra compute
    runtime_reserve_gib=4.0,
    kv_memory_fraction=0.5,
    kv_admission="max_length",
    max_batch_size=4096,
    max_num_tokens=512,
    request_overhead_s=0.01,
    power_idle_fraction=0.15,
    power_memory_fraction=0.6,
    power_compute_fraction=1.55,
    scheduling="decode_first",
    chunked_prefill=True,  # prompts split to the step's token budget: what the closed forms assume
    prefix_caching=False,
    source="hand-made for tests",
    retrieved=DAY,
)
# The profile's fields that are not terms of the model (names, provenance, whether plan searches it).
_NOT_TERMS = {"key", "sources", "calibration", "plan_default"}


def _terms(over: dict[str, Any]) -> dict[str, Any]:
    """ENGINE_TERMS with ``over``. Every field of today's profile must be set here, so a term the
    profile gains cannot slip into these closed forms through its default: set it above to the
    value that keeps them true."""
    missing = set(EngineProfile.model_fields) - set(ENGINE_TERMS) - _NOT_TERMS
    assert not missing, f"tests/hand.py: set the engine terms {sorted(missing)} in ENGINE_TERMS"
    return {**ENGINE_TERMS, **over}


def engine(key: str = "hand-engine", **over: Any) -> EngineProfile:
    return EngineProfile.model_validate({"key": key, **_terms(over)})


def bf16(g: GPU) -> Precision:
    return Precision.named("bf16", g)


def deployment(g: GPU, tp: int = 1, model: ModelArch = MODEL, **engine_terms: Any) -> Deployment:
    return Deployment(model, g, bf16(g), tp, engine(**engine_terms))


# ---- the same objects as TOML files, for code that takes names or paths (compare workloads) ----
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_toml(path: Path, fields: dict[str, Any]) -> Path:
    """One catalog entry as a TOML file (the file's stem is its key)."""
    path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in fields.items() if v is not None))
    return path


def gpu_file(dir_: Path, g: GPU) -> str:
    return str(write_toml(dir_ / f"{g.key}.toml", g.model_dump(exclude={"key"})))


def model_file(dir_: Path, m: ModelArch = MODEL) -> str:
    return str(write_toml(dir_ / f"{m.key}.toml", m.model_dump(exclude={"key"}, exclude_none=True)))


def engine_file(dir_: Path, key: str = "hand-engine", **over: Any) -> str:
    return str(write_toml(dir_ / f"{key}.toml", _terms(over)))
