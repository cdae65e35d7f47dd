"""Deployment $/hour (rent and own) and cost of pass, by hand on the hand-made GPU
($2/hour rent, $20,000 purchase, 1 kW TDP)."""

import pytest

from tests import hand as h
from truecost.cost import DEFAULT_POWER_FRACTION, HOURS_PER_MONTH, OwnershipTerms, deployment_cost, usd_per_correct_answer
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


def test_every_hourly_cost_says_where_its_price_came_from():
    given = deployment_cost(h.FAST, 1, usd_per_gpu_hour=0.5)  # any positive rate, even below $1
    assert given.usd_per_hour == 0.5 and given.basis.value == "rent" and given.gpus == 1
    assert str(given.provenance) == "input:0.5 $/GPU-hour"
    t = OwnershipTerms(life_years=5, server_overhead_fraction=0.5, usd_per_kwh=0.2, pue=1.5,
                       power_fraction_of_tdp=0.8)
    own = deployment_cost(h.FAST, 2, "own", ownership=t)
    assert own.basis.value == "own" and own.gpus == 2
    assert str(own.provenance) == ("modelled:own: hand-fast $20,000 (catalog 2026-01-01) over 5 y, "
                                   "+50% server, 80% TDP x PUE 1.5 x $0.2/kWh")


def test_ownership_defaults_and_their_sources_agree_with_training():
    """cost.py's ownership defaults are the training catalog's sourced figures (one source for
    both): 4-year life, server + network = 0.28 + 0.17 of GPU capex (Cottier et al. 2024),
    $0.08/kWh (US EIA 2023). PUE and power fraction differ on purpose: a serving fleet in a
    colocation hall (PUE 1.3) at 70% of TDP vs a training cluster at full power, PUE 1.1."""
    from truecost.train import training_catalog

    d, p = OwnershipTerms(), training_catalog().param
    assert d.life_years == p["life_years"].value == 4
    assert d.server_overhead_fraction == pytest.approx(p["server_share"].value + p["network_share"].value)
    assert d.usd_per_kwh == p["usd_per_kwh"].value == 0.08
    # no fixed power fraction: the modelled power at the operating point, else 70% of TDP
    assert (d.pue, d.power_fraction_of_tdp, DEFAULT_POWER_FRACTION, d.usd_per_gpu_hour_hosting) == (1.3, None, 0.7, 0.0)
    for name in ("life_years", "server_share", "network_share", "usd_per_kwh", "pue",
                 "power_fraction_of_tdp"):
        assert p[name].source.strip() and p[name].as_of, name


def test_own_energy_is_the_modelled_power_else_70_percent_of_tdp_and_a_fixed_fraction_wins():
    """The hand GPU's TDP is 1 kW. PUE 1.5, $0.10/kWh:
    modelled 400 W → 0.4 kW × 1.5 × 0.10 = $0.06/h per GPU;
    none given → 70% of 1 kW = 0.7 × 1.5 × 0.10 = $0.105/h;
    power_fraction_of_tdp 0.5 beside a modelled 400 W → the fraction: 0.5 × 1.5 × 0.10 = $0.075/h."""
    t = OwnershipTerms(usd_per_kwh=0.10, pue=1.5)
    modelled = deployment_cost(h.FAST, 2, "own", ownership=t, power_w_per_gpu=400.0)
    assert modelled.breakdown["energy"] == pytest.approx(2 * 0.06)
    assert str(modelled.provenance).endswith("400 W/GPU modelled x PUE 1.5 x $0.1/kWh")
    assumed = deployment_cost(h.FAST, 2, "own", ownership=t)
    assert assumed.breakdown["energy"] == pytest.approx(2 * 0.105)
    assert str(assumed.provenance).endswith("70% TDP (assumed) x PUE 1.5 x $0.1/kWh")
    fixed = deployment_cost(h.FAST, 2, "own", ownership=t.model_copy(update={"power_fraction_of_tdp": 0.5}),
                            power_w_per_gpu=400.0)
    assert fixed.breakdown["energy"] == pytest.approx(2 * 0.075)
    # A modelled power just above zero is still a power (one watt: $0.00015/h).
    assert deployment_cost(h.FAST, 1, "own", ownership=t, power_w_per_gpu=1.0).breakdown["energy"] == \
        pytest.approx(0.001 * 1.5 * 0.10)
    assert deployment_cost(h.FAST, 1, "own", ownership=t, power_w_per_gpu=0.5).breakdown["energy"] == \
        pytest.approx(0.0005 * 1.5 * 0.10)


@pytest.mark.parametrize("gpu, basis, kw, message", [
    (h.gpu("hand-unpriced", usd_per_gpu_hour=None), "rent", {},
     "hand-unpriced has no public on-demand price in the catalog; give one (usd_per_gpu_hour / --usd-per-gpu-hour)"),
    (h.gpu("hand-cloud", usd_purchase=None), "own", {},
     "hand-cloud is not sold (cloud rental only), so it has no ownership cost; price it as rented"),
    (h.gpu("hand-no-tdp", tdp_w=None), "own", {},
     "hand-no-tdp has no published TDP, so it has no ownership cost; price it as rented"),
    (h.gpu("hand-cloud-no-tdp", usd_purchase=None, tdp_w=None), "own", {},
     "hand-cloud-no-tdp is not sold (cloud rental only), so it has no ownership cost; price it as rented"),
    (h.FAST, "own", {"power_w_per_gpu": 0.0}, "power per GPU must be a finite number of watts > 0, got 0.0"),
    (h.FAST, "own", {"power_w_per_gpu": -5.0}, "power per GPU must be a finite number of watts > 0, got -5.0"),
])
def test_what_cannot_be_priced_says_why(gpu, basis, kw, message):
    with pytest.raises(InputError) as e:
        deployment_cost(gpu, 1, basis, **kw)
    assert str(e.value) == message


def test_a_rented_gpu_needs_no_purchase_price_or_tdp():
    """Rent is the rate × GPUs: $2/h × 3 on a GPU that is not sold and has no TDP."""
    assert deployment_cost(h.gpu("hand-cloud-no-tdp", usd_purchase=None, tdp_w=None), 3).usd_per_hour == \
        pytest.approx(6.0)
