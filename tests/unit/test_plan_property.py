"""Property (hypothesis): whatever the workload, plan never returns a configuration that does not
fit in memory or that violates an SLO by its own simulation — re-run here from the returned
configuration alone, at the replica's share of the peak and at its utilisation target."""

import math

from hypothesis import HealthCheck, given, settings, strategies as st

from truecost.perf.deployment import make_deployment
from truecost.perf.engine import engine as find_engine
from truecost.perf.memory import memory_plan
from truecost.plan import plan
from truecost.sizing import serves, simulate_at
from truecost.workload import Workload

limits = st.fixed_dictionaries({}, optional={
    "ttft_p95_s": st.floats(0.05, 3.0), "ttft_p99_s": st.floats(0.1, 5.0), "tpot_p95_s": st.floats(0.004, 0.1),
    "tpot_p99_s": st.floats(0.006, 0.2), "e2e_p90_s": st.floats(1.0, 60.0), "tpot_s": st.floats(0.005, 0.1)})


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b"]),
       gpus=st.lists(st.sampled_from(["h100-sxm", "l40s", "a100-80gb"]), min_size=1, max_size=2, unique=True),
       precisions=st.lists(st.sampled_from(["bf16", "fp8", "int4"]), min_size=1, max_size=2, unique=True),
       engines=st.lists(st.sampled_from(["tuned", "vllm"]), min_size=1, max_size=2, unique=True),
       batches=st.lists(st.sampled_from([16, 64, 512]), min_size=1, max_size=2, unique=True),
       isl=st.integers(20, 6000), osl=st.integers(5, 800), cached=st.floats(0, 0.9),
       tasks_per_day=st.floats(2e3, 2e6), peak=st.floats(1, 4), utilisation=st.floats(0.5, 1.0), slo=limits)
def test_plan_returns_only_configurations_that_fit_and_meet_their_slo(model, gpus, precisions, engines, batches, isl,
                                                                      osl, cached, tasks_per_day, peak, utilisation,
                                                                      slo):
    w = Workload.model_validate({
        "name": "prop", "tasks_per_day": tasks_per_day, "peak_to_mean": peak, "utilisation": utilisation,
        "tokens": {"input": isl, "output": osl, "cached_input_fraction": cached}, "slo": slo,
        "self_hosted": [{"model": model, "max_tp": 4}]})
    p = plan(w, gpus=gpus, precisions=precisions, engines=engines, max_batches=batches)
    objectives = w.slo.objectives()
    hosted = [pt for pt in p.options if pt.config is not None]
    assert (p.best is None) == (not p.options) and all(pt in p.options for pt in p.frontier)
    assert [pt.option.usd_per_task for pt in p.options] == sorted(pt.option.usd_per_task for pt in p.options)
    for pt in hosted:
        c, o = pt.config, pt.option
        assert c.gpu in gpus and c.engine in engines and c.max_batch in batches and c.gpus <= 4
        eng = find_engine(c.engine).model_copy(update={"max_batch_size": c.max_batch})
        dep = make_deployment(model, c.gpu, c.precision, c.tp, eng, dp=c.dp, ep=c.ep)
        memory_plan(dep, isl, osl)  # raises DoesNotFitError if it does not fit
        hit = cached if dep.engine.prefix_caching else 0.0
        at_peak = simulate_at(dep, w.requests_per_s_peak / o.replicas, isl, osl, hit, objectives)
        sized = simulate_at(dep, w.requests_per_s_peak / (w.utilisation * o.replicas), isl, osl, hit, objectives)
        assert serves(at_peak) and serves(sized), (c, o.replicas, at_peak.misses(), sized.misses())
        assert math.isclose(o.ttft_s, at_peak.value("ttft", p.ttft_stat))  # the figures shown are that run's
        assert math.isclose(o.tpot_s, at_peak.value("tpot", p.tpot_stat))
    if p.best is None:
        assert p.unmet
