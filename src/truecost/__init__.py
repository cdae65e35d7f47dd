"""truecost: what an AI model really costs — per task, per month, per training run.

    >>> import truecost
    >>> truecost.estimate("llama-3.1-8b", "h100-sxm", precision="fp8").output_tokens_per_s  # doctest: +SKIP
    >>> truecost.compare("examples/chat-assistant.toml").ranked[0].label  # doctest: +SKIP
    >>> truecost.report(workload="examples/chat-assistant.toml", output="report.html")  # doctest: +SKIP

``truecost.report`` is the function; its views live in the subpackage, imported by name
(``from truecost.report.view import view``).
"""

from .bench import BenchResult as BenchResult, load_run as load_run, run_bench as run_bench
from .catalog import gpus as gpus, model as model, models as models
from .compare import Comparison as Comparison, Option as Option, compare as compare
from .cost import deployment_cost as deployment_cost
from .errors import (
    CatalogError as CatalogError,
    DoesNotFitError as DoesNotFitError,
    EndpointError as EndpointError,
    InputError as InputError,
    TruecostError as TruecostError,
    UnknownNameError as UnknownNameError,
)
from .perf.engine import engines as engines
from .perf.serving import Estimate as Estimate, estimate as estimate
from .prices import Offer as Offer, offer as offer, offers as offers
from .provenance import Provenance as Provenance
from .report import Report as Report, report as report  # the function shadows the subpackage name
from .train import (
    TrainEstimate as TrainEstimate,
    chinchilla_tokens as chinchilla_tokens,
    implied_mfu as implied_mfu,
    train_cost as train_cost,
    trend as trend,
)
from .validation import ValidationReport as ValidationReport, validate as validate
from .workload import Workload as Workload, load_workload as load_workload

from importlib.metadata import PackageNotFoundError as _NotInstalled, version as _version

try:
    __version__ = _version("truecost")
except _NotInstalled:  # running from a source tree that was never installed
    __version__ = "0.1.0"

__all__ = [
    "BenchResult",
    "CatalogError",
    "Comparison",
    "DoesNotFitError",
    "EndpointError",
    "Estimate",
    "InputError",
    "Offer",
    "Option",
    "Provenance",
    "Report",
    "TrainEstimate",
    "TruecostError",
    "UnknownNameError",
    "ValidationReport",
    "Workload",
    "chinchilla_tokens",
    "compare",
    "deployment_cost",
    "engines",
    "estimate",
    "gpus",
    "implied_mfu",
    "load_run",
    "load_workload",
    "model",
    "models",
    "offer",
    "offers",
    "report",
    "run_bench",
    "train_cost",
    "trend",
    "validate",
]
