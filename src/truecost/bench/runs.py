"""Stored benchmark runs: list them (by tag), load one back as a ``BenchResult`` (metrics
recomputed from its raw requests, so a run killed half-way shows what it measured), export one to
a file (its raw requests, or one summary row per operating point), tag one, delete one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from ..errors import InputError, UnknownNameError
from ..provenance import Provenance
from ..rows import flatten, write_rows
from .energy import EnergyReport
from .metrics import parse_slos, summarize
from .pricing import PointCost
from .record import RequestRecord
from .run import BenchResult, OperatingPoint

__all__ = ["delete_run", "export_run", "list_runs", "load_run", "summary_rows", "tag_run"]

_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/=+-]{0,63}$")


def _db(store: str | Path | None) -> Path:
    from ..store import default_path

    return Path(store) if store is not None else default_path()


def list_runs(store: str | Path | None = None, *,
              tag: str | Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Stored runs, newest first (id, start, status, URL, model, request counts, config, tags);
    with ``tag`` (one, or several), only the runs that carry every tag given."""
    from ..store import Store

    wanted = {tag} if isinstance(tag, str) else set(tag or ())
    path = _db(store)
    if not path.exists():
        return []
    with Store(path) as s:
        runs, tags = s.runs(), s.tags()
    for r in runs:
        r["tags"] = tags.get(r["run_id"], [])
    return [r for r in runs if wanted <= set(r["tags"])]


def tag_run(run_id: str, tags: Sequence[str], *, remove: bool = False,
            store: str | Path | None = None) -> list[str]:
    """Add ``tags`` to a stored run (or ``remove`` them); returns the run's tags after. A tag
    is 1-64 letters, digits and ``. _ : / = + -``, starting with a letter or digit."""
    from ..store import Store

    for t in tags:
        if not _TAG.match(t):
            raise InputError(f"bad tag '{t}': use 1-64 letters, digits and . _ : / = + - "
                             f"(starting with a letter or digit)")
    path = _db(store)
    if not path.exists():
        raise UnknownNameError("run", run_id, [])
    with Store(path) as s:
        s.set_tags(run_id, () if remove else tags, tags if remove else ())
        return s.tags().get(run_id, [])


def delete_run(run_id: str, store: str | Path | None = None) -> int:
    """Remove a stored run — its run, points, requests, energy samples and tags — for good;
    returns the number of requests it held."""
    from ..store import Store

    path = _db(store)
    if not path.exists():
        raise UnknownNameError("run", run_id, [])
    with Store(path) as s:
        return s.delete_run(run_id)


def summary_rows(result: BenchResult) -> list[dict[str, Any]]:
    """One flat row per operating point: the run's id, model and URL, then the point's
    ``to_dict()`` with nested keys joined by dots (``summary.ttft.p50``) — the numbers of
    ``--json``, for a spreadsheet (``truecost.rows``)."""
    d = result.to_dict()
    head = {"run_id": d["run_id"], "model": d["model"], "url": d["url"]}
    return [head | flatten(p) for p in d["points"]]


def load_run(run_id: str, store: str | Path | None = None) -> BenchResult:
    """A stored run as a ``BenchResult``, its metrics recomputed from the raw requests (so a
    run that was killed half-way shows what it measured; an unfinished point is "incomplete")."""
    from ..store import Store

    path = _db(store)
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


def export_run(run_id: str, out: str | Path, format: Literal["json", "csv", "parquet"] = "json",
               *, summary: bool = False, store: str | Path | None = None) -> Path:
    """Write a stored run to ``out`` as JSON (run, points and requests), CSV or Parquet (one
    row per request); with ``summary``, one row per operating point instead
    (``summary_rows``: the metrics ``runs show`` prints, recomputed from the raw requests)."""
    import duckdb

    from ..store import Store

    if summary:
        result = load_run(run_id, store)
        if not result.points:
            raise InputError(f"run {run_id} has no operating points to summarise")
    elif not _db(store).exists():
        raise UnknownNameError("run", run_id, [])
    try:
        if summary:
            return write_rows(summary_rows(result), out, format)
        with Store(_db(store)) as s:
            return s.export(run_id, out, format)
    except (OSError, duckdb.IOException) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e).splitlines()[0]
        raise InputError(f"cannot write {out}: {why}") from None
