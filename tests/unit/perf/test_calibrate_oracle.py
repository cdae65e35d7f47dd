"""calibrate.py against oracles written here: synthetic step times from a closed form with known
terms (the fit must give them back), hand traces of the two optimisers, hand-built problems and
every input check's message verbatim, and the profile file it writes line by line.

The closed forms use tests/hand.py's model and GPUs (the numbers are in its docstring):
on ``MEMORY_BOUND`` (2 TB/s, unbounded FLOP/s) a decode step of B sequences holding L tokens each
streams the dense weights 60,817,408 B, the 16-bit LM head 2,097,152 B and B·L·2,048 B of KV:

    t_decode = t_fixed + 2 layers · t_layer + (62,914,560 + 2,048·B·L) / (η_m · 2e12)

on ``COMPUTE_BOUND`` (1 PFLOP/s bf16, unbounded bandwidth) a prefill of b prompts of S tokens runs
2·bS·30,408,704 FLOPs of linear layers and 2·b·1024·1024 of LM head at η_c·1e15, and
b·S(S+1)/2 pairs × 2 layers × 4,096 FLOPs of attention at η_a·1e15:

    t_prefill = t_fixed + 2 · t_layer + (2bS·30,408,704 + 2b·1,048,576) / (η_c·1e15)
                + b·S(S+1)/2 · 8,192 / (η_a·1e15)
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from tests import hand as h
from truecost.errors import InputError
from truecost.perf import calibrate as C
from truecost.perf.calibrate import Calibration, MeasuredPoint, calibrate, profile_path, save_profile
from truecost.progress import Progress, Task

E = h.engine()  # t_fixed 1 ms, t_layer 0, η_m 0.5, η_c 0.5 (bf16), η_a 0.25


def t_decode(b, L, eta_m, t_layer, t_fixed=0.001):
    return t_fixed + 2 * t_layer + (62_914_560 + 2_048 * b * L) / (eta_m * 2e12)


def t_prefill(b, S, eta_c, eta_a, t_layer, t_fixed=0.001):
    linear = 2 * b * S * 30_408_704 + 2 * b * 1_048_576
    attention = b * S * (S + 1) / 2 * 8_192
    return t_fixed + 2 * t_layer + linear / (eta_c * 1e15) + attention / (eta_a * 1e15)


@pytest.fixture(autouse=True)
def _files_read_once(monkeypatch):
    """The fit builds thousands of deployments; read each hand TOML file once (speed only: the
    catalog's loader is tested elsewhere, and these files never change within a test)."""
    from truecost import catalog

    for kind in ("model", "gpu"):
        load, seen = getattr(catalog, kind), {}

        def cached(name, load=load, seen=seen):
            if not isinstance(name, str) or not name.endswith(".toml"):
                return load(name)
            if name not in seen:
                seen[name] = load(name)
            return seen[name]

        monkeypatch.setattr(catalog, kind, cached)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hand")
    return {"model": h.model_file(d), "mem": h.gpu_file(d, h.MEMORY_BOUND), "comp": h.gpu_file(d, h.COMPUTE_BOUND),
            "gpu": h.gpu_file(d, h.gpu()), "dir": d}


class Recorder(Progress):
    def __init__(self):
        self.tasks: list[Task] = []

    def task(self, label, total=None):
        t = Task(label, total)
        self.tasks.append(t)
        return t


# ---- the point and the report ---------------------------------------------------------------

def test_measured_point_defaults_and_figures():
    p = MeasuredPoint(2, 100)
    assert (p.osl, p.output_tokens_per_s, p.tpot_s, p.source, p.ttft_s, p.step_s, p.kind) == \
        (1, None, None, "", None, None, "serving")
    assert (p.model, p.gpu, p.precision, p.tp, p.kv_dtype, p.served_model) == (None,) * 6
    assert p.figures() == {}
    s = MeasuredPoint(2, 100, 10, 5.0, 0.4, ttft_s=0.2, step_s=9.0)  # a serving point ignores step_s
    assert s.figures() == {"output_tokens_per_s": 5.0, "tpot_s": 0.4, "ttft_s": 0.2}
    assert list(MeasuredPoint(2, 100, tpot_s=0.4).figures()) == ["tpot_s"]
    for kind in ("decode", "prefill"):  # a step point ignores the serving figures
        assert MeasuredPoint(2, 100, 10, 5.0, 0.4, ttft_s=0.2, step_s=9.0, kind=kind).figures() == {"step_s": 9.0}
        assert MeasuredPoint(2, 100, 10, 5.0, kind=kind).figures() == {}


def test_held_out_rms_is_the_rms_of_the_architectures():
    cal = Calibration(E, 1.0, 0.5, [])
    assert (cal.fitted, cal.warnings, cal.held_out, cal.held_out_rms_log_error) == ([], [], {}, None)
    # sqrt((0.3² + 0.4²) / 2) = sqrt(0.125)
    assert Calibration(E, 1, 1, [], held_out={"a": 0.3, "b": 0.4}).held_out_rms_log_error == \
        pytest.approx(math.sqrt(0.125), rel=1e-12)
    assert Calibration(E, 1, 1, [], held_out={"a": 0.3}).held_out_rms_log_error == pytest.approx(0.3, rel=1e-12)
    # three: sqrt((1 + 4 + 4) / 3) = sqrt(3)
    assert Calibration(E, 1, 1, [], held_out={"a": 1.0, "b": -2.0, "c": 2.0}).held_out_rms_log_error == \
        pytest.approx(math.sqrt(3), rel=1e-12)


def test_rms_and_independent_figures():
    assert C._rms([3.0, 4.0]) == pytest.approx(math.sqrt(12.5), rel=1e-12)  # (9 + 16) / 2
    assert C._rms([-2.0]) == 2.0
    assert C._rms([]) == 0.0
    ind = C._independent
    assert ind(MeasuredPoint(1, 1, output_tokens_per_s=1.0)) == 1
    assert ind(MeasuredPoint(1, 1, tpot_s=1.0)) == 1
    assert ind(MeasuredPoint(1, 1, output_tokens_per_s=1.0, tpot_s=1.0)) == 1  # one says the other
    assert ind(MeasuredPoint(1, 1, ttft_s=1.0)) == 1
    assert ind(MeasuredPoint(1, 1, output_tokens_per_s=1.0, ttft_s=1.0)) == 2
    assert ind(MeasuredPoint(1, 1, tpot_s=1.0, ttft_s=1.0)) == 2
    assert ind(MeasuredPoint(1, 1)) == 0
    assert ind(MeasuredPoint(1, 1, kind="decode")) == 1
    assert ind(MeasuredPoint(1, 1, kind="prefill", output_tokens_per_s=1.0, ttft_s=1.0)) == 1


# ---- prediction by hand ----------------------------------------------------------------------

def _target(point, model, gpu, precision="bf16", tp=1, kv=None):
    return C._Target(point, model, gpu, precision, tp, kv)


def test_predicted_steps_are_the_closed_forms(files):
    dec = _target(MeasuredPoint(4, 1000, kind="decode", step_s=1.0), files["model"], files["mem"])
    # 1 ms + (62,914,560 + 4 · 1000 · 2,048) / 1e12 = 1 ms + 71.10656 µs
    assert C._predict(E, dec) == {"step_s": pytest.approx(0.00107110656, rel=1e-12)}
    pre = _target(MeasuredPoint(2, 100, kind="prefill", step_s=1.0), files["model"], files["comp"])
    # 2 prompts of 100: (2·200·30,408,704 + 4·1,048,576) / 5e14 + 2·5,050·8,192 / 2.5e14
    assert C._predict(E, pre) == {"step_s": pytest.approx(t_prefill(2, 100, 0.5, 0.25, 0.0), rel=1e-12)}
    assert t_prefill(2, 100, 0.5, 0.25, 0.0) == pytest.approx(0.001 + 12_167_675_904 / 5e14 + 82_739_200 / 2.5e14,
                                                              rel=1e-12)
    # one sequence of ISL 300, OSL 100: each token's step streams the weights, the KV of the mean
    # context 300 + 100/2 and writes the KV of 300/100 prompt tokens (chunked prefill spread over
    # the answer): 1 ms + (62,914,560 + 2,048 · 350 + 2,048 · 3) / 1e12 = 1.063637504 ms
    srv = _target(MeasuredPoint(1, 300, 100, 1.0), files["model"], files["mem"])
    got = C._predict(E, srv)
    assert sorted(got) == ["output_tokens_per_s", "tpot_s", "ttft_s"]
    assert got["tpot_s"] == pytest.approx(0.001063637504, rel=1e-9)
    assert got["output_tokens_per_s"] == pytest.approx(1 / 0.001063637504, rel=1e-9)
    assert 0.01 < got["ttft_s"] < 0.0125  # the 10 ms request overhead and about one step on top
    # ISL and OSL swapped: 1 ms + (62,914,560 + 2,048 · 250 + 2,048 / 3) / 1e12
    swapped = C._predict(E, _target(MeasuredPoint(1, 100, 300, 1.0), files["model"], files["mem"]))
    assert swapped["tpot_s"] == pytest.approx(0.001 + (62_914_560 + 2_048 * 250 + 2_048 / 3) / 1e12, rel=1e-9)
    # residuals: ln(predicted / measured), one per figure, in the point's order
    pts = [_target(MeasuredPoint(4, 1000, kind="decode", step_s=0.00107110656 * math.e), files["model"], files["mem"]),
           _target(MeasuredPoint(1, 100, 100, 2 / (0.001 + 63_223_808 / 1e12), (0.001 + 63_223_808 / 1e12) / 3),
                   files["model"], files["mem"])]
    assert C._residuals(E, pts) == pytest.approx([-1.0, -math.log(2), math.log(3)], rel=1e-9)


# ---- the terms ----------------------------------------------------------------------------------

def test_terms_the_points_can_tell_apart():
    def t(point, model="llama-3.1-8b", precision="bf16"):
        return _target(point, model, "h100-sxm", precision)

    tput = MeasuredPoint(1, 512, 128, 100.0)
    assert C._terms([t(tput)], E) == ["memory_efficiency"]
    assert C._terms([t(MeasuredPoint(1, 512, 128))], E) == ["memory_efficiency"]  # never fewer than one
    three = [t(tput), t(tput), t(tput)]
    assert C._terms(three, E) == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16"]
    # fp16 matmuls run at the bf16 efficiency: one term for both
    assert C._terms([t(tput), t(tput, precision="fp16"), t(tput)], E) == \
        ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16"]
    many = [t(tput, precision="fp8"), t(tput), t(tput, precision="fp8")] + [t(tput)] * 3
    assert C._terms(many, E) == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.fp8",
                                 "compute_efficiency.bf16"]
    # a second depth adds the fixed overhead; a TTFT or a prefill adds attention
    depths = [t(tput), t(tput, model="llama-3.1-70b")] + [t(tput)] * 4
    assert C._terms(depths, E) == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16",
                                   "step_overhead_fixed_s"]
    ttft = [t(MeasuredPoint(1, 512, 128, 100.0, ttft_s=0.1))] * 3
    assert C._terms(ttft, E) == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16",
                                 "attention_compute_efficiency"]
    pre = [t(MeasuredPoint(1, 512, kind="prefill", step_s=0.1))] * 2 + [t(tput)] * 4
    assert C._terms(pre, E) == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16",
                                "attention_compute_efficiency"]
    both = [t(MeasuredPoint(1, 512, kind="prefill", step_s=0.1)), t(tput, model="llama-3.1-70b")] + [t(tput)] * 4
    assert C._terms(both, E)[3:] == ["step_overhead_fixed_s", "attention_compute_efficiency"]


