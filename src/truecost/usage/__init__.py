"""What real traffic cost, and what it would have cost elsewhere: usage logs in the store.

    >>> from truecost import usage
    >>> usage.import_usage("examples/usage-log.csv")  # doctest: +SKIP
    >>> usage.reprice(["openai/gpt-4o-mini", "llama-3.1-8b@h100-sxm"], by="model")  # doctest: +SKIP
    >>> usage.budget(5000).projected_usd  # doctest: +SKIP
"""

from .budget import Budget as Budget, BudgetDay as BudgetDay, BudgetModel as BudgetModel, budget as budget
from .importers import FORMATS as FORMATS, ImportResult as ImportResult, import_usage as import_usage
from .reprice import (
    BY as BY,
    RepricedOption as RepricedOption,
    Repricing as Repricing,
    Window as Window,
    hourly_profile as hourly_profile,
    reprice as reprice,
)

__all__ = ["BY", "FORMATS", "Budget", "BudgetDay", "BudgetModel", "ImportResult", "RepricedOption",
           "Repricing", "Window", "budget", "hourly_profile", "import_usage", "reprice"]
