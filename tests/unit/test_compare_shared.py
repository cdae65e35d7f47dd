"""compare() with swarm and offload candidates beside API and self-hosted ones: sizing, cost
arithmetic, exclusion reasons and the errors a user can fix."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from truecost import compare, estimate_offload, estimate_swarm
from truecost.cost import HOURS_PER_MONTH
from truecost.errors import InputError
from truecost.perf.links import link

BASE = """
name = "t"
tasks_per_day = 20000
peak_to_mean = 2.0
utilisation = 0.8
[tokens]
input = 500
output = 100
"""


def _workload(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "w.toml"
    p.write_text(BASE + body)
    return p


def test_a_rented_swarm_is_sized_and_priced_like_replicas(tmp_path: Path) -> None:
    c = compare(_workload(tmp_path, """
[slo]
tpot_s = 1.0
[[swarm]]
model = "llama-3.1-70b"
servers = "4x rtx-4090"
precisions = ["int4"]
"""))
    o = c.options[0]
    assert (o.kind, o.gpus_per_replica, o.excluded) == ("swarm", 4, None)
    peak = 20000 / 86400 * 2.0
    assert o.replicas == math.ceil(peak / (o.capacity_requests_per_s * 0.8))
    assert o.usd_per_replica_hour == pytest.approx(4 * 0.50)  # the catalog's 4090 rent
    assert o.usd_per_month == pytest.approx(o.replicas * 2.0 * HOURS_PER_MONTH)
    assert o.usd_per_task == pytest.approx(o.usd_per_month / (20000 * HOURS_PER_MONTH / 24))
    # the capacity is the swarm's pipelined throughput at the concurrency the SLO allows
    n = int(re.search(r"at (\d+) concurrent sequences", o.provenance["perf"]).group(1))
    e = estimate_swarm("llama-3.1-70b", "4x rtx-4090", precision="int4", isl=500, osl=100, concurrency=n,
                       network=link("same-region"))
    assert o.capacity_requests_per_s == pytest.approx(e.batch_tokens_per_s / 100)
    assert e.batch_round_s <= 1.0  # within tpot_s
    assert estimate_swarm("llama-3.1-70b", "4x rtx-4090", precision="int4", isl=500, osl=100,
                          concurrency=n + 1).batch_round_s > 1.0 or n == e.max_sequences
    assert "swarm 4x rtx-4090 int4" in o.how


def test_volunteers_pay_electricity_while_busy(tmp_path: Path) -> None:
    c = compare(_workload(tmp_path, """
[[swarm]]
model = "llama-3.1-70b"
servers = "4x rtx-4090"
precisions = ["int4"]
basis = "volunteer"
"""))
    o = c.options[0]
    mean = 20000 / 86400
    busy = mean / (o.replicas * o.capacity_requests_per_s)
    assert o.usd_per_month == pytest.approx(o.usd_per_replica_hour * o.replicas * HOURS_PER_MONTH * busy)
    assert "electricity only" in o.provenance["price"]


def test_offload_is_ranked_or_excluded_with_its_reasons(tmp_path: Path) -> None:
    body = """
[[offload]]
model = "llama-3.1-70b"
gpus = ["rtx-4090"]
host_ram_gb = 256
precisions = ["int4"]
"""
    free = compare(_workload(tmp_path, body)).options[0]
    assert free.kind == "offload" and free.excluded is None and free.gpus_per_replica == 1
    e = estimate_offload("llama-3.1-70b", "rtx-4090", precision="int4", isl=500, osl=100)
    assert free.usd_per_replica_hour == pytest.approx(e.usd_per_hour)
    assert free.capacity_requests_per_s == pytest.approx(e.batch_tokens_per_s / 100)
    tight = compare(_workload(tmp_path, "[slo]\ntpot_s = 0.2\n" + body)).options[0]
    assert tight.excluded == (f"int4: misses the SLO even at one sequence (TTFT {e.ttft_s:.2f} s, "
                              f"TPOT {e.decode_step_s:.2f} s)")


def test_swarm_beside_api_and_self_hosted(tmp_path: Path) -> None:
    c = compare(_workload(tmp_path, """
[[api]]
offer = "openai/gpt-4o-mini"
[[self_hosted]]
model = "llama-3.1-70b"
gpus = ["h100-sxm"]
precisions = ["fp8"]
[[swarm]]
model = "llama-3.1-70b"
servers = "4x rtx-4090"
precisions = ["int4"]
"""))
    assert {o.kind for o in c.ranked} == {"api", "self-hosted", "swarm"}
    costs = [o.usd_per_task for o in c.ranked]
    assert costs == sorted(costs)
    assert any(a.startswith("swarm/offload: sized like replicas") for a in c.assumptions)


def test_an_unpriced_rented_swarm_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="^unpriced swarm: rtx-3060 has no public rent in the catalog; give usd_per_gpu_hour"):
        compare(_workload(tmp_path, """
[[swarm]]
label = "unpriced swarm"
model = "llama-3.1-8b"
servers = "2x rtx-3060"
"""))


def test_a_given_rent_replaces_the_catalogs_and_keeps_the_share(tmp_path: Path) -> None:
    c = compare(_workload(tmp_path, """
[[swarm]]
model = "llama-3.1-8b"
servers = "2x rtx-3060"
precisions = ["int8"]
usd_per_gpu_hour = 0.10
share = 0.5
"""))
    o = c.options[0]
    assert o.excluded is None and o.usd_per_replica_hour == pytest.approx(2 * 0.10 * 0.5)