def test_bounds_term_values_and_clamping():
    assert C._bounds("memory_efficiency") == (0.05, 1.0)
    assert C._bounds("compute_efficiency.fp8") == (0.05, 1.0)
    assert C._bounds("step_overhead_per_layer_s") == (0.0, 0.002)
    assert C.term_value(E, "compute_efficiency.bf16") == 0.5
    assert C.term_value(E, "attention_compute_efficiency") == 0.25
    assert C.term_value(E, "step_overhead_fixed_s") == 0.001
    assert type(C.term_value(E.model_copy(update={"moe_tile_tokens": 4}), "moe_tile_tokens")) is float
    p = C._set(E, {"memory_efficiency": 2.0, "compute_efficiency.fp8": 0.3, "step_overhead_fixed_s": -1.0,
                   "step_overhead_per_layer_s": 1.0, "attention_compute_efficiency": 0.01})
    assert (p.memory_efficiency, p.step_overhead_fixed_s, p.step_overhead_per_layer_s,
            p.attention_compute_efficiency) == (1.0, 0.0, 0.002, 0.05)
    assert p.compute_efficiency == {"bf16": 0.5, "fp8": 0.3, "int8": 0.5}
    assert E.compute_efficiency == {"bf16": 0.5, "fp8": 0.5, "int8": 0.5}  # the base is left alone
    q = C._set(E, {"compute_efficiency.bf16": 0.7, "memory_efficiency": 0.3})
    assert (q.compute_efficiency["bf16"], q.memory_efficiency, q.key) == (0.7, 0.3, "hand-engine")
    assert C._set(E, {}) == E


# ---- the solvers by hand ----------------------------------------------------------------------

def test_gaussian_elimination():
    # the textbook system: 2x + y − z = 8, −3x − y + 2z = −11, −2x + y + 2z = −3 ⇒ (2, 3, −1)
    a, b = [[2.0, 1.0, -1.0], [-3.0, -1.0, 2.0], [-2.0, 1.0, 2.0]], [8.0, -11.0, -3.0]
    assert C._solve(a, b) == pytest.approx([2.0, 3.0, -1.0], rel=1e-12)
    assert a == [[2.0, 1.0, -1.0], [-3.0, -1.0, 2.0], [-2.0, 1.0, 2.0]] and b == [8.0, -11.0, -3.0]
    assert C._solve([[0.0, 1.0], [1.0, 0.0]], [2.0, 3.0]) == [3.0, 2.0]  # needs the row swap
    assert C._solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0]) is None  # singular
    assert C._solve([[0.0]], [1.0]) is None
    assert C._solve([[1e-300]], [1e-300]) == [1.0]  # the smallest pivot it still takes
    assert C._solve([[1e-301]], [1e-301]) is None
    assert C._solve([[4.0]], [2.0]) == [0.5]
    # upper triangular back substitution: x2 = 6/3 = 2, x1 = (5 − 1·2)/1 = 3, x0 = (9 − 2·3 − 1·2)/1 = 1
    assert C._solve([[1.0, 2.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 3.0]], [9.0, 5.0, 6.0]) == \
        pytest.approx([1.0, 3.0, 2.0], rel=1e-12)


