"""API offers: what a hosted model costs per token.

Prices come from the ``genai-prices`` package (offline, dated data that handles cached input,
tiers and batch variants), so truecost keeps no hand-written price table. A user TOML file can add
offers (an open model at a hosted provider) or override one; such offers carry their own source.

Billing rules (DESIGN.md): uncached input at the input price, cached input at the cache-read
price, reasoning tokens billed as output, batch processing at the provider's batch price.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache
from importlib.metadata import version
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat

from .catalog import load_toml, parse_entries
from .checks import finite_numbers
from .errors import InputError, UnknownNameError
from .provenance import Provenance

__all__ = ["Offer", "PriceTier", "load_offers", "offer", "offers"]

GENAI_PRICES = f"genai-prices {version('genai-prices')}"


@dataclass(frozen=True, slots=True)
class PriceTier:
    """An offer's prices for requests whose input tokens (cached included) exceed
    ``above_input_tokens``, up to the next tier: within a tier a request's price is linear in its
    tokens. Providers with long-context tiers charge the higher rate on *all* of a request's tokens
    once its input crosses the threshold (genai-prices' "cliff" rule)."""

    above_input_tokens: int  # the tier applies to requests with input tokens > this (-1: from 0)
    usd_per_mtok_input: float  # uncached input
    usd_per_mtok_cached_input: float
    usd_per_mtok_output: float  # output, reasoning included
    usd_per_request: float  # a fixed fee per request (a few search-backed models), else 0


@dataclass(frozen=True, slots=True)
class Offer:
    """A model sold per token by a provider. Prices are USD per million tokens."""

    key: str  # "provider/model"
    provider: str
    model: str
    usd_per_mtok_input: float
    usd_per_mtok_output: float
    usd_per_mtok_cached_input: float | None
    provenance: Provenance
    batch_discount: float | None = None  # user offers: fraction of list price paid in batch
    open_model: str | None = None  # catalog key of the open-weight model behind it, if any
    _genai: bool = field(default=False, repr=False)
    _genai_batch: bool = field(default=False, repr=False)  # genai-prices has a batch variant

    @property
    def has_batch_price(self) -> bool:
        """Whether a batch price exists (genai-prices' batch variant, or a user batch_discount)."""
        return self._genai_batch or self.batch_discount is not None

    def request_usd(self, input_tokens: float, output_tokens: float, *, cached_input_tokens: float = 0,
                    reasoning_tokens: float = 0, batch: bool = False) -> float:
        """Price of one request. ``input_tokens`` includes the cached ones; ``output_tokens``
        excludes reasoning tokens, which are billed as output on top."""
        for what, n in (("input", input_tokens), ("output", output_tokens),
                        ("cached input", cached_input_tokens), ("reasoning", reasoning_tokens)):
            if n < 0:
                raise InputError(f"{what} tokens must be >= 0, got {n:g}")
        if cached_input_tokens > input_tokens:
            raise InputError(f"cached input tokens ({cached_input_tokens:g}) exceed input tokens "
                             f"({input_tokens:g})")
        billed_out = output_tokens + reasoning_tokens
        if self._genai:
            from genai_prices import Usage, calc_price

            if batch and not self._genai_batch:
                raise InputError(f"{self.key} has no batch price in {GENAI_PRICES}; add an offer "
                                 f"with batch_discount to the workload's offers_file")
            usage = Usage(input_tokens=round(input_tokens), cache_read_tokens=round(cached_input_tokens),
                          output_tokens=round(billed_out))
            ctx = {"processing": "batch"} if batch else None
            try:
                calc = calc_price(usage, self.model, provider_id=self.provider, price_context=ctx,
                                  genai_request_timestamp=price_time())
            except LookupError as e:  # pragma: no cover - offers are resolved before pricing
                raise UnknownNameError("offer", self.key, []) from e
            return float(calc.total_price)
        cached_price = (self.usd_per_mtok_cached_input if self.usd_per_mtok_cached_input is not None
                        else self.usd_per_mtok_input)
        usd = ((input_tokens - cached_input_tokens) * self.usd_per_mtok_input
               + cached_input_tokens * cached_price + billed_out * self.usd_per_mtok_output) / 1e6
        if batch:
            if self.batch_discount is None:
                raise InputError(f"{self.key} has no batch_discount; set it in the offers file")
            usd *= self.batch_discount
        return usd

    # Applied by assignment, not as ``@``: mutmut skips decorated functions (mutation/README.md).
    request_usd = finite_numbers()(request_usd)

    def usd_per_mtok(self, *, batch: bool = False) -> tuple[float, float]:
        """(input, output) USD per million tokens at the base tier: the list prices, or with
        ``batch`` the batch prices a batch request is charged (priced on 1,000 tokens, so a
        tier that starts above that does not apply)."""
        if not batch:
            return self.usd_per_mtok_input, self.usd_per_mtok_output
        k = 1000
        return (self.request_usd(k, 0, batch=True) * 1e6 / k,
                self.request_usd(0, k, batch=True) * 1e6 / k)


    def tiers(self) -> list[PriceTier]:
        """The offer's prices as linear tiers by a request's input tokens, lowest first, for
        pricing many requests at once (``truecost.usage`` re-prices logs with them in SQL). Sums
        over requests priced this way equal the sum of ``request_usd`` (tested), batch excluded."""
        if self._genai:
            return _genai_tiers(self.provider, self.model)
        cached = (self.usd_per_mtok_cached_input if self.usd_per_mtok_cached_input is not None
                  else self.usd_per_mtok_input)
        return [PriceTier(-1, self.usd_per_mtok_input, cached, self.usd_per_mtok_output, 0.0)]


class OfferEntry(BaseModel):
    """An offer in a user TOML file (table name = ``provider/model``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    usd_per_mtok_input: NonNegativeFloat
    usd_per_mtok_output: NonNegativeFloat
    usd_per_mtok_cached_input: NonNegativeFloat | None = None
    batch_discount: float | None = Field(None, gt=0, le=1)
    open_model: str | None = None
    source: str
    as_of: date


def load_offers(path: Path | str) -> dict[str, Offer]:
    """Offers from a user TOML file: ``["together/llama-3.1-70b"]`` tables with prices, source
    and ``as_of``. They take precedence over genai-prices for the same key."""
    entries = parse_entries(load_toml(path), OfferEntry, str(path))
    out = {}
    for key, e in entries.items():
        provider, _, model = key.partition("/")
        out[key.lower()] = Offer(
            key=key, provider=provider, model=model or key, usd_per_mtok_input=e.usd_per_mtok_input,
            usd_per_mtok_output=e.usd_per_mtok_output, usd_per_mtok_cached_input=e.usd_per_mtok_cached_input,
            provenance=Provenance.catalog(e.source, e.as_of), batch_discount=e.batch_discount,
            open_model=e.open_model)
    return out


def price_time() -> datetime:
    """The moment list prices are read at: 12:00 UTC today. genai-prices carries prices that
    depend on the time of day (DeepSeek's off-peak discount, 16:30-00:30 UTC) and on the date (a
    new price from a start date); pricing at a fixed hour of the day keeps a comparison from
    changing with the hour it is run, at the provider's standard (peak) rate."""
    return datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC)


