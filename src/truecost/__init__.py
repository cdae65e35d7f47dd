"""truecost: what an AI model really costs — per task, per month, per training run."""

from .errors import (
    CatalogError as CatalogError,
    DoesNotFitError as DoesNotFitError,
    EndpointError as EndpointError,
    InputError as InputError,
    TruecostError as TruecostError,
    UnknownNameError as UnknownNameError,
)

__version__ = "0.1.0"

__all__ = [
    "CatalogError",
    "DoesNotFitError",
    "EndpointError",
    "InputError",
    "TruecostError",
    "UnknownNameError",
]