def test_levenberg_marquardt_steps_by_hand():
    lm = C._levenberg_marquardt

    def f(x):
        return [x[0] - 3.0]

    # no step: the start clamped into its box
    assert lm(f, [5.0], [(0.0, 1.0)], iters=0) == [1.0]
    assert lm(f, [-5.0], [(0.0, 1.0)], iters=0) == [0.0]
    # one step of a linear residual: J = 1, JᵀJ = 1, Jᵀr = −3, damped by λ = 0.01 ⇒ x = 3 / 1.01
    x1 = 3 / 1.01
    assert lm(f, [0.0], [(-10.0, 10.0)], iters=1) == [pytest.approx(x1, rel=1e-9)]
    # λ falls to 0.01/3 after a good step: x2 = x1 + (3 − x1) / (1 + 0.01/3)
    x2 = x1 + (3 - x1) / (1 + 0.01 / 3)
    assert lm(f, [0.0], [(-10.0, 10.0)], iters=2) == [pytest.approx(x2, rel=1e-9)]
    assert lm(f, [0.0], [(-10.0, 10.0)]) == [pytest.approx(3.0, rel=1e-9)]
    # a curved residual x² − 2 from 1 in (0, 10): the forward difference with h = 1e-4 · 10 gives
    # J = ((1 + h)² − 1) / h = 2 + h, so one damped step is r·J / (J²·1.01) = 1 / (2.001 · 1.01)
    sq = lambda x: [x[0] ** 2 - 2]  # noqa: E731
    assert lm(sq, [1.0], [(0.0, 10.0)], iters=1) == [pytest.approx(1 + 1 / (2.001 * 1.01), rel=1e-9)]
    # at the upper bound the difference is taken backwards: J = (10² − (10 − h)²) / h = 20 − h,
    # and the step is −98 / ((20 − h) · 1.01)
    assert lm(sq, [10.0], [(0.0, 10.0)], iters=1) == [pytest.approx(10 - 98 / (19.999 * 1.01), rel=1e-9)]
    assert lm(lambda x: [1e3 * (x[0] - 1)], [1.0], [(0.99995, 1.00005)]) == [1.0]  # already exact: no step
    # x + h landing exactly on the upper bound is still a forward difference: from 0.9999 in (0, 1),
    # h = 1e-4, J = (1 − 0.9999²) / 1e-4 = 1.9999 on r = x² − 0.81
    x0, j = 0.9999, 1.9999
    assert lm(lambda x: [x[0] ** 2 - 0.81], [x0], [(0.0, 1.0)], iters=1) == \
        [pytest.approx(x0 - j * (x0 ** 2 - 0.81) / (j * j * 1.01 + 0.01e-12), rel=1e-9)]
    # r = x³ − 1 from 0.1 in (0, 10): J = ((0.1 + h)³ − 0.001) / h = 0.030301 (h = 1e-3), and the step
    # x = 0.1 − J·r / (J² + λ(J² + 1e-12)) overshoots (x³ − 1)² = 0.998 until λ has grown ×4 six times
    # (λ = 0.01, 0.04, … 10.24 give x = 32.7 … 3.03); λ = 40.96 gives 0.8857, kept
    j, lam = 0.030301, 0.01 * 4 ** 6
    assert lm(lambda x: [x[0] ** 3 - 1], [0.1], [(0.0, 10.0)], iters=1) == \
        [pytest.approx(0.1 + j * 0.999 / (j * j + lam * (j * j + 1e-12)), rel=1e-9)]
    # from 0.05: J = 3·0.0025 + 3·0.05·h + h² = 0.007651, r = −0.999875; only the eighth and last
    # try, λ = 0.01·4⁷ = 163.84, stays below the start's cost (x = 0.85)
    j, lam = 0.007651, 0.01 * 4 ** 7
    assert lm(lambda x: [x[0] ** 3 - 1], [0.05], [(0.0, 10.0)], iters=1) == \
        [pytest.approx(0.05 + j * 0.999875 / (j * j + lam * (j * j + 1e-12)), rel=1e-9)]
    # r = 1e30·e^(−x) never reaches its floor: every iteration takes a full step. With h = 1e-4 · 1000
    # = 0.1, J = −r·(1 − e^(−0.1)) / 0.1, so step k moves 1 / (c·(1 + λ_k)), c = (1 − e^(−0.1)) / 0.1,
    # λ_k = max(0.01 / 3^k, 1e-9); 40 iterations by default
    c = (1 - math.exp(-0.1)) / 0.1

    def walked(n):
        return sum(1 / (c * (1 + max(0.01 / 3 ** k, 1e-9))) for k in range(n))

    decay = lambda x: [1e30 * math.exp(-x[0])]  # noqa: E731
    assert lm(decay, [0.0], [(0.0, 1000.0)]) == [pytest.approx(walked(40), rel=1e-12)]
    assert lm(decay, [0.0], [(0.0, 1000.0)], iters=5) == [pytest.approx(walked(5), rel=1e-12)]
    # two coupled unknowns, r = (x + 2y − 4, 3x + y − 7) from (0, 0): J = [[1, 2], [3, 1]],
    # JᵀJ = [[10, 5], [5, 5]], Jᵀr = (−25, −15); damped, [[10.1, 5], [5, 5.05]]·δ = (25, 15):
    # det = 26.005, δ = ((25·5.05 − 5·15) / 26.005, (10.1·15 − 5·25) / 26.005)
    lin2 = lambda v: [v[0] + 2 * v[1] - 4, 3 * v[0] + v[1] - 7]  # noqa: E731
    box = [(-10.0, 10.0), (-10.0, 10.0)]
    assert lm(lin2, [0.0, 0.0], box, iters=1) == pytest.approx([51.25 / 26.005, 26.5 / 26.005], rel=1e-9)
    assert lm(lin2, [0.0, 0.0], box) == pytest.approx([2.0, 1.0], rel=1e-9)
    # the box holds: the optimum outside it stops at the bound
    assert lm(f, [0.0], [(-1.0, 1.0)]) == [1.0]
    # at the upper bound the difference is taken backwards; two unknowns, each its own residual
    g = lm(lambda x: [x[0] - 0.25, 2 * (x[1] + 4)], [1.0, 0.0], [(0.0, 1.0), (-10.0, 10.0)])
    assert g == pytest.approx([0.25, -4.0], rel=1e-7)


