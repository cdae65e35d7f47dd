"""GPUs and numeric precisions.

A ``GPU`` is a catalog entry (source and date required). Peak FLOP/s are *dense* (no 2:4
sparsity); vendors often quote sparse figures, which are twice these. Memory is in GiB as
``nvidia-smi`` counts it; bandwidths in decimal units (TB/s = 1e12 bytes/s) as vendors quote.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt, model_validator

from .errors import InputError

__all__ = ["GPU", "Precision", "PrecisionName"]

DType = Literal["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4"]

BYTES_PER_ELEM: dict[str, float] = {
    "fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "fp4": 0.5, "int4": 0.5,
    # OCP MXFP4 (gpt-oss's experts): E2M1 values plus one E8M0 scale per 32 values = 4.25 bits
    "mxfp4": 4.25 / 8,
    # NVFP4 (Blackwell): E2M1 values plus one E4M3 scale per 16 values = 4.5 bits (the one
    # fp32 scale per tensor is negligible). NVIDIA, "Introducing NVFP4", technical blog 2025-06.
    "nvfp4": 4.5 / 8,
}


class GPU(BaseModel):
    """One accelerator SKU."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    name: str
    vendor: Literal["nvidia", "amd", "intel", "google"]
    aliases: list[str] = []
    dense_tflops: dict[DType, PositiveFloat]  # dense tensor-core peak per dtype, 1e12 FLOP/s
    memory_gib: PositiveFloat  # on-board HBM/GDDR, GiB (2**30 bytes)
    memory_tb_s: PositiveFloat  # memory bandwidth, 1e12 bytes/s
    interconnect: str  # "NVLink 4", "PCIe Gen5 x16", "Infinity Fabric"
    interconnect_gb_s: PositiveFloat  # GPU-to-GPU, per GPU, *each direction*, 1e9 bytes/s
    max_gpus_per_node: PositiveInt = 8  # GPUs one fast-interconnect domain joins (TP limit)
    # The link to host (CPU) memory, each direction, 1e9 bytes/s (PCIe x16 or NVLink-C2C): what
    # weights offloaded to CPU RAM stream over. None where the catalog has no figure.
    host_link: str | None = None
    host_link_gb_s: PositiveFloat | None = None
    # None where the vendor publishes no figure (Google does not publish TPU power): energy and
    # ownership costs then need the user's own figure.
    tdp_w: PositiveFloat | None = None
    # Typical on-demand cloud rent; None where no public price exists (pass usd_per_gpu_hour).
    usd_per_gpu_hour: PositiveFloat | None = None
    # Typical purchase price of one GPU (street, in a server); None for parts that are not sold
    # (TPUs are rented only).
    usd_purchase: PositiveFloat | None = None
    # Reserved / committed-use rent where a provider publishes one, with its term and source.
    usd_per_gpu_hour_reserved: PositiveFloat | None = None
    reserved_term_years: PositiveFloat | None = None
    reserved_price_source: str | None = None
    source: str
    retrieved: date
    price_source: str
    price_as_of: date

    @model_validator(mode="after")
    def _reserved_has_term_and_source(self) -> GPU:
        given = [self.usd_per_gpu_hour_reserved, self.reserved_term_years, self.reserved_price_source]
        if any(v is not None for v in given) and not all(v is not None for v in given):
            raise ValueError("a reserved price needs usd_per_gpu_hour_reserved, reserved_term_years "
                             "and reserved_price_source together")
        return self

    @property
    def memory_bytes(self) -> float:
        return self.memory_gib * 2**30

    @property
    def hbm_bytes_per_s(self) -> float:
        return self.memory_tb_s * 1e12

    @property
    def link_bytes_per_s(self) -> float:
        return self.interconnect_gb_s * 1e9

    @property
    def host_link_bytes_per_s(self) -> float | None:
        return None if self.host_link_gb_s is None else self.host_link_gb_s * 1e9

    def peak_flops(self, dtype: str) -> float:
        """Dense peak FLOP/s for ``dtype`` (fp16 and bf16 are interchangeable)."""
        table = dict(self.dense_tflops)
        table.setdefault("fp16", table.get("bf16", 0.0))
        table.setdefault("bf16", table.get("fp16", 0.0))
        if not table.get(dtype):
            raise InputError(f"{self.key} has no {dtype} tensor cores; "
                             f"supported: {', '.join(sorted(k for k, v in table.items() if v))}")
        return table[dtype] * 1e12

    def supports(self, dtype: str) -> bool:
        return dtype in self.dense_tflops or (dtype in ("bf16", "fp16") and
                                              bool({"bf16", "fp16"} & set(self.dense_tflops)))


