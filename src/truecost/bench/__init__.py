"""``truecost bench``: measure a real endpoint under load and turn it into $ per token/request.

Modules: ``schedule`` (pure, seeded send times), ``workload`` (what to send), ``client`` (one
streamed request), ``runner`` (one client's event loop: ``execute_shard``), ``record`` (the raw
measurement), ``metrics`` (definitions pinned in DESIGN.md), ``energy`` (NVML counters),
``pricing`` ($ at an operating point), ``run`` (``run_bench``: operating points, store), ``runs``
(stored runs: list, load, export, tag, delete). ``distributed`` (Ray) is imported only when a
``ray_address`` is given.
"""

from .client import Endpoint as Endpoint
from .metrics import PointSummary as PointSummary
from .metrics import Slo as Slo
from .metrics import summarize as summarize
from .pricing import PointCost as PointCost
from .record import RequestRecord as RequestRecord
from .run import BenchResult as BenchResult
from .run import OperatingPoint as OperatingPoint
from .run import run_bench as run_bench
from .runner import execute_shard as execute_shard
from .runs import delete_run as delete_run
from .runs import export_run as export_run
from .runs import list_runs as list_runs
from .runs import load_run as load_run
from .runs import summary_rows as summary_rows
from .runs import tag_run as tag_run
from .workload import RequestSpec as RequestSpec

__all__ = ["BenchResult", "Endpoint", "OperatingPoint", "PointCost", "PointSummary",
           "RequestRecord", "RequestSpec", "Slo", "delete_run", "execute_shard", "export_run",
           "list_runs", "load_run", "run_bench", "summarize", "summary_rows", "tag_run"]
