"""truecost: what an AI model really costs — per task, per month, per training run.

    >>> import truecost
    >>> truecost.estimate("llama-3.1-8b", "h100-sxm", precision="fp8").output_tokens_per_s  # doctest: +SKIP
    >>> truecost.compare("examples/chat-assistant.toml").ranked[0].label  # doctest: +SKIP
    >>> truecost.plan("examples/chat-assistant.toml", slo="ttft_p95=2s").best.option.how  # doctest: +SKIP
    >>> from truecost.perf.traffic import Poisson, Fixed
    >>> dep = truecost.make_deployment("llama-3.1-8b", "h100-sxm", "fp8")  # doctest: +SKIP
    >>> truecost.simulate(dep, Poisson(10), Fixed(1000, 200)).ttft.p95  # doctest: +SKIP
    >>> truecost.run_eval(url, "my-model", "gsm8k-300", limit=50).overall.accuracy  # doctest: +SKIP
    >>> truecost.forecast("examples/chat-assistant.toml", growth="8%/month").cheapest  # doctest: +SKIP
    >>> truecost.usage.reprice(["openai/gpt-4o-mini"])  # doctest: +SKIP
    >>> truecost.report(workload="examples/chat-assistant.toml", output="report.html")  # doctest: +SKIP

``truecost.report`` is the function; its views live in the subpackage, imported by name
(``from truecost.report.view import view``).
    >>> truecost.estimate_swarm("llama-3.1-70b", "6x rtx-4090", precision="int4").tokens_per_s  # doctest: +SKIP
    >>> truecost.estimate_offload("llama-3.1-70b", "rtx-4090", host_ram_gb=256).tokens_per_s  # doctest: +SKIP
    >>> truecost.consortium(4, model="llama-3.1-70b", tokens=15e12).member_usd  # doctest: +SKIP
"""

from .bench import BenchResult as BenchResult, load_run as load_run, run_bench as run_bench
from .catalog import gpus as gpus, model as model, models as models
from .compare import Comparison as Comparison, Option as Option, compare as compare
from .consortium import Consortium as Consortium, consortium as consortium
from .cost import deployment_cost as deployment_cost
from .errors import (
    CatalogError as CatalogError,
    DoesNotFitError as DoesNotFitError,
    EndpointError as EndpointError,
    InputError as InputError,
    TruecostError as TruecostError,
    UnknownNameError as UnknownNameError,
)
from .forecast import Forecast as Forecast, forecast as forecast
from .perf.engine import engines as engines
from .perf.offload import OffloadEstimate as OffloadEstimate, estimate_offload as estimate_offload
from .perf.serving import Estimate as Estimate, estimate as estimate, make_deployment as make_deployment
from .perf.simulate import Simulation as Simulation, simulate as simulate
from .plan import Plan as Plan, plan as plan
from .perf.swarm import SwarmEstimate as SwarmEstimate, estimate_swarm as estimate_swarm
from .prices import Offer as Offer, offer as offer, offers as offers
from .eval import EvalResult as EvalResult, load_eval as load_eval, run_eval as run_eval
from .provenance import Provenance as Provenance
from .report import Report as Report, report as report  # the function shadows the subpackage name
from .route import RouteResult as RouteResult, simulate_route as simulate_route
from .train import (
    TrainEstimate as TrainEstimate,
    chinchilla_tokens as chinchilla_tokens,
    implied_mfu as implied_mfu,
    train_cost as train_cost,
    trend as trend,
)
from .validation import ValidationReport as ValidationReport, validate as validate
from .workload import Workload as Workload, load_workload as load_workload
from . import usage as usage  # noqa: E402 - a subpackage: truecost.usage.import_usage, .reprice, .budget

from importlib.metadata import PackageNotFoundError as _NotInstalled, version as _version

try:
    __version__ = _version("truecost")
except _NotInstalled:  # running from a source tree that was never installed
    __version__ = "0.1.0"

__all__ = [
    "BenchResult",
    "CatalogError",
    "Comparison",
    "Consortium",
    "DoesNotFitError",
    "EndpointError",
    "Estimate",
    "EvalResult",
    "Forecast",
    "InputError",
    "Offer",
    "OffloadEstimate",
    "Option",
    "Plan",
    "Provenance",
    "Report",
    "RouteResult",
    "Simulation",
    "SwarmEstimate",
    "TrainEstimate",
    "TruecostError",
    "UnknownNameError",
    "ValidationReport",
    "Workload",
    "chinchilla_tokens",
    "compare",
    "consortium",
    "deployment_cost",
    "engines",
    "estimate",
    "estimate_offload",
    "estimate_swarm",
    "forecast",
    "gpus",
    "implied_mfu",
    "load_eval",
    "load_run",
    "load_workload",
    "make_deployment",
    "model",
    "models",
    "offer",
    "offers",
    "plan",
    "report",
    "run_bench",
    "run_eval",
    "simulate",
    "simulate_route",
    "train_cost",
    "trend",
    "validate",
]
