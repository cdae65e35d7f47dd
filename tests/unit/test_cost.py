import pytest

from truecost.cost import OwnershipTerms, deployment_cost, usd_per_correct_answer
from truecost.errors import InputError


def test_rent_uses_catalog_or_given_rate():
    assert deployment_cost("h100-sxm", 2, usd_per_gpu_hour=2.5).usd_per_hour == 5.0
    c = deployment_cost("h100-sxm", 4)
    assert c.usd_per_hour == pytest.approx(4 * 2.99)
    assert c.provenance.kind == "catalog"


def test_own_is_amortised_capex_plus_energy():
    t = OwnershipTerms(life_years=5, server_overhead_fraction=0.5, usd_per_kwh=0.2, pue=1.5,
                       power_fraction_of_tdp=1.0)
    c = deployment_cost("h100-sxm", 8, "own", ownership=t)
    capex = 30000 * 1.5 / (5 * 8760)
    energy = 0.7 * 1.0 * 1.5 * 0.2
    assert c.breakdown["capex"] == pytest.approx(8 * capex)
    assert c.breakdown["energy"] == pytest.approx(8 * energy)
    assert c.usd_per_hour == pytest.approx(8 * (capex + energy))


def test_cost_of_pass():
    assert usd_per_correct_answer(0.01, 0.5) == pytest.approx(0.02)
    assert usd_per_correct_answer(0.01, 0.0) is None
    with pytest.raises(InputError):
        usd_per_correct_answer(0.01, 1.5)
