"""Step times of one deployment, tabulated so that a simulation can ask for millions of them.

``roofline.step_time`` builds a full per-op breakdown (tens of µs a call); a simulation of 10,000
requests needs hundreds of thousands of step times. This table splits a step into three parts,
each a function of at most two variables, evaluates ``step_time`` only at grid knots (lazily, each
knot once) and interpolates linearly between them:

    t(B, L, P, A) = base(B, P) + decode_attention(B, L) + prefill_attention(P, A)

    base(B, P)              = step_time(B, 0, P, 0, ps)            every op that scales with tokens
    decode_attention(B, L)  = step_time(B, L) − step_time(B, 0)     KV reads grow with context L
    prefill_attention(P, A) = P · g(A / P)                           attention over A (query, key) pairs

with B decoding sequences of mean context L, P prompt tokens attending A pairs, and ``ps`` = 1
prompt finishing when P > 0. The split is exact when the roofline's ops are additive and the
prefill-attention op is homogeneous in (P, A) (true of ``roofline.step_time``: one op reads the
KV cache, one attends the prompt, the rest see only token counts); ``tests/unit/perf/
test_steps.py`` checks it against ``step_time`` on random steps of dense, GQA, MoE, MLA and
sliding-window models. Left out: the LM-head cost of a second, third, ... prompt finishing in the
same step (microseconds).
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict

from .deployment import Deployment
from .roofline import step_time

__all__ = ["StepTable", "step_table"]

# Grids. Linear interpolation between knots: B is exact up to B_EXACT and then every 2^(1/8)
# (9%), P every 2^(1/6) (12%), A/P every 2^(1/4). A roofline kink (compute vs memory bound) that
# falls between two knots is cut by at most a few % of that op's time (test_steps.py: ≤ 2% of the
# step). Decode attention is linear in L except at sliding windows, which are knots themselves.
B_EXACT = 32
B_PER_OCTAVE = 8
P_PER_OCTAVE = 6
R_PER_OCTAVE = 4
_SHARE_MAX = 200_000  # prefill shares kept per table (a few MB), then started afresh
L_KNOTS = (0, 256, 1024, 4096, 16384, 65536, 262144, 1048576)


class StepTable:
    """``step_s(B, L, P, A)``: seconds of one engine step on ``dep`` (see the module docstring);
    ``decode_segment(B, L)``: a decode-only step as a straight line in L, for summing runs."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        windows = [w for w in (dep.model.sliding_window,) if w]
        self._l_knots = sorted(set(L_KNOTS) | set(windows))
        self._base: dict[tuple[int, int], float] = {}
        self._dec: dict[tuple[int, int], float] = {}
        self._g: dict[int, float] = {}
        self._bidx: dict[float, tuple[int, float]] = {}  # index lookups of the B and P seen
        self._pidx: dict[float, tuple[int, float]] = {}
        self._prefill_share: dict[tuple[float, float, float], float] = {}
        self._lines: dict[tuple[float, int], tuple[float, float, float]] = {}
        self._p_ref = 1024.0  # prompt tokens at which g(r) = prefill_attention(P, r·P) / P is read

    # ---- knots ----------------------------------------------------------------------------
    @staticmethod
    def _b_at(k: int) -> float:
        return float(k) if k <= B_EXACT else B_EXACT * 2.0 ** ((k - B_EXACT) / B_PER_OCTAVE)

    def _b_index(self, b: float) -> tuple[int, float]:
        hit = self._bidx.get(b)
        if hit is None:
            hit = self._bidx[b] = self._b_locate(b)
        return hit

    @staticmethod
    def _b_locate(b: float) -> tuple[int, float]:
        if b <= B_EXACT:
            k = int(b)
            return k, b - k
        x = B_EXACT + B_PER_OCTAVE * math.log2(b / B_EXACT)
        k = int(x)
        lo, hi = StepTable._b_at(k), StepTable._b_at(k + 1)
        return k, (b - lo) / (hi - lo)

    @staticmethod
    def _p_at(k: int) -> float:
        return 0.0 if k == 0 else 2.0 ** ((k - 1) / P_PER_OCTAVE)

    def _p_index(self, p: float) -> tuple[int, float]:
        hit = self._pidx.get(p)
        if hit is None:
            hit = self._pidx[p] = self._p_locate(p)
        return hit

    @staticmethod
    def _p_locate(p: float) -> tuple[int, float]:
        if p < 1.0:
            return 0, p
        x = 1 + P_PER_OCTAVE * math.log2(p)
        k = int(x)
        lo, hi = StepTable._p_at(k), StepTable._p_at(k + 1)
        return k, (p - lo) / (hi - lo)

    # ---- tabulated parts ------------------------------------------------------------------
    def _base_knot(self, kb: int, kp: int) -> float:
        key = (kb, kp)
        v = self._base.get(key)
        if v is None:
            p = self._p_at(kp)
            v = step_time(self.dep, self._b_at(kb), 0.0, p, 0.0, 1.0 if p > 0 else 0.0).total_s
            self._base[key] = v
        return v

    def _dec_knot(self, kb: int, kl: int) -> float:
        key = (kb, kl)
        v = self._dec.get(key)
        if v is None:
            b = self._b_at(kb)
            v = 0.0 if b == 0 or kl == 0 else (
                step_time(self.dep, b, float(self._l_knots[kl])).total_s - self._base_knot(kb, 0))
            self._dec[key] = v
        return v

    def _g_knot(self, k: int) -> float:
        v = self._g.get(k)
        if v is None:
            r = 0.0 if k == 0 else 2.0 ** ((k - 1) / R_PER_OCTAVE)
            p = self._p_ref
            v = (step_time(self.dep, 0, 0, p, r * p, 0).total_s - step_time(self.dep, 0, 0, p, 0, 0).total_s) / p
            self._g[k] = v
        return v

    def base(self, b: float, p: float) -> float:
        kb, fb = self._b_index(b)
        kp, fp = self._p_index(p)
        v00 = self._base_knot(kb, kp)
        v01 = self._base_knot(kb, kp + 1) if fp else v00
        if fb:
            v10 = self._base_knot(kb + 1, kp)
            v11 = self._base_knot(kb + 1, kp + 1) if fp else v10
            return (v00 + (v01 - v00) * fp) * (1 - fb) + (v10 + (v11 - v10) * fp) * fb
        return v00 + (v01 - v00) * fp

    def _l_index(self, ctx: float) -> int:
        return min(max(bisect.bisect_right(self._l_knots, ctx) - 1, 0), len(self._l_knots) - 2)

    def decode_attention(self, b: float, ctx: float) -> float:
        return self.decode_line(b, ctx)[0]

    def decode_line(self, b: float, ctx: float) -> tuple[float, float, float]:
        """(decode attention at ``ctx``, its slope in s per context token, the context where this
        straight piece ends)."""
        if b <= 0:
            return 0.0, 0.0, math.inf
        kb, fb = self._b_index(b)
        kl = self._l_index(ctx)
        l0, l1 = self._l_knots[kl], self._l_knots[kl + 1]
        lo = self._dec_knot(kb, kl)
        hi = self._dec_knot(kb, kl + 1)
        if fb:
            lo += (self._dec_knot(kb + 1, kl) - lo) * fb
            hi += (self._dec_knot(kb + 1, kl + 1) - hi) * fb
        slope = (hi - lo) / (l1 - l0)
        end = l1 if kl + 2 < len(self._l_knots) else math.inf
        return lo + slope * (ctx - l0), slope, end

    def prefill_attention(self, p: float, attended: float) -> float:
        if p <= 0:
            return 0.0
        r = attended / p
        if r < 1.0:
            return p * self._g_knot(1) * r  # below one pair per token: straight to g(0) = 0
        x = 1 + R_PER_OCTAVE * math.log2(r)
        k = int(x)
        lo, hi = 2.0 ** ((k - 1) / R_PER_OCTAVE), 2.0 ** (k / R_PER_OCTAVE)
        f = (r - lo) / (hi - lo)
        g0 = self._g_knot(k)
        return p * (g0 + (self._g_knot(k + 1) - g0) * f)

    # ---- the step ---------------------------------------------------------------------------
    def step_s(self, decode_seqs: float, decode_context: float, prefill_tokens: float = 0.0,
               prefill_attended: float = 0.0) -> float:
        """Seconds of one step (the arguments of ``roofline.step_time``). The prefill's share,
        base(B, P) − base(B, 0) + prefill_attention(P, A), is kept per (B, P, A): a run of
        fixed-length prompts asks for the same few again and again."""
        if prefill_tokens <= 0:
            return self.decode_segment(decode_seqs, decode_context)[0]
        key = (decode_seqs, prefill_tokens, prefill_attended)
        extra = self._prefill_share.get(key)
        if extra is None:
            extra = self.base(decode_seqs, prefill_tokens) + self.prefill_attention(prefill_tokens, prefill_attended)
            if decode_seqs > 0:
                extra -= self.base(decode_seqs, 0.0)
            if len(self._prefill_share) > _SHARE_MAX:
                self._prefill_share.clear()
            self._prefill_share[key] = extra
        if decode_seqs > 0:
            return self.decode_segment(decode_seqs, decode_context)[0] + extra
        return extra

    def decode_segment(self, decode_seqs: float, decode_context: float) -> tuple[float, float, float]:
        """A decode-only step as ``t(L) = t0 + slope·(L − decode_context)`` for L up to ``end``:
        returns (t0, slope, end). k steps from context L0 (+1 per step) take
        ``k·t0 + slope·k(k−1)/2`` while L0 + k − 1 < end. Lines are kept per (B, piece)."""
        kl = self._l_index(decode_context)
        key = (decode_seqs, kl)
        line = self._lines.get(key)
        if line is None:
            l0 = self._l_knots[kl]
            dec, slope, end = self.decode_line(decode_seqs, l0)
            line = self._lines[key] = (self.base(decode_seqs, 0.0) + dec - slope * l0, slope, end)
        intercept, slope, end = line
        return intercept + slope * decode_context, slope, end


_TABLES: OrderedDict[str, StepTable] = OrderedDict()
_TABLES_MAX = 64  # deployments kept; a table is a few hundred floats


def step_table(dep: Deployment) -> StepTable:
    """The shared table of ``dep`` (built on first use, kept for the next simulation)."""
    key = repr(dep)
    t = _TABLES.get(key)
    if t is None:
        t = _TABLES[key] = StepTable(dep)
        if len(_TABLES) > _TABLES_MAX:
            _TABLES.popitem(last=False)
    else:
        _TABLES.move_to_end(key)
    return t
