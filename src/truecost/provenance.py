"""Where a number came from: measured, modelled, or a catalog entry (source and date).

Every figure truecost prints or stores carries one of these, so a renderer cannot drop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = ["Provenance"]

Kind = Literal["measured", "modelled", "catalog", "input"]


@dataclass(frozen=True, slots=True)
class Provenance:
    """``kind`` says how the figure was obtained; ``detail`` says from what.

    - ``measured``: a run id (``bench`` results)
    - ``modelled``: the model and calibration (``roofline v1, engine trtllm-h100``)
    - ``catalog``: ``source@date`` of the catalog entry
    - ``input``: given by the user (a workload file, a CLI flag)
    """

    kind: Kind
    detail: str

    @classmethod
    def catalog(cls, source: str, as_of: date | str) -> Provenance:
        return cls("catalog", f"{source}@{as_of}")

    def __str__(self) -> str:
        return f"{self.kind}:{self.detail}"
