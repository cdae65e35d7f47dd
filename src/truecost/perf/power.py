"""Board power of a deployment at its operating point, and the energy per output token.

Each GPU draws an idle floor plus a dynamic part that follows how busy its tensor cores and its
HBM are, op by op of the modelled step (roofline module):

    P_op  = TDP · min(1, f_idle + f_compute · C_op / t_op + f_memory · M_op / t_op)
    P     = Σ_op P_op · t_op / t_step  +  TDP · f_idle · (collectives + overhead) / t_step

with ``t_op = max(C_op, M_op)``: a compute-bound op keeps the tensor cores busy for its whole
time, a memory-bound one the HBM. The three fractions are engine-profile terms with their sources
(``power_idle_fraction``, ``power_compute_fraction``, ``power_memory_fraction``); TDP is the GPU
catalog's. Energy per output token = replica power / output tokens per second, so prompt
processing in the step is charged to the tokens it produces. Checked against published
measurements (ML.ENERGY Benchmark, vLLM users' power readings) in
``catalog/data/validation/energy_published.csv`` (``tests/unit/perf/test_power.py``).

Left out: clock and power capping (DVFS), temperature, the host (CPUs, NICs, fans: the PUE or
a server overhead covers them), NVLink/NVSwitch power during collectives.
"""

from __future__ import annotations

from dataclasses import dataclass

from .deployment import Deployment
from .roofline import StepTime

__all__ = ["PowerDraw", "mean_power_w_per_gpu", "step_power"]


@dataclass(frozen=True, slots=True)
class PowerDraw:
    """Mean board power of each GPU of a replica over one modelled step."""

    watts_per_gpu: float
    idle_watts_per_gpu: float
    gpus: int
    compute_busy: float  # share of the step the tensor cores are busy
    memory_busy: float  # share of the step HBM streams

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


def step_power(dep: Deployment, step: StepTime) -> PowerDraw:
    """Power of each GPU of ``dep`` while it runs ``step`` back to back.

        >>> from truecost.perf.deployment import make_deployment
        >>> from truecost.perf.roofline import step_time
        >>> dep = make_deployment("llama-3.1-8b", "h100-sxm")
        >>> round(step_power(dep, step_time(dep, 1, 1)).watts)
        263
    """
    e, tdp = dep.engine, dep.gpu.tdp_w
    busy_energy = 0.0  # TDP-seconds
    for op in step.ops.values():
        t = op.time_s
        if t <= 0:
            continue
        frac = e.power_idle_fraction + e.power_compute_fraction * op.compute_s / t + e.power_memory_fraction * op.memory_s / t
        busy_energy += min(1.0, frac) * t
    idle_time = step.comm_s + step.overhead_s
    energy = busy_energy + e.power_idle_fraction * idle_time
    total = step.total_s
    compute = sum(op.compute_s for op in step.ops.values())
    memory = sum(op.memory_s for op in step.ops.values())
    return PowerDraw(watts_per_gpu=tdp * energy / total, idle_watts_per_gpu=tdp * e.power_idle_fraction,
                     gpus=dep.gpus, compute_busy=compute / total, memory_busy=memory / total)


def mean_power_w_per_gpu(draw: PowerDraw, busy_fraction: float) -> float:
    """Mean power of a GPU that runs at ``draw`` for ``busy_fraction`` of the time and idles the
    rest (a replica sized for the peak serves the mean load: busy share = mean / capacity)."""
    share = min(max(busy_fraction, 0.0), 1.0)
    return draw.idle_watts_per_gpu + (draw.watts_per_gpu - draw.idle_watts_per_gpu) * share
