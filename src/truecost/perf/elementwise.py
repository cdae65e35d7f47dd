"""The few element-wise operations the performance model's formulas need, for a number or a numpy
array alike.

Each formula of the model (roofline step time, memory plan, steady state) is written once. Called
with one deployment (``Deployment``) its terms are Python floats; called with a batch of many
configurations (``Deployments``, as ``truecost.plan``'s screen does) the same terms are numpy
arrays with one element per configuration. Arithmetic works on both; ``max``/``min``/``if`` do
not, so the formulas use these instead. On plain numbers they stay plain Python (no numpy
scalars, no per-call numpy overhead), so the one-deployment path is as fast as before.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["ceil", "floor", "is_array", "maximum", "minimum", "where"]

_ARRAY = np.ndarray


def is_array(*xs: Any) -> bool:
    """Whether any of ``xs`` is a numpy array (the batch path)."""
    for x in xs:
        if x.__class__ is _ARRAY:
            return True
    return False


def maximum(a: Any, b: Any) -> Any:
    if a.__class__ is _ARRAY or b.__class__ is _ARRAY:
        return np.maximum(a, b)
    return b if b > a else a  # as max(a, b)


def minimum(a: Any, b: Any) -> Any:
    if a.__class__ is _ARRAY or b.__class__ is _ARRAY:
        return np.minimum(a, b)
    return b if b < a else a  # as min(a, b)


def where(cond: Any, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` holds, else ``b`` (on arrays both sides are evaluated: keep them
    finite)."""
    if cond.__class__ is _ARRAY or a.__class__ is _ARRAY or b.__class__ is _ARRAY:
        return np.where(cond, a, b)
    return a if cond else b


def ceil(x: Any) -> Any:
    """Smallest integer not below ``x`` (an int, or a float array of integral values)."""
    return np.ceil(x) if x.__class__ is _ARRAY else math.ceil(x)


def floor(x: Any) -> Any:
    """Largest integer not above ``x`` (an int, or a float array of integral values)."""
    return np.floor(x) if x.__class__ is _ARRAY else math.floor(x)
