"""GPU energy during a benchmark, from NVML's cumulative energy counters.

``nvmlDeviceGetTotalEnergyConsumption`` returns millijoules consumed since the driver loaded
(Volta and newer). A ``Sampler`` thread reads every GPU's counter every ``interval_s``; the energy
of a window is the difference of the summed counters, linearly interpolated at the window's ends,
so an operating point is charged for its measured window only (warm-up and drain excluded).
Before the load, a short idle window gives the idle floor (W), reported separately: energy per
token is given in total and above idle.

The GPUs must be the server's: run the benchmark on the machine that serves, and pick its GPUs
with ``energy_gpus`` (NVML indices; default all). Without NVML (no NVIDIA driver, or the
``nvidia-ml-py`` package missing) ``nvml_counter`` raises ``EnergyUnavailable`` and the benchmark
skips energy with a one-line note. Deliberately left out: CPU/DRAM energy (RAPL), PUE (the cost
model applies it), modelled power when no counter exists.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["EnergyReport", "EnergyUnavailable", "Sample", "Sampler", "energy_j", "energy_report",
           "idle_power_w", "nvml_counter"]

Counter = Callable[[], Sequence[int]]  # cumulative millijoules, one per GPU
Sample = tuple[float, tuple[int, ...]]  # (epoch seconds, mJ per GPU)


class EnergyUnavailable(Exception):
    """No energy counter can be read here (the message says why)."""


def nvml_counter(gpus: Sequence[int] | None = None) -> tuple[Counter, list[str]]:
    """A counter over the NVML devices ``gpus`` (all when None) and their names."""
    try:
        import pynvml
    except ImportError:
        raise EnergyUnavailable("the nvidia-ml-py package is not installed") from None
    try:
        pynvml.nvmlInit()
        indices = list(gpus) if gpus is not None else list(range(pynvml.nvmlDeviceGetCount()))
        if not indices:
            raise EnergyUnavailable("NVML sees no GPU")
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in indices]
        names = [_text(pynvml.nvmlDeviceGetName(h)) for h in handles]
        for h in handles:
            pynvml.nvmlDeviceGetTotalEnergyConsumption(h)  # NotSupported before Volta
    except pynvml.NVMLError as e:
        raise EnergyUnavailable(f"NVML: {e}") from None

    def read() -> list[int]:
        return [pynvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in handles]

    return read, names


def _text(name: str | bytes) -> str:
    return name.decode() if isinstance(name, bytes) else str(name)  # bytes in old nvidia-ml-py


class Sampler:
    """Reads ``counter`` every ``interval_s`` in a thread (NVML calls release the GIL) until
    ``stop()``, which returns the samples. ``clock`` gives epoch seconds, like request records."""

    def __init__(self, counter: Counter, interval_s: float = 0.05,
                 clock: Callable[[], float] = time.time) -> None:
        self.counter, self.interval_s, self.clock = counter, interval_s, clock
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="truecost-energy", daemon=True)

    def sample(self) -> None:
        self.samples.append((self.clock(), tuple(self.counter())))

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join()
        self.sample()
        return self.samples


def _total_mj_at(samples: Sequence[Sample], t: float) -> float | None:
    """Summed counter at time ``t``, linear between the samples around it; None outside."""
    times = [s[0] for s in samples]
    if not samples or t < times[0] or t > times[-1]:
        return None
    i = bisect_left(times, t)
    if times[i] == t:
        return float(sum(samples[i][1]))
    (t0, e0), (t1, e1) = samples[i - 1], samples[i]
    return sum(e0) + (sum(e1) - sum(e0)) * (t - t0) / (t1 - t0)


def energy_j(samples: Sequence[Sample], start: float, end: float) -> float | None:
    """Joules all sampled GPUs used between epoch times ``start`` and ``end``; None when the
    samples do not cover the window."""
    a, b = _total_mj_at(samples, start), _total_mj_at(samples, end)
    return None if a is None or b is None else (b - a) / 1000


def idle_power_w(samples: Sequence[Sample]) -> float | None:
    """Mean power (W) over the samples: the idle floor when taken with no load."""
    if len(samples) < 2 or samples[-1][0] <= samples[0][0]:
        return None
    return (sum(samples[-1][1]) - sum(samples[0][1])) / 1000 / (samples[-1][0] - samples[0][0])


@dataclass(frozen=True, slots=True)
class EnergyReport:
    """Measured GPU energy of one operating point's measured window."""

    gpus: int
    window_s: float
    joules: float
    mean_power_w: float
    idle_power_w: float | None  # the floor measured before the load
    idle_joules: float | None  # idle_power_w × window_s: what the GPUs burn doing nothing
    joules_per_output_token: float | None
    joules_per_output_token_above_idle: float | None


def energy_report(samples: Sequence[Sample], start: float, end: float, output_tokens: int,
                  idle_w: float | None, gpus: int) -> EnergyReport | None:
    """Energy between ``start`` and ``end`` (the measured window) per output token."""
    j = energy_j(samples, start, end)
    if j is None or end <= start:
        return None
    window = end - start
    idle_j = idle_w * window if idle_w is not None else None
    per_tok = j / output_tokens if output_tokens else None
    above = (j - idle_j) / output_tokens if output_tokens and idle_j is not None else None
    return EnergyReport(gpus, window, j, j / window, idle_w, idle_j, per_tok, above)