class PrecisionName(str, Enum):
    """Serving precisions. ``int4`` means int4 weight-only (AWQ/GPTQ), activations in 16 bit;
    ``native`` is the model's own checkpoint dtype (gpt-oss: mxfp4, DeepSeek-V3: fp8)."""

    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"
    int8 = "int8"
    int4 = "int4"
    mxfp4 = "mxfp4"
    nvfp4 = "nvfp4"
    native = "native"


class Precision(BaseModel):
    """Weight, KV-cache and matmul (compute) dtypes of a deployment."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    weights: str
    kv: str
    compute: str
    # True when only the MoE experts carry ``weights``/``compute`` and the other linear layers stay
    # 16-bit (gpt-oss's MXFP4 checkpoint); on a dense model the recipe covers every linear layer.
    experts_only: bool = False

    @classmethod
    def named(cls, name: PrecisionName | str, gpu: GPU, kv: str | None = None) -> Precision:
        """The usual recipe for ``name`` on ``gpu``.

        - bf16/fp16: everything 16-bit.
        - fp8: fp8 weights, fp8 KV and fp8 matmuls where the GPU has fp8 tensor cores (Hopper,
          Ada, Blackwell, MI300); elsewhere (A100, A10G) fp8 weight-only with 16-bit matmuls
          (Marlin-style kernels), KV in 16 bit.
        - int8: W8A8 where int8 tensor cores exist, KV in 16 bit.
        - int4: weight-only, 16-bit matmuls and KV.
        - mxfp4: the gpt-oss recipe, MoE experts in MXFP4 and the rest 16-bit. On GPUs with fp4
          tensor cores (Blackwell) the experts multiply MXFP4 weights by MXFP8 activations (fp8
          rate); elsewhere (Hopper, Ampere) it is weight-only with 16-bit matmuls. TensorRT-LLM
          "Deployment Guide for GPT-OSS", MoE backend support matrix (B200: MXFP8 x MXFP4;
          H200: BF16 x MXFP4). KV in 16 bit.
        - nvfp4: NVFP4 weights and activations on fp4 tensor cores (W4A4, fp8 KV) where the GPU
          has them; elsewhere weight-only emulation (Marlin-style, 16-bit matmuls and KV).
        ``kv`` overrides the KV-cache dtype. ``native`` is resolved by the caller from the model.
        """
        name = PrecisionName(name).value
        if name == "native":
            raise InputError("precision 'native' needs the model: use make_deployment or the model's native_dtype")
        # The 16-bit dtype the GPU really has: fp16 on GPUs without bf16 (V100, T4), whose
        # supports("bf16") is true only because the two share a peak.
        half = "fp16" if "fp16" in gpu.dense_tflops and "bf16" not in gpu.dense_tflops else "bf16"
        if name == "mxfp4":
            p = cls(weights="mxfp4", kv=half, compute="fp8" if gpu.supports("fp4") else half, experts_only=True)
        elif name == "nvfp4":
            native = gpu.supports("fp4")
            p = cls(weights="nvfp4", kv="fp8" if native and gpu.supports("fp8") else half,
                    compute="fp4" if native else half)
        elif name in ("bf16", "fp16"):
            p = cls(weights=name, kv=name, compute=name)
        elif name == "fp8":
            native = gpu.supports("fp8")
            p = cls(weights="fp8", kv="fp8" if native else half, compute="fp8" if native else half)
        elif name == "int8":
            p = cls(weights="int8", kv=half, compute="int8" if gpu.supports("int8") else half)
        else:
            p = cls(weights="int4", kv=half, compute=half)
        return p.model_copy(update={"kv": kv}) if kv else p

    @property
    def weight_bytes(self) -> float:
        return BYTES_PER_ELEM[self.weights]

    @property
    def kv_bytes(self) -> float:
        return BYTES_PER_ELEM[self.kv]

    def __str__(self) -> str:
        scope = " (experts)" if self.experts_only else ""
        return f"w:{self.weights}{scope} kv:{self.kv} mm:{self.compute}"