def test_nelder_mead_steps_by_hand():
    nm = C._nelder_mead
    # f = x², simplex {1, 2}: centroid 1, reflect 2 → 0 (f 0 < 1), expand → −1 (f 1, worse): keeps 0
    assert nm(lambda x: x[0] ** 2, [1.0], [1.0], iters=1) == [0.0]
    # f = (x + 5)²: reflect → 0 (25 < 36), expand → −1 (16 < 25): keeps −1
    assert nm(lambda x: (x[0] + 5) ** 2, [1.0], [1.0], iters=1) == [-1.0]
    # ties go to the plainer move. f = (x + 0.5)²: reflect → 0 and expand → −1 both give 0.25: keeps 0
    assert nm(lambda x: (x[0] + 0.5) ** 2, [1.0], [1.0], iters=1) == [0.0]
    # f = (x − 0.5)²: reflect 2 → 0 ties the best (0.25): contract → 1.5 instead; then {1, 1.5}:
    # reflect → 0.5 (0, the best), expand → 0 (0.25, worse): 0.5
    assert nm(lambda x: (x[0] - 0.5) ** 2, [1.0], [1.0], iters=2) == [0.5]
    # f = (x − 1.8)², simplex {2 (0.04), 1 (0.64)}: reflect → 3 (1.44) fails, contract → 1.5 (0.09);
    # then {2, 1.5}: reflect → 2.5 (0.49) fails, contract → 1.75 (0.0025), the new best
    sq = lambda x: (x[0] - 1.8) ** 2  # noqa: E731
    assert nm(sq, [1.0], [1.0], iters=1) == [2.0]
    assert nm(sq, [1.0], [1.0], iters=2) == [1.75]
    # f = (x² − 4)², simplex {−2.4 (3.0976), 2.6 (7.6176)}: reflect → −7.4 and contract → 0.1 (15.92)
    # both fail: shrink 2.6 halfway to −2.4 → 0.1. Then contract → −1.15 (7.169), then reflect → −3.65
    # fails and contract → −1.775 (0.7214), the new best.
    w = lambda x: (x[0] ** 2 - 4) ** 2  # noqa: E731
    assert nm(w, [-2.4], [5.0], iters=2) == [-2.4]
    assert nm(w, [-2.4], [5.0], iters=3) == [pytest.approx(-1.775, rel=1e-12)]
    # two dimensions, f = x² + y² from (1, 1) with steps 1: {(1,1) 2, (2,1) 5, (1,2) 5}; centroid
    # (1.5, 1), reflect (1,2) → (2, 0) (4 < 5: kept, no expansion); then centroid (1.5, 0.5), reflect
    # (2, 1) → (1, 0) (1 < 2) and expand → (0.5, −0.5) (0.5 < 1): the new best.
    bowl = lambda x: x[0] ** 2 + x[1] ** 2  # noqa: E731
    assert nm(bowl, [1.0, 1.0], [1.0, 1.0], iters=1) == [1.0, 1.0]
    assert nm(bowl, [1.0, 1.0], [1.0, 1.0], iters=2) == [0.5, -0.5]
    # a flat function stops at once and returns the start
    assert nm(lambda x: 7.0, [0.3, 0.4], [1.0, 1.0]) == [0.3, 0.4]
    # the spread that stops it is < tol = 1e-14: exactly 1e-14 still moves (reflect 1 → −1, expand → −2)
    assert nm(lambda x: 1e-14 * x[0], [0.0], [1.0], iters=1) == [-2.0]
    assert nm(lambda x: 1e-14 * x[0], [0.0], [1.0], iters=1, tol=2e-14) == [0.0]
    # f = −x expands every step from {0, 1}: 3, 7, 15, …, 2^(k+1) − 1 after k; by default k = 300
    assert nm(lambda x: -x[0], [0.0], [1.0], iters=3) == [15.0]
    assert nm(lambda x: -x[0], [0.0], [1.0]) == [pytest.approx(2.0 ** 301, rel=1e-12)]


# ---- the checks ----------------------------------------------------------------------------------

def test_model_names_that_serve_a_catalog_model(files):
    assert C._normal("meta-llama/Llama-3.1-8B-Instruct") == "llama318binstruct"
    assert C._normal("A_b.C-d") == "abcd"
    assert C._normal("x/y/Z 9") == "z9"
    same = C._same_model
    assert same("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b")  # its HF id
    assert same("LLAMA-3.1-8B", "llama-3.1-8b")  # its key
    assert same("Llama-3-8B-Instruct", "llama-3.1-8b")  # its alias llama-3-8b
    assert same("llama3.1-70b-awq", "llama-3.1-70b")  # its alias llama3.1-70b
    assert not same("Meta-Llama-3.1-8B", "llama-3.1-8b")
    assert not same("llama-3.1", "llama-3.1-8b")  # the served name must hold the whole key
    assert same("org/HAND-2L-chat", files["model"])  # a model file: its key "hand-2l"
    assert same("test/hand-2l", files["model"])
    assert not same("hand-3l", files["model"])
    # a name the catalog does not know is compared as it is
    assert same("no-such-model-v2", "no-such-model")
    assert not same("other", "no-such-model")


def test_problems_in_order_with_their_messages(files):
    model, g = files["model"], files["gpu"]
    ok = _target(MeasuredPoint(1, 1000, 100, 1.0), model, g)
    assert C._problems(E, ["memory_efficiency"], 0.25, [ok]) == []  # 0.25 is still explained
    # (64 GiB − 4 GiB reserve − 65,021,952 B of weights) × 0.5 for KV / (1,100 tokens × 2,048 B)
    # = 32,179,743,744 / 2,252,800 = 14,284.3 ⇒ 14,284 sequences of 1,000 + 100 tokens fit
    cap = _target(MeasuredPoint(14_284, 1000, 100, 1.0), model, g)
    assert C._problems(E, [], 0.0, [cap]) == []
    over = _target(MeasuredPoint(14_284.5, 1000, 100, 1.0, source="r#1", served_model="Qwen/Qwen2.5-7B"), model, g)
    over2 = _target(MeasuredPoint(20_000, 1000, 100, 1.0, served_model="Qwen/Qwen2.5-7B"), model, g)
    other = _target(MeasuredPoint(1, 10, 10, 1.0, served_model="llama"), model, g)
    step = _target(MeasuredPoint(10 ** 6, 1000, kind="decode", step_s=1.0), model, g)  # not a steady state
    bad = C._set(E, {"memory_efficiency": 1.0, "step_overhead_per_layer_s": 0.0, "compute_efficiency.bf16": 0.05})
    got = C._problems(bad, ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16"], 0.2501,
                      [step, over, over2, other])
    assert got == [
        f"r#1 measured model 'Qwen/Qwen2.5-7B', not {model}",
        f"a point measured model 'llama', not {model}",
        "r#1: 14284.5 live sequences exceed the 14284 that fit on 1x hand-gpu (w:bf16 kv:bf16 mm:bf16)",
        "memory_efficiency 1 sits at its upper bound 1",
        "step_overhead_per_layer_s 0 sits at its lower bound 0",
        "compute_efficiency.bf16 0.05 sits at its lower bound 0.05",
        "rms log error stays 0.25 after the fit (> 0.25): the model does not explain these points"]
    # the same served name on the same model is named once; a point with no source is "a point"
    assert C._problems(E, [], 0.0, [over2, over2, other]) == [
        f"a point measured model 'Qwen/Qwen2.5-7B', not {model}", f"a point measured model 'llama', not {model}",
        "a point: 20000 live sequences exceed the 14284 that fit on 1x hand-gpu (w:bf16 kv:bf16 mm:bf16)"]
    # a bound is hit within 0.5% of the range: η_m ≤ 0.05 + 0.005 · 0.95 = 0.05475 or ≥ 0.99525
    lo_edge, hi_edge = 0.05 + 0.005 * 0.95, 1.0 - 0.005 * 0.95
    names = ["memory_efficiency"]
    assert C._problems(C._set(E, {"memory_efficiency": lo_edge}), names, 0.0, [ok]) == \
        ["memory_efficiency 0.05475 sits at its lower bound 0.05"]
    assert C._problems(C._set(E, {"memory_efficiency": lo_edge + 1e-9}), names, 0.0, [ok]) == []
    assert C._problems(C._set(E, {"memory_efficiency": hi_edge}), names, 0.0, [ok]) == \
        ["memory_efficiency 0.9952 sits at its upper bound 1"]
    assert C._problems(C._set(E, {"memory_efficiency": hi_edge - 1e-9}), names, 0.0, [ok]) == []
    # no fixed overhead is physical (async scheduling); its upper bound is not
    fixed = ["step_overhead_fixed_s"]
    assert C._problems(C._set(E, {"step_overhead_fixed_s": 0.0}), fixed, 0.0, [ok]) == []
    assert C._problems(C._set(E, {"step_overhead_fixed_s": 0.05}), fixed, 0.0, [ok]) == \
        ["step_overhead_fixed_s 0.05 sits at its upper bound 0.05"]
    assert C._problems(C._set(E, {"step_overhead_per_layer_s": 0.002 - 0.005 * 0.002}),
                       ["step_overhead_per_layer_s"], 0.0, [ok]) == \
        ["step_overhead_per_layer_s 0.00199 sits at its upper bound 0.002"]


