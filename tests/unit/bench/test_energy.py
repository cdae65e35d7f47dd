"""Energy arithmetic on a fake NVML counter (no GPU needed), and the NVML code path on a fake
``pynvml`` module."""

import sys
import time
import types

import pytest

from truecost.bench import energy as en


def ramp(watts_per_gpu, t0=1000.0, dt=0.1, n=21, start_mj=(5_000_000, 7_000_000)):
    """Samples of GPUs drawing constant power: counter = start + W * t (mJ)."""
    return [(t0 + i * dt, tuple(int(s + w * i * dt * 1000) for s, w in zip(start_mj, watts_per_gpu)))
            for i in range(n)]


def test_energy_over_a_window_interpolates_between_samples():
    samples = ramp((300, 200))  # 500 W in all, samples 1000.0 .. 1002.0
    assert en.energy_j(samples, 1000.0, 1002.0) == pytest.approx(1000.0)
    # a window that starts and ends between samples is charged pro rata
    assert en.energy_j(samples, 1000.05, 1001.234) == pytest.approx(500 * 1.184)
    assert en.energy_j(samples, 999.0, 1001.0) is None  # before the first sample


def test_idle_power_is_the_mean_over_the_idle_samples():
    assert en.idle_power_w(ramp((60, 40), n=11)) == pytest.approx(100.0)
    assert en.idle_power_w(ramp((60, 40), n=1)) is None


def test_report_per_output_token_and_above_idle():
    samples = ramp((300, 200))
    r = en.energy_report(samples, 1000.5, 1001.5, output_tokens=250, idle_w=100.0, gpus=2)
    assert (r.joules, r.window_s, r.mean_power_w) == pytest.approx((500.0, 1.0, 500.0))
    assert r.idle_joules == pytest.approx(100.0)
    assert r.joules_per_output_token == pytest.approx(2.0)
    assert r.joules_per_output_token_above_idle == pytest.approx(400.0 / 250)
    assert en.energy_report(samples, 1000.5, 1001.5, 0, None, 2).joules_per_output_token is None


def test_sampler_reads_the_counter_with_its_clock():
    ticks = iter(range(10_000))
    s = en.Sampler(lambda: [1, 2], interval_s=0.001, clock=lambda: float(next(ticks))).start()
    time.sleep(0.02)
    samples = s.stop()
    assert len(samples) >= 3 and samples[0] == (0.0, (1, 2))
    assert [t for t, _ in samples] == sorted(t for t, _ in samples)


def test_without_nvml_energy_is_unavailable_with_the_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails, as without nvidia-ml-py
    with pytest.raises(en.EnergyUnavailable) as e:
        en.nvml_counter()
    assert str(e.value) == "the nvidia-ml-py package is not installed"


def fake_pynvml(supported=True):
    class NVMLError(Exception):
        pass

    counters = {0: 1000, 1: 2000}
    m = types.ModuleType("pynvml")
    m.NVMLError = NVMLError
    m.nvmlInit = lambda: None
    m.nvmlDeviceGetCount = lambda: 2
    m.nvmlDeviceGetHandleByIndex = lambda i: i
    m.nvmlDeviceGetName = lambda h: b"NVIDIA H100 80GB HBM3"

    def total(h):
        if not supported:
            raise NVMLError("Not Supported")
        counters[h] += 500
        return counters[h]

    m.nvmlDeviceGetTotalEnergyConsumption = total
    return m


def test_nvml_counter_reads_every_selected_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
    read, names = en.nvml_counter()
    assert names == ["NVIDIA H100 80GB HBM3"] * 2
    assert read() == [2000, 3000]  # the probe read once, this is the second read
    read, names = en.nvml_counter([1])
    assert len(names) == 1 and len(read()) == 1


def test_gpus_without_an_energy_counter_are_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(supported=False))
    with pytest.raises(en.EnergyUnavailable) as e:
        en.nvml_counter()
    assert str(e.value) == "NVML: Not Supported"


@pytest.mark.gpu
def test_real_nvml_counters_advance_at_a_plausible_power():
    """On a machine with an NVIDIA GPU (and nvidia-ml-py): the real cumulative counters never go
    back, and an idle second reads a power no GPU is outside of (an idle data-centre GPU draws
    tens of watts; none draws 1.5 kW). Skips without NVML."""
    try:
        read, names = en.nvml_counter()
    except en.EnergyUnavailable as e:
        pytest.skip(f"no NVML GPU here: {e}")
    samples = en.Sampler(read, interval_s=0.05).start()
    time.sleep(1.0)
    samples = samples.stop()
    assert len(samples) >= 10
    for (_, a), (_, b) in zip(samples, samples[1:]):
        assert all(y >= x for x, y in zip(a, b))
    watts = en.idle_power_w(samples)
    assert 5 < watts / len(names) < 1500
    j = en.energy_j(samples, samples[0][0], samples[-1][0])
    assert j == pytest.approx(watts * (samples[-1][0] - samples[0][0]), rel=1e-9)