def _base(price: object) -> float | None:
    """The base (first-tier) price of a genai-prices field, as a float."""
    if price is None:
        return None
    return float(getattr(price, "base", price))


@cache
def _genai_index() -> dict[str, tuple[str, str]]:
    """``provider/model-id`` (lower case) → (provider id, model id), for every text model."""
    import genai_prices.data as data

    return {f"{p.id}/{m.id}".lower(): (p.id, m.id) for p in data.providers for m in p.models}


def _genai_offer(provider_id: str, model_ref: str) -> Offer | None:
    from genai_prices.data_snapshot import get_snapshot

    try:
        provider, info = get_snapshot().find_provider_model(model_ref, None, provider_id or None, None)
    except LookupError:
        return None
    return _offer_from(provider, info)


def _offer_from(provider: object, info: object) -> Offer | None:
    """The offer of one genai-prices provider/model entry; None when it has no token prices."""
    prices = info.get_prices(price_time())
    p_in, p_out = _base(getattr(prices, "input_mtok", None)), _base(getattr(prices, "output_mtok", None))
    if p_in is None or p_out is None:
        return None
    urls = provider.pricing_urls or []
    return Offer(
        key=f"{provider.id}/{info.id}", provider=provider.id, model=info.id,
        usd_per_mtok_input=p_in, usd_per_mtok_output=p_out,
        usd_per_mtok_cached_input=_base(getattr(prices, "cache_read_mtok", None)),
        provenance=Provenance("catalog", f"{GENAI_PRICES} ({urls[0] if urls else provider.name})"),
        _genai=True,
        _genai_batch=any(v.when.get("processing") == "batch" for v in info.price_variants or ()),
    )