def test_a_deployment_that_does_not_fit_is_named_once(files):
    from truecost.errors import DoesNotFitError
    from truecost.perf.memory import memory_plan

    small = h.gpu_file(files["dir"], h.gpu("hand-small", memory_gib=4))  # 4 GiB, all of it the runtime's
    a = _target(MeasuredPoint(1, 1000, 100, 1.0, source="s#0"), files["model"], small)
    b = _target(MeasuredPoint(1, 1000, 100, 1.0, source="s#1"), files["model"], small)
    with pytest.raises(DoesNotFitError) as e:
        memory_plan(C._deployment(E, a), 1000, 100)
    assert C._problems(E, [], 0.0, [a, b]) == [f"s#0: {e.value}"]
    assert str(e.value).startswith("hand-2l at bf16 does not fit on 1x hand-small")
    assert C._problems(E, [], 0.0, [C._Target(MeasuredPoint(1, 1000, 100, 1.0), files["model"], small, "bf16", 1,
                                              None)]) == [f"a point: {e.value}"]


# ---- the inputs ----------------------------------------------------------------------------------

def _resolve(*points, model="m", gpu="g", precision="bf16", tp=1, kv=None):
    return C._resolve(points, model, gpu, precision, tp, kv)


@pytest.mark.parametrize("point, message", [
    (MeasuredPoint(1, 10, source="p"),
     "measured point p has no measured figure (output_tokens_per_s, tpot_s or ttft_s)"),
    (MeasuredPoint(1, 10), "measured point point 1 has no measured figure (output_tokens_per_s, tpot_s or ttft_s)"),
    (MeasuredPoint(1, 10, 5, 100.0, kind="decode"), "measured point point 1 has no measured figure (step_s)"),
    (MeasuredPoint(1, 10, kind="prefill"), "measured point point 1 has no measured figure (step_s)"),
    (MeasuredPoint(1, 10, tpot_s=math.inf, source="p"),
     "measured point p: tpot_s must be a finite number > 0, got inf"),
    (MeasuredPoint(1, 10, ttft_s=-1.0, source="p"), "measured point p: ttft_s must be a finite number > 0, got -1.0"),
    (MeasuredPoint(1, 10, 9.0, ttft_s=0.0, source="p"),
     "measured point p: ttft_s must be a finite number > 0, got 0.0"),
    (MeasuredPoint(1, 10, kind="decode", step_s=-math.inf, source="p"),
     "measured point p: step_s must be a finite number > 0, got -inf"),
    (MeasuredPoint(0, 10, 1, 1.0, source="p"), "measured point p: concurrency must be a number of live sequences "
                                               "above 0 and at most 1,000,000, got 0"),
    (MeasuredPoint(-2, 10, 1, 1.0, source="p"), "measured point p: concurrency must be a number of live sequences "
                                                "above 0 and at most 1,000,000, got -2"),
    (MeasuredPoint(1_000_001, 10, 1, 1.0, source="p"), "measured point p: concurrency must be a number of live "
                                                       "sequences above 0 and at most 1,000,000, got 1e+06"),
    (MeasuredPoint(math.nan, 10, 1, 1.0, source="p"), "measured point p: concurrency must be a number of live "
                                                      "sequences above 0 and at most 1,000,000, got nan"),
    (MeasuredPoint(math.inf, 10, 1, 1.0, source="p"), "measured point p: concurrency must be a number of live "
                                                      "sequences above 0 and at most 1,000,000, got inf"),
    (MeasuredPoint(1, 0, 1, 1.0, source="p"), "measured point p: isl and osl must be from 1 to 10,000,000 tokens, "
                                              "got 0 and 1"),
    (MeasuredPoint(1, 10_000_001, 1, 1.0, source="p"), "measured point p: isl and osl must be from 1 to 10,000,000 "
                                                       "tokens, got 1e+07 and 1"),
    (MeasuredPoint(1, 5, 0, 1.0, source="p"), "measured point p: isl and osl must be from 1 to 10,000,000 tokens, "
                                              "got 5 and 0"),
    (MeasuredPoint(1, 5, 10_000_001, 1.0, source="p"), "measured point p: isl and osl must be from 1 to "
                                                       "10,000,000 tokens, got 5 and 1e+07"),
])
def test_each_bad_point_is_named_in_one_line(point, message):
    with pytest.raises(InputError) as e:
        _resolve(point)
    assert str(e.value) == message


def test_resolve_fills_from_the_call_and_names_what_is_missing():
    edge = MeasuredPoint(1_000_000, 10_000_000, 10_000_000, 1.0)  # every limit is inclusive
    tiny = MeasuredPoint(0.001, 1, 1, kind="decode", step_s=1e-9)
    own = MeasuredPoint(1, 1, 1, 1.0, model="m2", gpu="g2", precision="fp8", tp=4, kv_dtype="fp8")
    got = _resolve(edge, tiny, own, precision="int4", tp=2, kv="bf16")
    assert [(t.point, t.model, t.gpu, t.precision, t.tp, t.kv_dtype) for t in got] == [
        (edge, "m", "g", "int4", 2, "bf16"), (tiny, "m", "g", "int4", 2, "bf16"), (own, "m2", "g2", "fp8", 4, "fp8")]
    assert _resolve(own, model=None, gpu=None)[0].model == "m2"
    # the second point is "point 2" when it has no source
    with pytest.raises(InputError) as e:
        _resolve(edge, MeasuredPoint(1, 1, 1, 1.0), model=None)
    assert str(e.value) == "measured point point 1 names no model; give --model or a model column"
    with pytest.raises(InputError) as e:
        _resolve(own, MeasuredPoint(1, 1, 1, 1.0), model=None)
    assert str(e.value) == "measured point point 2 names no model; give --model or a model column"
    with pytest.raises(InputError) as e:
        _resolve(own, MeasuredPoint(1, 1, 1, 1.0, source="q"), gpu="")
    assert str(e.value) == "measured point q names no GPU; give --gpu or a gpu column"
    with pytest.raises(InputError) as e:
        _resolve(own, MeasuredPoint(1, 1, 1, 1.0, model="x"), model=None, gpu=None)
    assert str(e.value) == "measured point point 2 names no GPU; give --gpu or a gpu column"


# ---- the fit -------------------------------------------------------------------------------------

TRUTH = {"eta_m": 0.4, "eta_c": 0.6, "eta_a": 0.3, "t_layer": 1e-4}


