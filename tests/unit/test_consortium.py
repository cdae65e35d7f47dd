"""Consortium R&D shares (consortium.py), checked by hand.

The final run R comes from 6·N·D at a given MFU and rent: N = 1e9 parameters, D = 1e12 tokens,
H100 bf16 dense peak 989.4 TFLOP/s, MFU 0.5, $2/GPU-hour:
    GPU-hours = 6e21 / (989.4e12 × 0.5) / 3600 = 3,369.04...;  R = 2 × that.
With an R&D multiplier of 5, R&D = 4R; sharing f = 0.5 among N = 4 labs:
    member = R + 0.5·4R + 0.5·4R/4 = 3.5R;  alone = 5R;  saving = 1.5R;  consortium saving = 6R;
    floor = R + 2R = 3R;  a budget of 3.2R is reached at N = ceil(2R / 0.2R) = 10.
"""

from __future__ import annotations

import math

import pytest

from truecost import consortium
from truecost.errors import InputError, UnknownNameError

TRAIN = dict(params_total=1e9, tokens=1e12, gpu="h100-sxm", mfu=0.5, usd_per_gpu_hour=2.0, rnd_multiplier=5.0)
R = 2.0 * 6e21 / (989.4e12 * 0.5) / 3600


def test_member_share_saving_and_floor() -> None:
    c = consortium(4, shared_rnd=0.5, **TRAIN)
    assert c.final_run_usd == pytest.approx(R, rel=1e-4)  # peak printed to 4 figures
    assert c.rnd_usd == pytest.approx(4 * R, rel=1e-4)
    assert c.alone_usd == pytest.approx(5 * R, rel=1e-4)
    assert c.member_usd == pytest.approx(3.5 * R, rel=1e-4)
    assert c.saving_per_member_usd == pytest.approx(1.5 * R, rel=1e-4)
    assert c.consortium_saving_usd == pytest.approx(6 * R, rel=1e-4)
    assert c.floor_usd == pytest.approx(3 * R, rel=1e-4)
    assert c.member_usd_at(1) == pytest.approx(c.alone_usd)


def test_break_even_members() -> None:
    c = consortium(4, shared_rnd=0.5, budget_usd=3.2 * R, **TRAIN)
    assert c.break_even_members == 10
    assert c.member_usd_at(10) <= 3.2 * R < c.member_usd_at(9)
    assert consortium(4, shared_rnd=0.5, budget_usd=6 * R, **TRAIN).break_even_members == 1  # alone fits
    assert consortium(4, shared_rnd=0.5, budget_usd=2.9 * R, **TRAIN).break_even_members is None  # < floor


def test_default_share_is_the_catalogs_and_named() -> None:
    c = consortium(2, **TRAIN)
    assert c.shared_rnd.value == 0.5 and c.shared_rnd.provenance.kind == "catalog"
    assert "middle" in c.shared_rnd_note
    assert consortium(2, shared_rnd="research-only", **TRAIN).shared_rnd.value == 0.25
    assert consortium(2, shared_rnd="open-flow", **TRAIN).shared_rnd.value == 0.75
    # nothing shared: a member pays what it pays alone
    none = consortium(8, shared_rnd=0.0, **TRAIN)
    assert none.member_usd == pytest.approx(none.alone_usd) and none.consortium_saving_usd == 0


def test_the_catalog_rnd_default_is_olmo3() -> None:
    c = consortium(3, shared_rnd=0.5, **{k: v for k, v in TRAIN.items() if k != "rnd_multiplier"})
    m = 1 / 0.178  # Ai2 Olmo 3: 17.8% of compute in the final runs
    assert c.estimate.rnd_multiplier.value == pytest.approx(m)
    assert c.member_usd == pytest.approx(R * (1 + 0.5 * (m - 1) + 0.5 * (m - 1) / 3), rel=1e-4)


def test_errors() -> None:
    with pytest.raises(InputError, match="--consortium must be a whole number of labs >= 1, got 0"):
        consortium(0, **TRAIN)
    with pytest.raises(InputError, match=r"--shared-rnd must be a fraction within \[0, 1\], got 1.5"):
        consortium(2, shared_rnd=1.5, **TRAIN)
    with pytest.raises(UnknownNameError, match="unknown R&D share 'halve'; did you mean half"):
        consortium(2, shared_rnd="halve", **TRAIN)
    with pytest.raises(InputError, match="--budget must be a positive number of USD, got inf"):
        consortium(2, budget_usd=math.inf, **TRAIN)


def test_the_result_carries_its_inputs_and_its_json_names_every_figure() -> None:
    c = consortium(4, shared_rnd=0.5, budget_usd=3.2 * R, **TRAIN)
    assert (c.members, c.budget_usd) == (4, pytest.approx(3.2 * R))
    assert c.shared_rnd.unit == "fraction"
    assert (c.shared_rnd.provenance.kind, c.shared_rnd.provenance.detail, c.shared_rnd_note) == ("input", "0.5", "given")
    d = c.to_dict()
    hand = {"members": 4, "final_run_usd": R, "rnd_usd": 4 * R, "alone_usd": 5 * R, "member_usd": 3.5 * R,
            "saving_per_member_usd": 1.5 * R, "consortium_saving_usd": 6 * R, "floor_usd": 3 * R,
            "budget_usd": 3.2 * R, "break_even_members": 10}
    assert {k: d[k] for k in hand} == {k: pytest.approx(v, rel=1e-4) for k, v in hand.items()}
    assert d["shared_rnd"]["value"] == 0.5 and d["shared_rnd_note"] == "given"
    assert d["rnd_multiplier"]["value"] == 5.0 and d["basis"] == c.estimate.basis.value
    assert d["training"]["usd"] == pytest.approx(R, rel=1e-4)  # the final run it was priced from


def test_boundaries() -> None:
    # one lab alone: it pays R·m
    alone = consortium(1, shared_rnd=0.5, **TRAIN)
    assert alone.member_usd == pytest.approx(5 * R, rel=1e-4) and alone.consortium_saving_usd == 0
    # f = 1, everything shared among 4: R + 4R/4 = 2R
    assert consortium(4, shared_rnd=1.0, **TRAIN).member_usd == pytest.approx(2 * R, rel=1e-4)
    # no budget: no break-even
    assert consortium(4, shared_rnd=0.5, **TRAIN).break_even_members is None
    # a budget exactly at the floor (3R) is never reached: N → ∞ only approaches it
    floor = consortium(4, shared_rnd=0.5, **TRAIN).floor_usd
    assert consortium(4, shared_rnd=0.5, budget_usd=floor, **TRAIN).break_even_members is None
    # any positive budget is a budget, even under a dollar (below the floor: none)
    assert consortium(4, shared_rnd=0.5, budget_usd=0.5, **TRAIN).break_even_members is None


def test_more_errors() -> None:
    c = consortium(4, shared_rnd=0.5, **TRAIN)
    with pytest.raises(InputError) as e:
        c.member_usd_at(0)
    assert str(e.value) == "a consortium has at least 1 member, got 0"
    with pytest.raises(InputError, match="--consortium must be a whole number of labs >= 1, got True"):
        consortium(True, **TRAIN)  # a bool is an int to Python, not a number of labs
    with pytest.raises(InputError, match="--budget must be a positive number of USD, got 0"):
        consortium(2, budget_usd=0.0, **TRAIN)
