"""How a schedule is dealt to Ray shards (pure; no Ray needed). The Ray run itself is tested in
tests/integration/test_distributed.py."""

import pytest

from truecost.bench.distributed import plan_shards
from truecost.bench.schedule import poisson
from truecost.bench.workload import RequestSpec
from truecost.errors import InputError

SPECS = [RequestSpec(prompt=f"p{i}", max_tokens=i + 1) for i in range(10)]


def test_open_loop_shards_partition_the_schedule_and_keep_absolute_offsets():
    offsets = poisson(20.0, 10, seed=3)
    plans = plan_shards(SPECS, offsets, None, 3)
    assert [p.shard for p in plans] == [0, 1, 2]
    # shard j holds requests j, j+3, ... with their own (absolute, unshifted) offsets
    assert plans[1].requests == (SPECS[1], SPECS[4], SPECS[7])
    assert plans[1].send_offsets == (offsets[1], offsets[4], offsets[7])
    merged = sorted(o for p in plans for o in p.send_offsets)
    assert merged == sorted(offsets)
    assert all(p.concurrency is None for p in plans)


def test_closed_loop_splits_concurrency_exactly():
    plans = plan_shards(SPECS, None, 7, 3)
    assert [p.concurrency for p in plans] == [3, 2, 2]
    assert sum(len(p.requests) for p in plans) == len(SPECS)


def test_shards_without_work_are_dropped():
    # concurrency 2 over 4 shards: two shards would have no worker
    assert [p.shard for p in plan_shards(SPECS, None, 2, 4)] == [0, 1]
    # 2 requests over 5 shards: three shards would have no request
    assert [p.shard for p in plan_shards(SPECS[:2], [0.0, 0.1], None, 5)] == [0, 1]


@pytest.mark.parametrize(("offsets", "conc", "shards", "message"), [
    (None, None, 2, "concurrency must be >= 1, got None"),
    ([0.0], None, 2, "1 send times for 10 requests"),
    (None, 4, 0, "shards must be >= 1, got 0"),
])
def test_bad_plans_are_input_errors(offsets, conc, shards, message):
    with pytest.raises(InputError) as e:
        plan_shards(SPECS, offsets, conc, shards)
    assert str(e.value) == message


def test_ray_missing_is_one_line_with_the_fix(monkeypatch):
    import sys

    from truecost.bench.client import Endpoint
    from truecost.bench.distributed import run_sharded

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(InputError) as e:
        run_sharded(Endpoint.of("http://127.0.0.1:9/v1", "m"), SPECS, None, 2, "local")
    assert str(e.value) == "--ray-address needs the 'ray' package: pip install 'truecost[ray]'"