def test_recovers_four_terms_from_closed_form_steps(files):
    """Decode steps on the memory-bound GPU see η_m and the overhead; prefills on the compute-bound
    one see η_c, η_a and the overhead: four figures, four terms, an exact fit."""
    m, mem, comp = files["model"], files["mem"], files["comp"]
    T = TRUTH
    pts = [MeasuredPoint(1, 100, kind="decode", step_s=t_decode(1, 100, T["eta_m"], T["t_layer"]), source="d#0"),
           MeasuredPoint(64, 4000, kind="decode", step_s=t_decode(64, 4000, T["eta_m"], T["t_layer"]), source="d#1"),
           MeasuredPoint(1, 2000, kind="prefill", step_s=t_prefill(1, 2000, T["eta_c"], T["eta_a"], T["t_layer"]),
                         gpu=comp, source="p#0"),
           MeasuredPoint(1, 16000, kind="prefill", step_s=t_prefill(1, 16000, T["eta_c"], T["eta_a"], T["t_layer"]),
                         gpu=comp)]
    rec = Recorder()
    cal = calibrate(pts, m, mem, base_engine=E, name="fit4", progress=rec)
    p = cal.profile
    assert cal.fitted == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16",
                          "attention_compute_efficiency"]
    assert p.memory_efficiency == pytest.approx(0.4, rel=1e-6)
    assert p.step_overhead_per_layer_s == pytest.approx(1e-4, rel=1e-6)
    assert p.compute_efficiency == {"bf16": pytest.approx(0.6, rel=1e-6), "fp8": 0.5, "int8": 0.5}
    assert p.attention_compute_efficiency == pytest.approx(0.3, rel=1e-6)
    assert p.step_overhead_fixed_s == 0.001  # one depth: not fitted
    assert cal.rms_log_error_after < 1e-7 and cal.warnings == [] and cal.held_out == {}
    # before: the base terms (η_m 0.5, η_c 0.5, η_a 0.25, no per-layer overhead) on the same steps
    before = [math.log(t_decode(1, 100, 0.5, 0) / pts[0].step_s), math.log(t_decode(64, 4000, 0.5, 0) / pts[1].step_s),
              math.log(t_prefill(1, 2000, 0.5, 0.25, 0) / pts[2].step_s),
              math.log(t_prefill(1, 16000, 0.5, 0.25, 0) / pts[3].step_s)]
    assert cal.rms_log_error_before == pytest.approx(math.sqrt(sum(r * r for r in before) / 4), rel=1e-9)
    # the rows: each point's measured, before and after figures
    assert [list(r) for r in cal.rows] == [["source", "kind", "model", "concurrency", "isl", "measured_step_s",
                                            "before_step_s", "after_step_s"]] * 4
    assert [(r["source"], r["kind"], r["model"], r["concurrency"], r["isl"]) for r in cal.rows] == [
        ("d#0", "decode", m, 1, 100), ("d#1", "decode", m, 64, 4000), ("p#0", "prefill", m, 1, 2000),
        ("", "prefill", m, 1, 16000)]
    for r, pt, b in zip(cal.rows, pts, before, strict=True):
        assert r["measured_step_s"] == pt.step_s
        assert r["before_step_s"] == pytest.approx(pt.step_s * math.exp(b), rel=1e-9)
        assert r["after_step_s"] == pytest.approx(pt.step_s, rel=1e-6)
    # the profile says what it is and where each fitted term came from
    today = date.today()
    record = (f"fitted memory_efficiency, step_overhead_per_layer_s, compute_efficiency.bf16, "
              f"attention_compute_efficiency from 4 measured points (d, p) on {today}; rms log error "
              f"{cal.rms_log_error_before:.3f} -> {cal.rms_log_error_after:.3f}")
    assert p.calibration == record
    assert f"{cal.rms_log_error_after:.3f}" == "0.000"
    assert p.sources == {"memory_efficiency": "calibrated: " + record,
                         "step_overhead_per_layer_s": "calibrated: " + record,
                         "compute_efficiency": "calibrated: " + record,
                         "attention_compute_efficiency": "calibrated: " + record}
    assert (p.key, p.retrieved) == ("fit4", today)
    assert p.name == f"Hand engine, calibrated for hand-2l on {', '.join(sorted([mem, comp]))}"
    # the progress: one task, one fit of one planned
    (task,) = rec.tasks
    assert (task.label, task.total, task.done, task.closed) == ("calibrate: fitting 4 terms to 4 points", 1, 1, True)


def test_recovers_terms_across_the_roofline_kinks(files):
    """On the balanced hand GPU (1,000 TFLOP/s, 2 TB/s) each op of a decode step costs the larger
    of its FLOPs and its bytes: small batches are bound by the weights, large ones by compute,
    attention by its KV. The closed form, per op max(FLOPs / (η·1e15), bytes / (η_m·2e12)):
      linear    2B·30,408,704 FLOPs at η_c, 60,817,408 B;  LM head 2B·1,048,576 at η_c, 2,097,152 B;
      attention B·2 layers·L·4,096 FLOPs at η_a, B·L·2,048 B."""
    def step(b, L, em, ec, ea, t_layer):
        def op(flops, rate, nbytes):
            return max(flops / (rate * 1e15), nbytes / (em * 2e12))
        return (0.001 + 2 * t_layer + op(2 * b * 30_408_704, ec, 60_817_408) + op(2 * b * 1_048_576, ec, 2_097_152)
                + op(b * 2 * L * 4_096, ea, b * L * 2_048))

    shapes = [(1, 1000), (256, 200), (4096, 16), (2048, 64)]
    # the shapes straddle the kinks: at B = 1 the linear layers are bound by their bytes
    # (60,817,408 / 1.2e12 = 50.7 µs against 2·30,408,704 / 7e14 = 0.09 µs), at B = 4,096 by FLOPs
    # (356 µs against 50.7 µs)
    pts = [MeasuredPoint(b, L, kind="decode", step_s=step(b, L, 0.6, 0.7, 0.3, 5e-5)) for b, L in shapes]
    cal = calibrate(pts, files["model"], files["gpu"], base_engine=E)
    p = cal.profile
    assert cal.fitted == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16"]
    assert (p.memory_efficiency, p.step_overhead_per_layer_s, p.compute_efficiency["bf16"]) == \
        (pytest.approx(0.6, rel=1e-6), pytest.approx(5e-5, rel=1e-6), pytest.approx(0.7, rel=1e-6))
    assert p.attention_compute_efficiency == 0.25  # decode attention is bound by its KV here: not fitted
    assert cal.rms_log_error_after < 1e-9
    assert cal.rows[2]["before_step_s"] == pytest.approx(step(4096, 16, 0.5, 0.5, 0.25, 0.0), rel=1e-12)


def test_a_least_squares_fit_by_hand(files):
    """Throughput and TPOT of one sequence that disagree (1 / 1.2 ms tokens/s and 1.1 ms): one
    independent figure, one term (η_m), two residuals. With L = ln(predicted TPOT), a = ln(measured
    tokens/s) and b = ln(measured TPOT) the residuals are −L − a and L − b, least at L = (b − a)/2:
    TPOT* = √(1.1 ms · 1.2 ms) = 1.1489 ms, so 1 ms + 63,223,808 / (η_m · 2e12) = TPOT* gives
    η_m = 63,223,808 / (2e12 · (TPOT* − 1 ms)); the rms residual left is |a + b| / 2 = |ln(1.1 / 1.2)| / 2."""
    tput, tpot = 1 / 0.0012, 0.0011
    cal = calibrate([MeasuredPoint(1, 100, 100, tput, tpot)], files["model"], files["mem"], base_engine=E)
    best = math.sqrt(0.0011 * 0.0012)
    assert cal.fitted == ["memory_efficiency"]
    assert cal.profile.memory_efficiency == pytest.approx(63_223_808 / (2e12 * (best - 0.001)), rel=1e-6)
    assert cal.rms_log_error_after == pytest.approx(abs(math.log(1.1 / 1.2)) / 2, rel=1e-9)
    # before, at η_m = 0.5: L0 = ln(1 ms + 63,223,808 / 1e12)
    l0 = math.log(0.001 + 63_223_808 / 1e12)
    a, b = math.log(tput), math.log(tpot)
    assert cal.rms_log_error_before == pytest.approx(math.sqrt(((-l0 - a) ** 2 + (l0 - b) ** 2) / 2), rel=1e-12)
    (row,) = cal.rows
    assert (row["measured_output_tokens_per_s"], row["measured_tpot_s"]) == (tput, tpot)
    assert row["after_tpot_s"] == pytest.approx(best, rel=1e-6)
    assert row["after_output_tokens_per_s"] == pytest.approx(1 / best, rel=1e-6)
    assert row["before_tpot_s"] == pytest.approx(math.exp(l0), rel=1e-12)


