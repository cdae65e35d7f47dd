"""Board power of a deployment at its operating point, and the energy per output token.

Each GPU draws an idle floor plus a dynamic part that follows how hard its HBM and its tensor
cores work over the modelled step (roofline module), as utilisations of their peaks:

    u_mem = bytes moved / t_step / HBM peak        u_math = FLOPs / t_step / dense peak of their dtype
    P     = TDP · min(1, f_idle + f_memory · u_mem + f_compute · u_math)

Switching activity, and so power, scales with the bytes and FLOPs moved per second, not with
the time an op is "bound": a memory-bound decode step at batch 1 and one at batch 128 stream
the same weights, but the second also keeps the tensor cores a third busy — ML.ENERGY measures
~300 W and ~600 W for them on an H100. The three fractions are engine-profile terms with their
sources (``power_idle_fraction``, ``power_memory_fraction``, ``power_compute_fraction``); TDP is
the GPU catalog's. Energy per output token = replica power / output tokens per second, so
prompt processing in the step is charged to the tokens it produces. Checked against published
measurements in ``catalog/data/validation/energy_published.csv`` (``validate_energy``).

Left out: clock and power capping (DVFS), temperature, the host (CPUs, NICs, fans: PUE or a
server overhead covers them), NVLink/NVSwitch power during collectives.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..catalog import data_file
from ..errors import InputError
from .deployment import Deployment
from .engine import engine as find_engine
from .roofline import StepTime

__all__ = ["PUBLISHED_ENERGY", "PowerDraw", "mean_power_w_per_gpu", "step_power", "validate_energy"]

PUBLISHED_ENERGY = data_file("validation/energy_published.csv")


@dataclass(frozen=True, slots=True)
class PowerDraw:
    """Mean board power of each GPU of a replica over one modelled step."""

    watts_per_gpu: float
    idle_watts_per_gpu: float
    gpus: int
    compute_busy: float  # achieved FLOP/s / dense peak over the step
    memory_busy: float  # achieved HBM bytes/s / peak over the step

    @property
    def watts(self) -> float:
        """The whole replica."""
        return self.watts_per_gpu * self.gpus

    @property
    def idle_watts(self) -> float:
        return self.idle_watts_per_gpu * self.gpus

    def joules_per_token(self, tokens_per_s: float) -> float:
        """Energy per token when the replica produces ``tokens_per_s`` tokens per second."""
        return self.watts / tokens_per_s


def step_power(dep: Deployment, step: StepTime) -> PowerDraw | None:
    """Power of each GPU of ``dep`` while it runs ``step`` back to back; None for an accelerator
    whose catalog entry has no published TDP (the power model is in fractions of it).

        >>> from truecost.perf.deployment import make_deployment
        >>> from truecost.perf.roofline import step_time
        >>> dep = make_deployment("llama-3.1-8b", "h100-sxm")
        >>> round(step_power(dep, step_time(dep, 1, 1)).watts)
        329
    """
    e, tdp, total = dep.engine, dep.gpu.tdp_w, step.total_s
    if tdp is None:
        return None
    if total <= 0:  # an empty step: nothing runs
        idle = tdp * e.power_idle_fraction
        return PowerDraw(idle, idle, dep.gpus, 0.0, 0.0)
    u_mem = sum(op.bytes for op in step.ops.values()) / total / dep.gpu.hbm_bytes_per_s
    u_math = sum(op.peak_s for op in step.ops.values()) / total
    frac = min(1.0, e.power_idle_fraction + e.power_memory_fraction * u_mem + e.power_compute_fraction * u_math)
    return PowerDraw(watts_per_gpu=tdp * frac, idle_watts_per_gpu=tdp * e.power_idle_fraction, gpus=dep.gpus,
                     compute_busy=u_math, memory_busy=u_mem)


def mean_power_w_per_gpu(draw: PowerDraw, busy_fraction: float) -> float:
    """Mean power of a GPU that runs at ``draw`` for ``busy_fraction`` of the time and idles the
    rest (a replica sized for the peak serves the mean load: busy share = mean / capacity)."""
    share = min(max(busy_fraction, 0.0), 1.0)
    return draw.idle_watts_per_gpu + (draw.watts_per_gpu - draw.idle_watts_per_gpu) * share


_ENERGY_METRICS = ("gpu_power_w", "energy_per_output_token_j")


def validate_energy(csv_path: Path | str = PUBLISHED_ENERGY) -> list:  # list[ValidationRow]
    """Predict every row of ``csv_path`` (default: the shipped published rows): board power per
    GPU, or energy per output token, at ``batch`` live sequences of ``isl``/``osl`` tokens with
    the row's engine profile (``max_num_seqs`` overriding its batch cap where given)."""
    from .serving import estimate
    from .validation import ValidationRow

    out = []
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["metric"] not in _ENERGY_METRICS:
                raise InputError(f"row {row['id']}: unknown metric '{row['metric']}'; known: {', '.join(_ENERGY_METRICS)}")
            eng = find_engine(row["engine"])
            if row.get("max_num_seqs"):
                eng = eng.model_copy(update={"max_batch_size": int(row["max_num_seqs"])})
            est = estimate(row["model"], row["gpu"], precision=row["precision"], tp=int(row["tp"]),
                           isl=int(row["isl"]), osl=int(row["osl"]), concurrency=int(row["batch"]), engine=eng)
            if est.power_w is None or est.energy_j_per_output_token is None:
                raise InputError(f"row {row['id']}: {row['gpu']} has no published TDP to model power from")
            value = est.power_w / est.gpus if row["metric"] == "gpu_power_w" else est.energy_j_per_output_token
            desc = (f"{row['model']} {row['gpus']}x{row['gpu']} {row['precision']} {row['engine']} "
                    f"batch {row['batch']} {row['isl']}/{row['osl']}")
            out.append(ValidationRow(row["id"], desc, row["metric"], row["unit"], float(row["value"]), value, est.binding))
    return out
