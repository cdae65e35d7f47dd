"""Stored benchmark runs: list them, load one back as a ``BenchResult`` (metrics recomputed from
its raw requests, so a run killed half-way shows what it measured), export one to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UnknownNameError
from ..provenance import Provenance
from .energy import EnergyReport
from .metrics import parse_slos, summarize
from .pricing import PointCost
from .record import RequestRecord
from .run import BenchResult, OperatingPoint

__all__ = ["export_run", "list_runs", "load_run"]


def list_runs(store: str | Path | None = None) -> list[dict[str, Any]]:
    """Stored runs, newest first (id, start, status, URL, model, request counts, config)."""
    from ..store import Store, default_path

    path = Path(store) if store is not None else default_path()
    if not path.exists():
        return []
    with Store(path) as s:
        return s.runs()


def load_run(run_id: str, store: str | Path | None = None) -> BenchResult:
    """A stored run as a ``BenchResult``, its metrics recomputed from the raw requests (so a
    run that was killed half-way shows what it measured; an unfinished point is "incomplete")."""
    from ..store import Store, default_path

    path = Path(store) if store is not None else default_path()
    if not path.exists():
        raise UnknownNameError("run", run_id, [])
    with Store(path) as s:
        run, rows, records = s.run(run_id), s.points(run_id), s.requests(run_id)
    cfg = run.get("config") or {}
    slos = parse_slos(cfg.get("slo"))
    stored = {p["point"]: p for p in rows}
    by_point: dict[int, list[RequestRecord]] = {}
    for r in records:
        by_point.setdefault(r.point, []).append(r)
    points = []
    for k in sorted(set(stored) | set(by_point)):
        row = stored.get(k)
        warmup = row["warmup"] if row else int(cfg.get("warmup") or 0)
        drain = row["drain"] if row else 0
        cost = dict(row["cost"]) if row and row.get("cost") else None
        if cost is not None:
            kind, _, detail = str(cost.pop("provenance")).partition(":")
            cost = PointCost(**cost, provenance=Provenance(kind, detail))  # type: ignore[arg-type]
        energy = EnergyReport(**row["energy"]) if row and row.get("energy") else None
        points.append(OperatingPoint(
            k, row["mode"] if row else "incomplete", row["concurrency"] if row else None,
            row["rate"] if row else None, warmup, drain,
            summarize(by_point.get(k, []), warmup=warmup, drain=drain, slos=slos), cost, energy,
            row["stop_reason"] if row else None))
    notes = list(run.get("notes") or [])
    if run["status"] != "complete":
        notes.append(f"run {run['status']}" + (f": {run['error']}" if run.get("error") else ""))
    return BenchResult(run_id, run["url"], run["model"], tuple(points), tuple(notes),
                       Provenance("measured", run_id))


def export_run(run_id: str, path: str | Path, fmt: str = "json",
               store: str | Path | None = None) -> Path:
    """Write a stored run to ``path`` as JSON (run, points and requests), CSV or Parquet (one
    row per request)."""
    from ..store import Store, default_path

    db = Path(store) if store is not None else default_path()
    if not db.exists():
        raise UnknownNameError("run", run_id, [])
    with Store(db) as s:
        return s.export(run_id, path, fmt)  # type: ignore[arg-type]