def test_two_depths_fit_the_fixed_overhead_and_hold_each_out(files):
    """Truth: η_m 0.4, 1.5 ms fixed, 0.1 ms per layer; hand-2l and a 4-layer copy (twice the dense
    bytes, 121,634,816, and KV 4,096 B a token). Held out, each architecture is fitted from the
    other alone with the fixed overhead at the base's 1 ms, so the per-layer term absorbs it:
      from 2 layers: 1 + 2·t = 1.7 ms ⇒ t = 0.35 ms, predicting 1 + 4·0.35 = 2.4 ms for 4 layers (+0.5 ms);
      from 4 layers: 1 + 4·t = 1.9 ms ⇒ t = 0.225 ms, predicting 1 + 2·0.225 = 1.45 ms for 2 (−0.25 ms)."""
    from truecost.arch import ModelArch

    m2 = files["model"]
    m4 = h.model_file(files["dir"], ModelArch(key="hand-4l", **{**h.MODEL_FIELDS, "layers": 4,
                                                                   "hf_id": "test/hand-4l"}))

    def t2(b, L, over=0.0):
        return 0.0015 + 2e-4 + over + (62_914_560 + 2_048 * b * L) / 0.8e12

    def t4(b, L, over=0.0):
        return 0.0015 + 4e-4 + over + (121_634_816 + 2_097_152 + 4_096 * b * L) / 0.8e12

    shape = [(1, 100), (64, 4000)]
    pts = ([MeasuredPoint(b, L, kind="decode", step_s=t2(b, L), model=m2, source=f"two#{b}") for b, L in shape]
           + [MeasuredPoint(b, L, kind="decode", step_s=t4(b, L), model=m4, source=f"four#{b}") for b, L in shape])
    rec = Recorder()
    cal = calibrate(pts, gpu=files["mem"], base_engine=E, progress=rec)
    p = cal.profile
    assert cal.fitted == ["memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency.bf16",
                          "step_overhead_fixed_s"]
    assert p.memory_efficiency == pytest.approx(0.4, rel=1e-6)
    assert p.step_overhead_fixed_s == pytest.approx(0.0015, rel=1e-6)
    assert p.step_overhead_per_layer_s == pytest.approx(1e-4, rel=1e-6)
    out4 = math.sqrt(sum(math.log(t4(b, L, 0.0005) / t4(b, L)) ** 2 for b, L in shape) / 2)
    out2 = math.sqrt(sum(math.log(t2(b, L, -0.00025) / t2(b, L)) ** 2 for b, L in shape) / 2)
    assert cal.held_out == {"hand-2l": pytest.approx(out2, rel=1e-5), "hand-4l": pytest.approx(out4, rel=1e-5)}
    assert list(cal.held_out) == ["hand-2l", "hand-4l"]
    assert cal.held_out_rms_log_error == pytest.approx(math.sqrt((out2 ** 2 + out4 ** 2) / 2), rel=1e-5)
    assert p.key == "hand-engine-hand-memory-2models"
    assert p.name == f"Hand engine, calibrated for hand-2l, hand-4l on {files['mem']}"
    assert p.calibration.endswith(f"(four, two) on {date.today()}; rms log error {cal.rms_log_error_before:.3f} -> "
                                  f"{cal.rms_log_error_after:.3f}; held out by architecture "
                                  f"hand-2l {cal.held_out['hand-2l']:.3f}, hand-4l {cal.held_out['hand-4l']:.3f}")
    assert f"{out2:.3f}, {out4:.3f}" == f"{cal.held_out['hand-2l']:.3f}, {cal.held_out['hand-4l']:.3f}"
    assert set(p.sources) >= {"memory_efficiency", "step_overhead_per_layer_s", "compute_efficiency",
                              "step_overhead_fixed_s"}
    (task,) = rec.tasks  # the full fit and one per architecture held out
    assert (task.label, task.total, task.done) == ("calibrate: fitting 4 terms to 4 points", 3, 3)


def test_defaults_of_the_call_and_a_refusal_closes_the_task(files):
    """One throughput point on the memory-bound GPU (test_calibrate's hand figure): at η_m = 0.25
    a token takes 1 ms + 63,223,808 / 5e11 s."""
    t = 0.001 + 63_223_808 / 5e11
    cal = calibrate([MeasuredPoint(1, 100, 100, 1 / t, source="run-9#3")], files["model"], files["mem"],
                    base_engine=E)
    assert cal.profile.memory_efficiency == pytest.approx(0.25, rel=1e-6)
    assert cal.profile.key == "hand-engine-hand-2l-hand-memory-bf16-tp1"  # precision bf16, TP 1
    assert cal.profile.calibration.startswith("fitted memory_efficiency from 1 measured points (run-9) on ")
    assert list(cal.profile.sources) == ["memory_efficiency"]
    assert cal.rows == [{"source": "run-9#3", "kind": "serving", "model": files["model"], "concurrency": 1,
                         "isl": 100, "measured_output_tokens_per_s": 1 / t,
                         "before_output_tokens_per_s": pytest.approx(1 / (0.001 + 63_223_808 / 1e12), rel=1e-9),
                         "after_output_tokens_per_s": pytest.approx(1 / t, rel=1e-6)}]
    # the shipped "tuned" profile is the default base
    tuned = calibrate([MeasuredPoint(1, 100, 100, 1 / t)], files["model"], files["mem"], force=True)
    assert tuned.profile.key == "tuned-hand-2l-hand-memory-bf16-tp1"
    assert tuned.profile.name == f"{C.find_engine('tuned').name}, calibrated for hand-2l on {files['mem']}"
    # refused: the task ends failed and the message names every problem
    rec = Recorder()
    fast = [MeasuredPoint(1, 100, 100, 10 / t)]
    with pytest.raises(InputError) as e:
        calibrate(fast, files["model"], files["mem"], base_engine=E, name="fast", progress=rec)
    assert str(e.value) == ("calibrate refuses to save 'fast': memory_efficiency 1 sits at its upper bound 1; "
                            "rms log error stays 2.21 after the fit (> 0.25): the model does not explain these "
                            "points; check --model/--gpu/--precision/--tp or pass --force to save anyway")
    (task,) = rec.tasks
    assert task.closed and task.done == 1
    forced = calibrate(fast, files["model"], files["mem"], base_engine=E, force=True)
    assert forced.profile.calibration.endswith(
        "; saved with --force despite: memory_efficiency 1 sits at its upper bound 1; rms log error stays 2.21 "
        "after the fit (> 0.25): the model does not explain these points")
    assert forced.profile.calibration.startswith("fitted memory_efficiency from 1 measured points (unnamed runs) on ")


def test_default_keys(files):
    m, mem = files["model"], files["mem"]
    one = _target(MeasuredPoint(1, 1, 1, 1.0), m, mem)
    assert C._default_key(E, [one, one]) == "hand-engine-hand-2l-hand-memory-bf16-tp1"
    assert C._default_key(E, [_target(one.point, m, mem, "fp8", 4)]) == "hand-engine-hand-2l-hand-memory-fp8-tp4"
    assert C._default_key(E, [one, _target(one.point, m, mem, "fp8")]) == "hand-engine-hand-memory-1models"
    assert C._default_key(E, [one, _target(one.point, m, mem, "bf16", 2)]) == "hand-engine-hand-memory-1models"
    assert C._default_key(E, [one, _target(one.point, m, files["comp"])]) == \
        "hand-engine-hand-compute-hand-memory-1models"
    assert C._default_key(E, [_target(one.point, "llama-3.1-8b", "h100-sxm"),
                              _target(one.point, "qwen2.5-7b", "h100-sxm")]) == "hand-engine-h100-sxm-2models"
    # characters a file name may not hold become '-', and the key stops at 64 characters
    from truecost.arch import ModelArch

    odd = h.model_file(files["dir"], ModelArch(key="odd+name x", **{**h.MODEL_FIELDS, "hf_id": "test/odd"}))
    assert C._default_key(E, [_target(one.point, odd, mem)]) == "hand-engine-odd-name-x-hand-memory-bf16-tp1"
    long = "m" * 70
    lm = h.model_file(files["dir"], ModelArch(key=long, **{**h.MODEL_FIELDS, "hf_id": "test/long"}))
    assert C._default_key(E, [_target(one.point, lm, mem)]) == ("hand-engine-" + long)[:64]
    assert len(C._default_key(E, [_target(one.point, lm, mem)])) == 64
    assert C._short("a/b/c.toml") == "c" and C._short("llama-3.1-8b") == "llama-3.1-8b"
    assert C._short("x.toml.toml") == "x.toml"


