"""Shipped catalogs (GPUs, model architectures, engine profiles) and user catalog files.

Catalogs are TOML files in ``truecost/catalog/data``; every entry names its source and date and is
validated on load (unknown keys are errors). A user can pass their own TOML file wherever a name
is accepted (``--model ./my-model.toml``, ``--gpu ./my-gpu.toml``).
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from datetime import date

from pydantic import BaseModel, ConfigDict, ValidationError

from ..arch import ModelArch
from ..checks import read_bytes
from ..errors import CatalogError, InputError, UnknownNameError
from ..hardware import GPU
from ..provenance import Provenance

__all__ = ["Sourced", "data_file", "gpu", "gpus", "load_toml", "lookup", "model", "models", "parse_entries",
           "shipped"]

T = TypeVar("T", bound=BaseModel)


class Sourced(BaseModel):
    """A catalog entry that is one sourced, dated figure or option (training.toml,
    shared_compute.toml tables); subclasses add the values."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    source: str
    as_of: date
    note: str = ""

    @property
    def provenance(self) -> Provenance:
        return Provenance.catalog(self.source, self.as_of)


def load_toml(path: Path | str) -> dict[str, Any]:
    """Read a TOML file, turning I/O and syntax errors into one-line ``CatalogError``s. A path
    that is not a regular UTF-8 file, and a number that is not finite (TOML allows ``inf`` and
    ``nan``), are errors too: no value truecost reads from a file may be infinite."""
    path = Path(path)
    data = read_bytes(path, "TOML", CatalogError)
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise CatalogError(f"{path}: not a UTF-8 text file (byte {e.start} is not text); give a "
                           f"TOML file") from None
    except tomllib.TOMLDecodeError as e:
        raise CatalogError(f"{path}: invalid TOML: {e}") from None
    except RecursionError:
        raise CatalogError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None
    bad = next(_non_finite(doc), None)
    if bad is not None:
        raise CatalogError(f"{path}: {bad[0]}: {bad[1]} is not a number truecost can use; give "
                           f"a finite value")
    return doc


def _non_finite(value: Any, where: str = "") -> Any:
    """(key path, value) of every float in a TOML document that is nan or ±inf."""
    if isinstance(value, float) and not math.isfinite(value):
        yield where or "value", value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _non_finite(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _non_finite(v, f"{where}[{i}]")


def validation_message(where: str, err: ValidationError) -> str:
    """The first problem of a pydantic error as ``where: key 'x' ...``, one line."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"{where}: unknown key '{loc}'"
    if first["type"] == "missing":
        return f"{where}: missing key '{loc}'"
    msg = first["msg"].replace("Value error, ", "")
    return f"{where}: {loc + ': ' if loc else ''}{msg}"


def parse_entries(data: dict[str, Any], cls: type[T], origin: str) -> dict[str, T]:
    """Each top-level table of ``data`` is one entry whose key is the table name."""
    out: dict[str, T] = {}
    for key, table in data.items():
        if not isinstance(table, dict):
            raise CatalogError(f"{origin}: '{key}' should be a table ([{key}]), got a value")
        try:
            out[key] = cls.model_validate({"key": key, **table})
        except ValidationError as e:
            raise CatalogError(validation_message(f"{origin} [{key}]", e)) from None
    return out


def _load_user_file(path: Path, cls: type[T]) -> T:
    data = load_toml(path)
    if data and all(isinstance(v, dict) for v in data.values()) and len(data) == 1:
        return next(iter(parse_entries(data, cls, str(path)).values()))
    return parse_entries({path.stem: data}, cls, str(path))[path.stem]


def data_file(name: str) -> Path:
    """A file shipped in ``truecost/catalog/data`` (``"validation/serving_published.csv"``)."""
    return Path(str(resources.files(__package__) / "data" / name))


@cache
def shipped(filename: str, cls: type[T]) -> dict[str, T]:
    ref = resources.files(__package__) / "data" / filename
    with resources.as_file(ref) as p:
        return parse_entries(load_toml(p), cls, f"catalog/{filename}")


def lookup(name: str, table: dict[str, T], kind: str, cls: type[T]) -> T:
    """An entry by key, alias or Hugging Face id; failing those, a path to a TOML file."""
    low = name.strip().lower()
    if not low:
        raise InputError(f"empty {kind} name; give a catalog name or a file path")
    if low in table:
        return table[low]
    for entry in table.values():
        if low in (a.lower() for a in getattr(entry, "aliases", ())):
            return entry
        hf_id = getattr(entry, "hf_id", None)
        if hf_id and low == hf_id.lower():  # an entry without an HF id matches no name
            return entry
    if name.endswith(".toml") or "/" in name:
        return _load_user_file(Path(name), cls)
    raise UnknownNameError(kind, name, table)


def gpus() -> dict[str, GPU]:
    """All shipped GPUs by key."""
    return dict(shipped("gpus.toml", GPU))


def models() -> dict[str, ModelArch]:
    """All shipped model architectures by key."""
    return dict(shipped("models.toml", ModelArch))


def gpu(name: str | GPU) -> GPU:
    """A GPU by key or alias (``h100``, ``H100-SXM-80GB``), or from a TOML file path."""
    if isinstance(name, GPU):
        return name
    return lookup(name, shipped("gpus.toml", GPU), "GPU", GPU)


def model(name: str | ModelArch) -> ModelArch:
    """A model by key or Hugging Face id (``meta-llama/Llama-3.1-8B``), from a file (a TOML entry,
    a Hugging Face ``config.json`` or a folder holding one), or from the Hub
    (``hf:ORG/NAME[@REVISION]``).

    >>> model("hf:Qwen/Qwen3-32B").params_total  # needs the network  # doctest: +SKIP
    32762123264
    """
    if isinstance(name, ModelArch):
        return name
    from . import hub

    if name.startswith("hf:"):
        return hub.model_from_hub(name[3:])
    if name.lower().endswith(".json"):
        return hub.load_config(name)
    if Path(name).is_dir() and (Path(name) / "config.json").is_file():  # a downloaded snapshot
        return hub.load_config(Path(name) / "config.json")
    table = shipped("models.toml", ModelArch)
    if ("/" in name and not name.lower().endswith(".toml") and not Path(name).exists()
            and hub.looks_like_repo(name)):
        try:
            return lookup(name, table, "model", ModelArch)
        except CatalogError:  # not a shipped HF id and no such file
            raise UnknownNameError("model", name, table, hint=(
                f"not in the catalog and no such file; fetch its config with --model hf:{name}, "
                f"or pass a config.json path")) from None
    return lookup(name, table, "model", ModelArch)
