"""truecost: what an AI model really costs — per task, per month, per training run.

    >>> import truecost
    >>> truecost.estimate("llama-3.1-8b", "h100-sxm", precision="fp8").output_tokens_per_s  # doctest: +SKIP
    >>> truecost.compare("examples/chat-assistant.toml").ranked[0].label  # doctest: +SKIP
    >>> from truecost.perf.traffic import Poisson, Fixed
    >>> dep = truecost.make_deployment("llama-3.1-8b", "h100-sxm", "fp8")  # doctest: +SKIP
    >>> truecost.simulate(dep, Poisson(10), Fixed(1000, 200)).ttft.p95  # doctest: +SKIP
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
from .perf.engine import engines as engines
from .perf.offload import OffloadEstimate as OffloadEstimate, estimate_offload as estimate_offload
from .perf.serving import Estimate as Estimate, estimate as estimate, make_deployment as make_deployment
from .perf.simulate import Simulation as Simulation, simulate as simulate
from .perf.swarm import SwarmEstimate as SwarmEstimate, estimate_swarm as estimate_swarm
from .prices import Offer as Offer, offer as offer, offers as offers
from .provenance import Provenance as Provenance
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
    "Consortium",
    "DoesNotFitError",
    "EndpointError",
    "Estimate",
    "InputError",
    "Offer",
    "OffloadEstimate",
    "Option",
    "Provenance",
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
    "gpus",
    "implied_mfu",
    "load_run",
    "load_workload",
    "make_deployment",
    "model",
    "models",
    "offer",
    "offers",
    "run_bench",
    "simulate",
    "train_cost",
    "trend",
    "validate",
]