# ---- stored runs ---------------------------------------------------------------------------------

def test_points_from_runs_ttft_and_served_model(tmp_path):
    """TTFT counts at 1 or 2 closed-loop sequences only; the served model is the point's, else the
    run's; ISL/OSL round to whole tokens, at least 1."""
    from truecost.perf.calibrate import points_from_runs
    from truecost.store import Store

    db = tmp_path / "t.duckdb"
    base = {"run_id": "r", "output_token_throughput": 50.0, "isl_mean": 10.5, "osl_mean": 0.4, "tpot_p50": 0.02,
            "ttft_p50": 0.3}
    with Store(db) as s:
        s.add_run({"run_id": "r", "status": "complete", "model": "run-model"})
        s.add_point({**base, "point": 0, "mode": "concurrency", "concurrency": 1, "model": "point-model"})
        s.add_point({**base, "point": 1, "mode": "concurrency", "concurrency": 2})
        s.add_point({**base, "point": 2, "mode": "concurrency", "concurrency": 3})
        s.add_point({**base, "point": 3, "mode": "rate", "request_throughput": 0.5, "e2e_p50": 2.0})  # 1 live
        s.add_point({**base, "point": 4, "mode": "concurrency", "concurrency": 0, "request_throughput": 1.0,
                     "e2e_p50": 1.5})  # no closed-loop count: Little's law, 1.5 live
        s.add_point({**base, "point": 5, "mode": "rate", "request_throughput": 2.0})  # no E2E: skipped
        s.add_run({"run_id": "q", "status": "complete"})
        s.add_point({**base, "run_id": "q", "point": 0, "mode": "concurrency", "concurrency": 2, "isl_mean": 0.0})
    got = points_from_runs(["r", "q"], db)
    # round(10.5) = 10 (half to even), round(0.4) = 0 → at least 1
    assert got == [
        MeasuredPoint(1.0, 10, 1, 50.0, 0.02, source="r#0", ttft_s=0.3, served_model="point-model"),
        MeasuredPoint(2.0, 10, 1, 50.0, 0.02, source="r#1", ttft_s=0.3, served_model="run-model"),
        MeasuredPoint(3.0, 10, 1, 50.0, 0.02, source="r#2", ttft_s=None, served_model="run-model"),
        MeasuredPoint(1.0, 10, 1, 50.0, 0.02, source="r#3", ttft_s=None, served_model="run-model"),
        MeasuredPoint(1.5, 10, 1, 50.0, 0.02, source="r#4", ttft_s=None, served_model="run-model"),
        MeasuredPoint(2.0, 1, 1, 50.0, 0.02, source="q#0", ttft_s=0.3, served_model=None)]
    assert all(type(p.concurrency) is float for p in got)
    from truecost.errors import UnknownNameError

    with pytest.raises(UnknownNameError) as e:
        points_from_runs(["r", "nope"], db)
    assert str(e.value) == "unknown run 'nope'; known runs: q, r"
    with Store(db) as s:
        s.add_run({"run_id": "e1", "status": "complete"})
        s.add_run({"run_id": "e2", "status": "complete"})
    with pytest.raises(InputError) as e:
        points_from_runs(["e1", "e2"], db)
    assert str(e.value) == "runs e1, e2 hold no measured operating point with throughput"


# ---- the saved profile ---------------------------------------------------------------------------

def test_profile_path_defaults_to_the_user_engine_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUECOST_HOME", str(tmp_path / "home"))
    assert profile_path("mine") == tmp_path / "home" / "engines" / "mine.toml"
    assert profile_path("mine", tmp_path) == tmp_path / "mine.toml"
    (tmp_path / "mine.toml").write_text("x")
    with pytest.raises(InputError) as e:
        profile_path("mine", tmp_path)
    assert str(e.value) == (f"engine profile 'mine' exists at {tmp_path / 'mine.toml'}; pass --force to overwrite "
                            "it or choose another --name")
    assert profile_path("mine", tmp_path, overwrite=True) == tmp_path / "mine.toml"


def test_saved_file_line_by_line(tmp_path):
    p = h.engine("saved-x", sources={"memory_efficiency": 'calibrated: "q" \\ end'})
    path = save_profile(p, tmp_path / "a" / "b")  # folders made as needed
    assert path == tmp_path / "a" / "b" / "saved-x.toml"
    assert sorted(x.name for x in path.parent.iterdir()) == ["saved-x.toml"]  # no temporary left behind
    text = path.read_text()
    lines = text.splitlines()
    assert lines[0] == '["saved-x"]' and text.endswith("\n") and not text.endswith("\n\n")
    for line in ['name = "Hand engine"', "compute_efficiency = { bf16 = 0.5, fp8 = 0.5, int8 = 0.5 }",
                 "attention_compute_efficiency = 0.25", "memory_efficiency = 0.5", "step_overhead_fixed_s = 0.001",
                 "step_overhead_per_layer_s = 0.0", "moe_tile_tokens = 4", 'kv_admission = "max_length"',
                 "chunked_prefill = true", "prefix_caching = false", "plan_default = true",
                 'source = "hand-made for tests"', "retrieved = 2026-01-01"]:
        assert line in lines
    assert not any(x.startswith(("key ", "calibration ", "sources ")) for x in lines)  # None and the key: left out
    # the sources table last, after a blank line, its strings escaped
    assert lines[-3:] == ["", '["saved-x".sources]', 'memory_efficiency = "calibrated: \\"q\\" \\\\ end"']
    assert C.find_engine(str(path)) == p
    # no sources: no table, and the file ends at the last term
    bare = save_profile(h.engine("bare", calibration="line one\nline two"), tmp_path)
    text = bare.read_text()
    assert "sources" not in text and text.endswith("\n") and not text.endswith("\n\n")
    assert 'calibration = "line one\\nline two"' in text.splitlines()
    assert C.find_engine(str(bare)).calibration == "line one\nline two"


def test_the_write_goes_through_a_hidden_temporary(tmp_path):
    (tmp_path / ".blocked.toml.tmp").mkdir()  # where the temporary would go: the write fails there
    with pytest.raises(IsADirectoryError):
        save_profile(h.engine("blocked"), tmp_path)
    assert not (tmp_path / "blocked.toml").exists()  # the target is never half-written


def test_toml_values():
    v = C._toml_value
    assert v({"a": 1, "b": {"c": "d"}}) == '{ a = 1, b = { c = "d" } }'
    assert v({}) == "{  }"
    assert (v(True), v(False)) == ("true", "false")
    assert v(date(2026, 3, 4)) == "2026-03-04"
    assert (v(0.1), v(3), v(1e-05)) == ("0.1", "3", "1e-05")
    assert v('say "hi"\\now\nnext') == '"say \\"hi\\"\\\\now\\nnext"'
    assert C._toml_str("") == '""'
