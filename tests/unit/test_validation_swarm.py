"""`validate("swarm")`: the Petals papers' figures as shipped rows, their sources and dates, and the
model's errors on them (a regression guard: the README states the errors)."""

from __future__ import annotations

import csv

import pytest

from truecost import validate
from truecost.catalog import data_file
from truecost.validation import _row_sources, source_dates

# Transcribed from the Petals README benchmark table (bigscience-workshop/petals @9b83ef6), which
# is Table 2 of Borzunov et al. 2022 (arXiv:2209.01188): single-batch steps/s at sequence length
# 128 and 2048, and the README's "up to 6 steps/sec for Llama 2 (70B)".
PAPER = {"P1": 1.71, "P2": 1.54, "P3": 1.66, "P4": 1.49, "P5": 1.23, "P6": 1.11, "P7": 0.83, "P8": 0.79,
         "O1": 0.18, "O2": 0.09, "L1": 6.0}


def test_rows_hold_the_published_figures_and_their_setups() -> None:
    with open(data_file("validation/swarm_published.csv"), newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    assert {k: float(rows[k]["value"]) for k in PAPER} == PAPER
    assert float(rows["R1"]["value"]) == round(PAPER["P1"] / PAPER["O1"], 1)  # "up to 10x"
    # the 14 real servers: 2x RTX 3060, 4x 2080 Ti, 2x 3090, 2x A4000, 4x A5000
    servers = [s.strip() for s in rows["P7"]["servers"].split(",")]
    assert sum(int(s.split("x")[0]) for s in servers) == 14
    assert (rows["P1"]["rtt_ms"], rows["P1"]["mbit_s"], rows["P5"]["rtt_ms"], rows["P5"]["mbit_s"]) == \
        ("5", "1000", "100", "100")
    dates = source_dates()
    for rid, text in _row_sources(data_file("validation/swarm_published.csv")).items():
        assert "retrieved" in dates.get(text, {}), f"{rid}: '{text}' has no date in sources.toml"


def test_predictions_and_errors() -> None:
    r = validate("swarm")
    by = {x.id: x for x in r.rows}
    assert set(by) == {*PAPER, "R1"}
    assert by["R1"].predicted == pytest.approx(by["P1"].predicted / by["O1"].predicted)
    # a swarm on the Internet beats streaming the weights over PCIe by several times
    assert by["R1"].predicted > 5
    # more latency costs steps: 100 ms vs 5 ms, same bandwidth
    assert by["P5"].predicted < by["P3"].predicted
    # the regression guard: every row within 1.5x of the paper (the README reports each error)
    assert all(x.ratio < 1.5 for x in r.rows), [(x.id, x.ratio) for x in r.rows]
    assert r.notes["P7"].startswith("14 real servers") and "assumed" in r.notes["P7"]
    assert r.sources["L1"].endswith("(published 2023-12-13, retrieved 2026-11-25)")
