"""Open-model consortia: N labs each train their own final model and share a fraction f of the R&D
around it, instead of each paying for all of it.

With the final run's cost R (``train_cost``, rented or owned) and the R&D multiplier m (development
compute / final-run compute, ``training.toml [rnd.*]``), a lab alone pays R·m, of which
R&D = R·(m − 1) is outside its final run. In a consortium each member pays its own final run, the
R&D it keeps to itself, and 1/N of the shared R&D:

    member(N)          = R + (1 − f)·R&D + f·R&D / N
    saving per member  = R·m − member(N) = f·R&D·(1 − 1/N)
    consortium saving  = N × saving per member = f·R&D·(N − 1)
    floor (N → ∞)      = R + (1 − f)·R&D
    break-even N       = the smallest N with member(N) ≤ budget = ceil(f·R&D / (budget − floor)),
                         1 when going alone fits the budget, none when budget ≤ floor

f defaults to the catalog's ``[share.*]`` entry marked default (an assumption, explained there).
Left out: the consortium's coordination costs, members of unequal size, and any R&D a member
would not have done alone.

    >>> c = consortium(4, tokens=15e12, model="llama-3.1-70b", shared_rnd=0.5)
    >>> round(c.member_usd / c.alone_usd, 3)  # (1 + 0.625 (m - 1)) / m, m = 1/0.178
    0.692
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import InputError, UnknownNameError
from .provenance import Provenance
from .train import Figure, TrainEstimate, train_cost, training_catalog

__all__ = ["Consortium", "consortium"]


@dataclass(frozen=True, slots=True)
class Consortium:
    """What each of ``members`` labs pays when they share ``shared_rnd`` of their R&D."""

    members: int
    shared_rnd: Figure  # fraction f, with where it came from
    shared_rnd_note: str
    final_run_usd: float  # R, one member's final run
    rnd_usd: float  # R&D of one lab alone, R·(m − 1)
    alone_usd: float  # R·m
    member_usd: float
    saving_per_member_usd: float
    consortium_saving_usd: float
    floor_usd: float  # what a member pays however many join
    budget_usd: float | None
    break_even_members: int | None  # None: no N brings a member under the budget
    estimate: TrainEstimate

    def member_usd_at(self, members: int) -> float:
        """A member's cost with ``members`` labs (the formula above)."""
        if members < 1:
            raise InputError(f"a consortium has at least 1 member, got {members}")
        f = self.shared_rnd.value
        return self.final_run_usd + (1 - f) * self.rnd_usd + f * self.rnd_usd / members

    def to_dict(self) -> dict[str, Any]:
        return {
            "members": self.members, "shared_rnd": self.shared_rnd.to_dict(),
            "shared_rnd_note": self.shared_rnd_note, "final_run_usd": self.final_run_usd,
            "rnd_usd": self.rnd_usd, "alone_usd": self.alone_usd, "member_usd": self.member_usd,
            "saving_per_member_usd": self.saving_per_member_usd,
            "consortium_saving_usd": self.consortium_saving_usd, "floor_usd": self.floor_usd,
            "budget_usd": self.budget_usd, "break_even_members": self.break_even_members,
            "rnd_multiplier": self.estimate.rnd_multiplier.to_dict(), "basis": self.estimate.basis.value,
            "training": self.estimate.to_dict(),
        }


def _shared(value: float | str | None) -> tuple[float, Provenance, str]:
    table = training_catalog().share
    if isinstance(value, (int, float)):
        if not (math.isfinite(value) and 0 <= value <= 1):
            raise InputError(f"--shared-rnd must be a fraction within [0, 1], got {value:g}")
        return float(value), Provenance("input", f"{value:g}"), "given"
    entry = (next(e for e in table.values() if e.default) if value is None else table.get(value.lower()))
    if entry is None:
        raise UnknownNameError("R&D share", value, table)  # type: ignore[arg-type]
    return entry.fraction, entry.provenance, entry.note


def consortium(members: int, *, shared_rnd: float | str | None = None, budget_usd: float | None = None,
               **train: Any) -> Consortium:
    """Each of ``members`` labs trains its own final model (``train_cost(**train)``: the model or
    parameter count, tokens, GPU, price basis, R&D multiplier, ...) and shares ``shared_rnd`` of
    its R&D (a fraction, or a ``[share.*]`` name: ``half``, ``research-only``, ``open-flow``).
    ``budget_usd``: the break-even N where a member's cost drops to it."""
    if isinstance(members, bool) or not isinstance(members, int) or members < 1:
        raise InputError(f"--consortium must be a whole number of labs >= 1, got {members}")
    if budget_usd is not None and not (math.isfinite(budget_usd) and budget_usd > 0):
        raise InputError(f"--budget must be a positive number of USD, got {budget_usd:g}")
    f, prov, note = _shared(shared_rnd)
    est = train_cost(**train)
    run = est.usd.value
    m = est.rnd_multiplier.value
    rnd = run * (m - 1)
    alone = run * m
    member = run + (1 - f) * rnd + f * rnd / members
    floor = run + (1 - f) * rnd
    if budget_usd is None:
        breakeven = None
    elif alone <= budget_usd:
        breakeven = 1
    elif budget_usd <= floor:
        breakeven = None
    else:
        breakeven = math.ceil(f * rnd / (budget_usd - floor) - 1e-9)
    return Consortium(members, Figure(f, "fraction", prov), note, run, rnd, alone, member, alone - member,
                      (alone - member) * members, floor, budget_usd, breakeven, est)
