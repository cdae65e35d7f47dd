"""Deployment $/hour (rent and own) and cost of pass, by hand on the hand-made GPU
($2/hour rent, $20,000 purchase, 1 kW TDP)."""

import pytest

from tests import handmade as h
from truecost.cost import HOURS_PER_MONTH, OwnershipTerms, deployment_cost, usd_per_correct_answer
from truecost.errors import InputError


def test_rent_uses_catalog_or_given_rate():
    assert deployment_cost(h.FAST, 2, usd_per_gpu_hour=2.5).usd_per_hour == 5.0
    c = deployment_cost(h.FAST, 4)
    assert c.usd_per_hour == pytest.approx(4 * 2.0)
    assert c.breakdown == {"rent": pytest.approx(8.0)}
    assert str(c.provenance) == "catalog:hand-made price@2026-01-01"


def test_own_is_amortised_capex_plus_energy_times_pue_plus_hosting():
    t = OwnershipTerms(life_years=5, server_overhead_fraction=0.5, usd_per_kwh=0.2, pue=1.5,
                       power_fraction_of_tdp=0.8, usd_per_gpu_hour_hosting=0.25)
    c = deployment_cost(h.FAST, 8, "own", ownership=t)
    capex = 20_000 * 1.5 / (5 * 8760)  # $0.6849/h: purchase × (1 + overhead) over 5 years of hours
    energy = 1.0 * 0.8 * 1.5 * 0.2  # $0.24/h: 1 kW × 80% of TDP × PUE 1.5 × $0.20/kWh
    assert c.breakdown["capex"] == pytest.approx(8 * capex)
    assert c.breakdown["energy"] == pytest.approx(8 * energy)
    assert c.breakdown["hosting"] == pytest.approx(8 * 0.25)
    assert c.usd_per_hour == pytest.approx(8 * (capex + energy + 0.25))


def test_month_is_a_twelfth_of_a_year():
    assert HOURS_PER_MONTH == 8760 / 12 == 730


def test_cost_of_pass():
    assert usd_per_correct_answer(0.01, 0.5) == pytest.approx(0.02)
    assert usd_per_correct_answer(0.01, 1.0) == 0.01
    assert usd_per_correct_answer(0.01, 0.0) is None
    with pytest.raises(InputError, match=r"accuracy must be within \[0, 1\], got 1.5"):
        usd_per_correct_answer(0.01, 1.5)


@pytest.mark.parametrize("gpus, kw, message", [
    (0, {}, "GPU count must be at least 1, got 0"),
    (1, {"usd_per_gpu_hour": 0}, "--usd-per-gpu-hour must be > 0, got 0"),
])
def test_bad_input(gpus, kw, message):
    with pytest.raises(InputError) as e:
        deployment_cost(h.FAST, gpus, **kw)
    assert str(e.value) == message
