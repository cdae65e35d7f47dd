"""compare's self-hosted search goes on past a configuration that fails: a tensor-parallel size
that does not fit before one that does, and a GPU type that cannot serve before one that can.

Hand parts (tests/hand.py): the 2-layer model's bf16 weights are 65,021,952 bytes (0.061 GiB)
and the hand engine keeps a 4 GiB runtime reserve, so a GPU of 4.05 GiB has 0.05 GiB (53.7 MB)
beside the reserve: the weights do not fit on one, and half of the linear layers' weights each
(plus the LM head and embeddings) fit on two. Every step on these GPUs is the engine's fixed 1 ms,
so one replica holds 4 sequences x 1,000 steps/s / 100 output tokens = 40 req/s; at 30%
utilisation 12 req/s, and the 30 req/s peak needs ceil(30 / 12) = 3 replicas."""

from __future__ import annotations

import pytest

from tests import hand as h
from truecost.compare import compare
from truecost.workload import Workload

HOURS = 730


@pytest.fixture
def files(tmp_path):
    return {"model": h.model_file(tmp_path),
            "engine": h.engine_file(tmp_path, "hand-engine-4", max_batch_size=4, max_num_tokens=8192),
            "fast": h.gpu_file(tmp_path, h.FAST),
            "small": h.gpu_file(tmp_path, h.gpu("hand-small", bf16_tflops=h.UNBOUNDED_TFLOPS,
                                                memory_tb_s=h.UNBOUNDED_TB_S, memory_gib=4.05)),
            "tiny": h.gpu_file(tmp_path, h.gpu("hand-tiny", memory_gib=0.01))}


def _w(files, gpus, max_tp) -> Workload:
    # 864,000 tasks/day = 10 req/s, x3 = 30 at the peak
    return Workload.model_validate({
        "name": "t", "tasks_per_day": 864_000, "peak_to_mean": 3.0, "utilisation": 0.3,
        "tokens": {"input": 1000, "output": 100},
        "self_hosted": [{"model": files["model"], "label": "m", "gpus": [files[g] for g in gpus],
                         "precisions": ["bf16"], "max_tp": max_tp, "engine": files["engine"]}]})


def test_a_layout_that_does_not_fit_is_passed_for_a_larger_one(files):
    (o,) = compare(_w(files, ["small"], max_tp=2)).options
    # one GPU cannot hold the weights beside the reserve; two can: 3 replicas of 2 GPUs at $2 each
    assert o.excluded is None and o.gpus_per_replica == 2 and o.replicas == 3
    assert o.how == "3 x (2x hand-small bf16)" and o.usd_per_month == pytest.approx(3 * 2 * 2.0 * HOURS)
    # with one GPU allowed there is nothing else to try
    (one,) = compare(_w(files, ["small"], max_tp=1)).options
    assert one.excluded.startswith("hand-2l at bf16 does not fit on 1x hand-small: ")


def test_a_gpu_that_cannot_serve_does_not_stop_the_next(files):
    tiny, fast = compare(_w(files, ["tiny", "fast"], max_tp=1)).options[::-1]
    assert tiny.label == "m @ hand-tiny" and tiny.excluded.startswith("hand-2l at bf16 does not fit on 1x hand-tiny")
    assert fast.label == f"m @ {h.FAST.key}" and fast.excluded is None
    assert (fast.replicas, fast.usd_per_month) == (3, pytest.approx(3 * 2.0 * HOURS))
