"""``truecost report``: one self-contained HTML page of what truecost measured and modelled.

Views (one module per family, registered in ``view.py``'s registry): cost per task by option and
accuracy vs cost with the Pareto front (``compare``), throughput vs latency with the model's
prediction and latency CDFs (``bench``), the training cost breakdown (``train``), and model vs
published rows (``validation``). Each view lays out a public result object and shows a table of
the same numbers the matching command prints with ``--json``; the page states the tool version,
date and those commands. Charts are inline SVG with a few lines of inline script for hover; the
page loads nothing (its Content-Security-Policy forbids it). Left out until their commands land:
eval/route, forecast, plan, simulator percentiles.

    >>> r = report(workload=["examples/chat-assistant.toml"], output="report.html")  # doctest: +SKIP
    >>> [s.title for s in r.sections]  # doctest: +SKIP
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..bench import BenchResult
from ..compare import Comparison
from ..errors import InputError
from ..train import TrainEstimate
from ..validation import ValidationReport
from ..workload import Workload
from . import bench as _bench, compare as _compare, train as _train, validation as _validation  # noqa: F401  (register views)
from .inputs import DEFAULT_ENGINE, bench_subject, compare_subject, train_subject, validation_subject
from .page import render_page
from .view import Section, build

__all__ = ["Report", "report"]


@dataclass(frozen=True)
class Report:
    """The page (``html``), its views in order, and where it was written (None: not written)."""

    html: str
    sections: tuple[Section, ...]
    command: str
    path: Path | None = None

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        if path.is_dir():
            raise InputError(f"{path} is a directory; give a file name, e.g. {path / 'report.html'}")
        if not path.parent.is_dir():
            raise InputError(f"cannot write {path}: the folder {path.parent} does not exist")
        try:
            path.write_text(self.html, encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot write {path}: {e.strerror or e}") from None
        return path


def _seq(x: Any) -> list[Any]:
    if x is None:
        return []
    return [x] if isinstance(x, (str, Path, Workload, Comparison, BenchResult, ValidationReport)) else list(x)


def report(runs: str | BenchResult | Sequence[str | BenchResult] = (), *,
           workload: str | Path | Workload | Comparison | Sequence[str | Path | Workload | Comparison] = (),
           train: str | Path | Mapping[str, Any] | TrainEstimate | None = None,
           validate: str | ValidationReport | Sequence[str | ValidationReport] = (),
           model: str | None = None, precision: str = "bf16", engine: Sequence[str] = (),
           store: str | Path | None = None, output: str | Path | None = None,
           title: str = "truecost report") -> Report:
    """Build the HTML report of stored bench ``runs`` (run ids), ``workload`` files (compared),
    ``train`` (a TOML of ``train_cost`` arguments, a mapping, or a ``TrainEstimate``) and
    ``validate`` suites (``"serving"``, ``"training"``); result objects are accepted as they are.

    Bench predictions: ``model`` names the served model's architecture when the run's model name
    is not a catalog name; ``precision`` its weights; ``engine`` adds profiles to the default
    one (a profile calibrated on the run is added by itself). ``output`` writes the page.
    """
    run_list, workloads, suites = _seq(runs), _seq(workload), _seq(validate)
    engines = [engine] if isinstance(engine, str) else list(engine)
    if not (run_list or workloads or train is not None or suites):
        raise InputError("nothing to report: give bench run ids, --workload W.toml, --train "
                         "ARGS.toml or --validate serving|training")
    sections: list[Section] = []
    for i, w in enumerate(workloads, 1):
        sections += build("comparison", compare_subject(w, f"compare-{i}"))
    for i, r in enumerate(run_list, 1):
        sections += build("bench", bench_subject(r, f"run-{i}", store=store, model=model,
                                                 precision=precision, engines_=engines))
    if train is not None:
        sections += build("train", train_subject(train, "train"))
    for s in suites:
        name = s.suite if isinstance(s, ValidationReport) else s
        sections += build("validation", validation_subject(s, f"validate-{name}",
                                                           engines[0] if engines else DEFAULT_ENGINE))
    command = _command(run_list, workloads, train, suites, model, precision, engines, output)
    from .. import __version__

    html = render_page(sections, title=title, version=__version__,
                       generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                       command=command)
    out = Report(html, tuple(sections), command)
    if output is not None:
        out = Report(html, out.sections, command, out.write(output))
    return out


def _command(runs: list[Any], workloads: list[Any], train: Any, suites: list[Any],
             model: str | None, precision: str, engines: list[str], output: Any) -> str:
    """The ``truecost report`` command line that builds this page (objects given from Python
    have none)."""
    plain = all(isinstance(x, (str, Path)) for x in [*runs, *workloads, *suites]) and (
        train is None or isinstance(train, (str, Path)))
    if not plain:
        return "truecost.report(...) (Python, from result objects)"
    args = ["truecost", "report", *map(str, runs)]
    for w in workloads:
        args += ["--workload", str(w)]
    if train is not None:
        args += ["--train", str(train)]
    for s in suites:
        args += ["--validate", str(s)]
    if model:
        args += ["--model", model]
    if precision != "bf16":
        args += ["--precision", precision]
    for e in engines:
        args += ["--engine", e]
    return shlex.join(args + (["-o", str(output)] if output is not None else []))