def offers(provider: str | None = None, search: str | None = None, *,
           extra: dict[str, Offer] | None = None, deprecated: bool = False) -> list[Offer]:
    """Every offer truecost can price, sorted by key: the genai-prices snapshot (models it marks
    deprecated only with ``deprecated``) plus ``extra`` (from ``load_offers``, which win on the
    same key). ``provider`` keeps one provider (``openai``); ``search`` keeps offers whose key
    or model name contains the text (case-insensitive).

    >>> [o.key for o in offers("openai", "gpt-4o-mini")][:1]  # doctest: +SKIP
    ['openai/gpt-4o-mini']
    """
    import genai_prices.data as data

    found: dict[str, Offer] = {}
    for p in data.providers:
        for m in p.models:
            if m.deprecated and not deprecated:
                continue
            if (o := _offer_from(p, m)) is not None:
                found[o.key.lower()] = o
    found |= {k.lower(): o for k, o in (extra or {}).items()}
    if provider is not None:
        providers = {o.provider.lower() for o in found.values()}
        if provider.lower() not in providers:
            raise UnknownNameError("provider", provider, providers)
        found = {k: o for k, o in found.items() if o.provider.lower() == provider.lower()}
    if search:
        text = search.lower()
        names = {p.id: {m.id: (m.name or "") for m in p.models} for p in data.providers}
        found = {k: o for k, o in found.items()
                 if text in k or text in names.get(o.provider, {}).get(o.model, "").lower()}
    return [found[k] for k in sorted(found)]


def _genai_tiers(provider_id: str, model_id: str) -> list[PriceTier]:
    """Tiers from genai-prices' current price of a model: each tiered price key (input, cache
    read, output) switches at its own thresholds, so the tiers are cut at every threshold. A
    missing cache-read price bills cached input at the input price, as genai-prices does."""
    from genai_prices.data_snapshot import get_snapshot

    _, info = get_snapshot().find_provider_model(model_id, None, provider_id, None)
    price = info.get_prices(price_time())

    def at(value: object, input_tokens: int) -> float | None:
        if value is None:
            return None
        tiers = getattr(value, "tiers", None)
        if tiers is None:
            return float(value)  # type: ignore[arg-type]
        applicable = value.base  # type: ignore[attr-defined]
        for t in tiers:  # ascending; a request pays the rate of the highest tier it exceeds
            if input_tokens > t.start:
                applicable = t.price
        return float(applicable)

    starts = sorted({t.start for v in (price.input_mtok, price.cache_read_mtok, price.output_mtok)
                     for t in (getattr(v, "tiers", None) or ())})
    per_request = float(price.requests_kcount) / 1000 if price.requests_kcount is not None else 0.0
    out = []
    for above in [-1, *starts]:
        probe = above + 1  # any input count inside the tier picks the same rates
        p_in = at(price.input_mtok, probe) or 0.0
        p_cached = at(price.cache_read_mtok, probe)
        out.append(PriceTier(above, p_in, p_in if p_cached is None else p_cached,
                             at(price.output_mtok, probe) or 0.0, per_request))
    return out


def offer(name: str, extra: dict[str, Offer] | None = None) -> Offer:
    """An offer by ``provider/model`` (``openai/gpt-4o``) or by model alone (``gpt-4o``, resolved
    to the provider genai-prices associates with it). ``extra`` (from ``load_offers``) wins."""
    extra = extra or {}
    low = name.lower()
    if low in extra:
        return extra[low]
    provider, sep, model_ref = name.partition("/")
    found = _genai_offer(provider, model_ref) if sep else _genai_offer("", name)
    if found is None and sep:  # model ids with a slash ("meta-llama/...") at an inferred provider
        found = _genai_offer("", name)
    if found is None:
        index = _genai_index()
        if low in index:  # listed, but not priced per token (a free tier, or priced another way)
            raise InputError(f"'{name}' is in {GENAI_PRICES} without both an input and an output token price (an "
                             f"embedding model, a free tier, or priced another way): not an offer truecost can "
                             f"price; give its prices in an offers file (usd_per_mtok_input, usd_per_mtok_output)")
        known = list(extra) + list(index)
        close = [k for k in difflib.get_close_matches(low, known, n=10, cutoff=0.6)
                 if k in extra or _genai_offer(*index[k]) is not None][:3]  # only names that price
        raise UnknownNameError("offer", name, close or known)
    return found
