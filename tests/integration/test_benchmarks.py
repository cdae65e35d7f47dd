"""benchmarks/compare_harnesses.py keeps working as truecost changes: its oracle arithmetic on
known arrivals, its ratio table on known results, and a truecost run against
benchmarks/fastserver.py whose request rate, as the server's arrival log counts it, agrees with
what truecost reports about itself."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def _module():
    spec = importlib.util.spec_from_file_location("compare_harnesses",
                                                  REPO / "benchmarks" / "compare_harnesses.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["compare_harnesses"] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


def test_oracle_arithmetic_on_known_arrivals():
    m = _module()
    # 100 arrivals at exactly 50/s from an arbitrary origin, one of them 3 ms late
    arrivals = [1000.0 + i / 50 for i in range(100)]
    arrivals[40] += 0.003
    p50, p99 = m.timing_error(arrivals, 50.0)
    assert p50 == pytest.approx(0.0, abs=1e-9)
    assert p99 == pytest.approx(0.0, abs=1e-9)  # one late request in 100 is above the p99 rank
    arrivals[41] += 0.003
    assert m.timing_error(arrivals, 50.0)[1] == pytest.approx(0.003)
    # 1000 evenly spaced arrivals over 10 s: 100/s over the middle 90%
    assert m.sustained_rate([i / 100 for i in range(1000)]) == pytest.approx(100.0)


def test_ratio_table_on_known_results():
    m = _module()
    R = m.Result
    results = {"truecost": {"rate": R(True, 2000.0), "tokens": R(True, 300_000.0), "timing": R(True, 0.0003, 0.002)},
               "peer": {"rate": R(True, 500.0), "tokens": R(True, 30_000.0), "timing": R(True, 0.001, 0.004)},
               "broken": {"rate": R(False, note="exit 1")}}
    table = m.report(results, {"truecost": "1", "peer": "2"}, m.scenarios(quick=True)).splitlines()
    rows = {ln.split("|")[1].strip(): [c.strip() for c in ln.strip("|").split("|")]
            for ln in table if ln.startswith("| ") and not ln.startswith("| harness")}
    assert rows["truecost"][2:] == ["2,000", "1.00", "300,000", "1.00", "0.30 ms", "2.00 ms"]
    assert rows["peer"][2:] == ["500", "0.25", "30,000", "0.10", "1.00 ms", "4.00 ms"]
    assert rows["broken"][2:] == ["failed", "-", "failed", "-", "failed", "-"]
    assert "broken rate: exit 1" in table
    # the median round, and a failure wins over any number
    assert m.median_result([R(True, 3.0), R(True, 1.0), R(True, 2.0)]).value == 2.0
    assert not m.median_result([R(True, 3.0), R(False, note="x")]).ok


def test_truecost_rate_by_the_servers_arrival_log(tmp_path):
    """The harness's oracle (arrivals at the server) and truecost's own measurement agree, and the
    rate is within a factor of about 4 of what an idle 2-core machine sustains (~2,000 req/s,
    ~330,000 streamed tokens/s, 0.3 ms median send error: benchmarks/README.md)."""
    m = _module()
    if not (REPO / ".venv" / "bin" / "truecost").exists():
        pytest.skip("needs the project's .venv (make install-test)")
    scen = {s.name: s for s in m.scenarios(quick=True)}
    truecost = next(h for h in m.harnesses() if h.name == "truecost")
    server = m.Server()
    try:
        results = {}
        for name in ("rate", "tokens", "timing"):
            (tmp_path / name).mkdir()
            results[name] = m.run(truecost, scen[name], server, tmp_path / name, 300.0)
    finally:
        server.stop()
    assert all(r.ok for r in results.values()), {k: r.note for k, r in results.items()}
    rate = results["rate"]
    own = json.loads(rate.stdout)["points"][0]["summary"]["request_throughput"]
    # two windows over one run: the server's middle 90% of arrivals vs truecost's measured window
    # (the last round of 32 excluded as drain); both count the same requests per second
    seen = {k: r.value for k, r in results.items()} | {"truecost's own req/s": own}
    assert own == pytest.approx(rate.value, rel=0.2), seen
    assert rate.value > 500, seen  # req/s
    assert results["tokens"].value > 80_000, seen  # streamed tokens/s
    assert results["timing"].value < 0.002, seen  # p50 send error, s
