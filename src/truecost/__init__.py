"""truecost: what an AI model really costs — per task, per month, per training run.

    >>> import truecost
    >>> truecost.estimate("llama-3.1-8b", "h100-sxm", precision="fp8").output_tokens_per_s  # doctest: +SKIP
    >>> truecost.compare("examples/chat-assistant.toml").ranked[0].label  # doctest: +SKIP
    >>> truecost.forecast("examples/chat-assistant.toml", growth="8%/month").cheapest  # doctest: +SKIP
    >>> truecost.usage.reprice(["openai/gpt-4o-mini"])  # doctest: +SKIP
"""

from .bench import BenchResult as BenchResult, load_run as load_run, run_bench as run_bench
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
from .forecast import Forecast as Forecast, forecast as forecast
from .perf.serving import Estimate as Estimate, estimate as estimate
from .prices import Offer as Offer, offer as offer
from .provenance import Provenance as Provenance
from .train import (
    TrainEstimate as TrainEstimate,
    chinchilla_tokens as chinchilla_tokens,
    implied_mfu as implied_mfu,
    train_cost as train_cost,
    trend as trend,
)
from .workload import Workload as Workload, load_workload as load_workload
from . import usage as usage  # noqa: E402 - a subpackage: truecost.usage.import_usage, .reprice, .budget

__version__ = "0.1.0"

__all__ = [
    "BenchResult",
    "CatalogError",
    "Comparison",
    "DoesNotFitError",
    "EndpointError",
    "Estimate",
    "Forecast",
    "InputError",
    "Offer",
    "Option",
    "Provenance",
    "TrainEstimate",
    "TruecostError",
    "UnknownNameError",
    "Workload",
    "chinchilla_tokens",
    "compare",
    "deployment_cost",
    "estimate",
    "forecast",
    "implied_mfu",
    "load_run",
    "load_workload",
    "offer",
    "run_bench",
    "train_cost",
    "trend",
]
