import pytest

from truecost.errors import InputError, UnknownNameError
from truecost.prices import load_offers, offer


def test_api_request_price_by_hand():
    o = offer("openai/gpt-4o")  # genai-prices: $2.50 in, $1.25 cached in, $10 out per 1M tokens
    assert (o.usd_per_mtok_input, o.usd_per_mtok_cached_input, o.usd_per_mtok_output) == (2.5, 1.25, 10.0)
    usd = o.request_usd(1000, 200, cached_input_tokens=400, reasoning_tokens=300)
    assert usd == pytest.approx((600 * 2.5 + 400 * 1.25 + (200 + 300) * 10) / 1e6)


def test_reasoning_is_billed_as_output():
    o = offer("gpt-4o-mini")
    assert o.request_usd(100, 0, reasoning_tokens=500) == pytest.approx(o.request_usd(100, 500))


def test_batch_price_from_genai_prices():
    o = offer("openai/gpt-4o")
    assert o.request_usd(1e6, 1e6, batch=True) == pytest.approx(0.5 * o.request_usd(1e6, 1e6))


def _offers_file(tmp_path, text: str):
    f = tmp_path / "offers.toml"
    f.write_text(text)
    return f


def test_user_offers_override_and_batch_discount(tmp_path):
    f = _offers_file(tmp_path, '["myhost/llama-3.1-70b"]\nusd_per_mtok_input = 0.5\nusd_per_mtok_output = 1.0\n'
                 'batch_discount = 0.6\nopen_model = "llama-3.1-70b"\nsource = "myhost price page"\n'
                 'as_of = 2026-11-01\n')
    extra = load_offers(f)
    o = offer("myhost/llama-3.1-70b", extra)
    assert o.request_usd(1e6, 1e6) == pytest.approx(1.5)
    assert o.request_usd(1e6, 1e6, batch=True) == pytest.approx(0.9)
    assert str(o.provenance) == "catalog:myhost price page@2026-11-01"


def test_unknown_offer_names_the_nearest():
    with pytest.raises(UnknownNameError) as e:
        offer("openai/gpt-4oo")
    assert str(e.value).startswith("unknown offer 'openai/gpt-4oo'; did you mean openai/gpt-4o")


def test_cached_above_input_is_an_error():
    with pytest.raises(InputError, match="cached input tokens"):
        offer("gpt-4o").request_usd(10, 10, cached_input_tokens=20)


def test_no_batch_price_is_an_error_naming_the_fix():
    with pytest.raises(InputError) as e:
        offer("anthropic/claude-sonnet-4-0").request_usd(1000, 100, batch=True)
    assert str(e.value) == ("anthropic/claude-sonnet-4-0 has no batch price in genai-prices 0.2.3; "
                            "add an offer with batch_discount to the workload's offers_file")


def test_user_offer_keys_split_provider_from_model(tmp_path):
    f = _offers_file(tmp_path, '["host/meta-llama/Llama-3.1-8B"]\nusd_per_mtok_input = 0.1\nusd_per_mtok_output = 0.2\n'
                 'open_model = "llama-3.1-8b"\nsource = "s"\nas_of = 2026-11-01\n'
                 '["solo"]\nusd_per_mtok_input = 1\nusd_per_mtok_output = 2\nsource = "s"\nas_of = 2026-11-01\n')
    offers = load_offers(f)
    o = offers["host/meta-llama/llama-3.1-8b"]  # looked up in lower case
    assert (o.key, o.provider, o.model, o.open_model) == (
        "host/meta-llama/Llama-3.1-8B", "host", "meta-llama/Llama-3.1-8B", "llama-3.1-8b")
    solo = offers["solo"]
    assert (solo.provider, solo.model, solo.usd_per_mtok_cached_input, solo.batch_discount) == ("solo", "solo", None, None)
    assert solo.request_usd(1e6, 0, cached_input_tokens=5e5) == pytest.approx(1.0)  # no cache price: full


def test_offers_file_errors_name_the_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('["x/y"]\nusd_per_mtok_input = 1\nusd_per_mtok_output = 2\nsource = "s"\nas_of = 2026-11-01\n'
                 'typo = 1\n')
    with pytest.raises(Exception) as e:
        load_offers(f)
    assert str(e.value) == f"{f} [x/y]: unknown key 'typo'"


def test_tiered_prices_follow_the_published_tiers():
    # Google's published Gemini 1.5 Pro prices: $1.25 / $5 per 1M tokens up to 128k input tokens,
    # $2.50 / $10 above
    o = offer("google/gemini-1.5-pro")
    assert (o.usd_per_mtok_input, o.usd_per_mtok_output) == (1.25, 5.0)  # the base tier
    assert o.request_usd(100_000, 1_000) == pytest.approx((100_000 * 1.25 + 1_000 * 5.0) / 1e6)
    assert o.request_usd(300_000, 1_000) == pytest.approx((300_000 * 2.5 + 1_000 * 10.0) / 1e6)


def test_cache_reads_at_the_published_price():
    # Anthropic's published Claude Sonnet 4 prices: $3 in, $0.30 cache read, $15 out per 1M tokens
    o = offer("anthropic/claude-sonnet-4-0")
    assert (o.usd_per_mtok_input, o.usd_per_mtok_cached_input, o.usd_per_mtok_output) == (3.0, 0.3, 15.0)
    assert o.request_usd(1000, 100, cached_input_tokens=500) == pytest.approx(
        (500 * 3.0 + 500 * 0.3 + 100 * 15.0) / 1e6, rel=1e-12)


def test_offers_resolve_by_model_alone_and_by_ids_with_slashes():
    o = offer("gpt-4o")
    assert (o.key, o.provider, o.model) == ("openai/gpt-4o", "openai", "gpt-4o")
    assert str(o.provenance).startswith("catalog:genai-prices 0.2.3 (https://")
    slashed = offer("arcee/deepseek/deepseek-v4-pro")  # a model id that has a slash itself
    assert slashed.key == "arcee/deepseek/deepseek-v4-pro" and slashed.provider == "arcee"
    with pytest.raises(UnknownNameError) as e:
        offer("zzzz/qqqq")
    assert str(e.value).startswith("unknown offer 'zzzz/qqqq'; known offers: ")


def test_no_cached_tokens_unless_given(tmp_path):
    f = _offers_file(tmp_path, '["x/y"]\nusd_per_mtok_input = 2.0\nusd_per_mtok_cached_input = 0.5\n'
                               'usd_per_mtok_output = 8.0\nsource = "s"\nas_of = 2026-11-01\n')
    o = load_offers(f)["x/y"]
    assert o.request_usd(1000, 100) == pytest.approx((1000 * 2.0 + 100 * 8.0) / 1e6, rel=1e-12)


@pytest.mark.parametrize("kw, message", [
    ({"input_tokens": -1}, "input tokens must be >= 0, got -1"),
    ({"output_tokens": -2}, "output tokens must be >= 0, got -2"),
    ({"cached_input_tokens": -3}, "cached input tokens must be >= 0, got -3"),
    ({"reasoning_tokens": -4.5}, "reasoning tokens must be >= 0, got -4.5"),
])
def test_negative_token_counts_are_refused_by_name(kw, message):
    args = {"input_tokens": 10, "output_tokens": 10, **kw}
    with pytest.raises(InputError) as e:
        offer("openai/gpt-4o").request_usd(args.pop("input_tokens"), args.pop("output_tokens"), **args)
    assert str(e.value) == message


def test_a_user_offer_without_a_batch_discount_says_where_to_set_it(tmp_path):
    f = _offers_file(tmp_path, '["x/y"]\nusd_per_mtok_input = 2.0\nusd_per_mtok_output = 8.0\n'
                               'source = "s"\nas_of = 2026-11-01\n')
    with pytest.raises(InputError) as e:
        load_offers(f)["x/y"].request_usd(10, 10, batch=True)
    assert str(e.value) == "x/y has no batch_discount; set it in the offers file"


def test_a_user_offers_cached_price_bills_the_cached_input(tmp_path):
    """$2 in, $0.50 cached in, $8 out per 1M: 1,000 in of which 600 cached, 100 out =
    (400 × 2 + 600 × 0.5 + 100 × 8) / 1e6 = $0.0019."""
    f = _offers_file(tmp_path, '["x/y"]\nusd_per_mtok_input = 2.0\nusd_per_mtok_cached_input = 0.5\n'
                               'usd_per_mtok_output = 8.0\nsource = "s"\nas_of = 2026-11-01\n')
    o = load_offers(f)["x/y"]
    assert o.usd_per_mtok_cached_input == 0.5
    assert o.request_usd(1000, 100, cached_input_tokens=600) == pytest.approx(0.0019, rel=1e-12)


def test_a_catalog_offer_is_priced_at_its_own_providers_rate():
    """genai-prices 0.2.3 lists mixtral-8x7b-32768 at $0.24 per 1M input tokens on Groq; the same
    model id alone resolves to another provider's $0.70. A Groq offer pays Groq's price."""
    o = offer("groq/mixtral-8x7b-32768")
    assert o.usd_per_mtok_input == 0.24
    assert o.request_usd(1e6, 0) == pytest.approx(0.24)


def test_a_catalog_offer_genai_prices_cannot_price_is_an_unknown_offer():
    from truecost.prices import Offer
    from truecost.provenance import Provenance

    ghost = Offer(key="nowhere/ghost", provider="nowhere", model="ghost-model-zzz", usd_per_mtok_input=1.0,
                  usd_per_mtok_output=1.0, usd_per_mtok_cached_input=None, provenance=Provenance("input", "t"),
                  _genai=True)
    with pytest.raises(UnknownNameError) as e:
        ghost.request_usd(10, 10)
    assert (e.value.kind, e.value.name) == ("offer", "nowhere/ghost")
    assert str(e.value) == "unknown offer 'nowhere/ghost'; there are no offers yet"


def test_a_model_without_token_prices_is_not_an_offer():
    """Embedding models in genai-prices have an input price and no output price: not an offer,
    and the error says why rather than calling a listed name unknown."""
    with pytest.raises(InputError, match=r"^'azure/text-embedding-3-small' is in genai-prices 0.2.3 without "
                                         r"both an input and an output token price") as e:
        offer("azure/text-embedding-3-small")
    assert not isinstance(e.value, UnknownNameError)
    from truecost.prices import offers

    assert [o.key for o in offers("azure", "text-embedding")] == []


def test_variants_other_than_batch_are_no_batch_price():
    """gpt-5.3-codex has service-tier variants in genai-prices 0.2.3 and no batch one."""
    assert offer("openai/gpt-5.3-codex").has_batch_price is False
    assert offer("openai/gpt-4o").has_batch_price is True


def test_an_unknown_offer_suggests_only_close_names():
    """'deepseek/chat' is within 0.6 similarity of one offer only; looser matches are not offered."""
    with pytest.raises(UnknownNameError) as e:
        offer("deepseek/chat")
    assert str(e.value) == "unknown offer 'deepseek/chat'; did you mean deepseek/deepseek-chat?"


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Etc/GMT-14"])
def test_prices_are_read_at_noon_utc_today_whatever_the_local_zone(zone, monkeypatch):
    """price_time(): 12:00 UTC of today's UTC date. At any hour, one of UTC-12 and UTC+14 is on
    another date than UTC, so a local date would show."""
    import time as _time
    from datetime import UTC, datetime

    from truecost.prices import price_time

    monkeypatch.setenv("TZ", zone)
    _time.tzset()
    try:
        t = price_time()
        today = datetime.now(UTC).date()
    finally:
        monkeypatch.undo()
        _time.tzset()
    assert t.utcoffset() is not None and t.utcoffset().total_seconds() == 0
    assert (t.date(), t.hour, t.minute, t.second) == (today, 12, 0, 0)


def test_list_and_batch_prices_per_million_tokens(tmp_path):
    """gpt-4o: $2.50 in, $10 out per 1M; OpenAI's Batch API halves both: $1.25, $5. A user offer
    at $0.50/$1.00 with batch_discount 0.6 pays $0.30/$0.60 in batch."""
    o = offer("openai/gpt-4o")
    assert o.usd_per_mtok() == (2.5, 10.0)
    assert o.usd_per_mtok(batch=True) == pytest.approx((1.25, 5.0), rel=1e-12)
    f = _offers_file(tmp_path, '["h/m"]\nusd_per_mtok_input = 0.5\nusd_per_mtok_output = 1.0\n'
                               'batch_discount = 0.6\nsource = "s"\nas_of = 2026-11-01\n')
    assert load_offers(f)["h/m"].usd_per_mtok(batch=True) == pytest.approx((0.3, 0.6), rel=1e-12)


def test_tiers_are_cut_at_the_published_thresholds():
    """gemini-2.5-pro in genai-prices 0.2.3 (Google's price page): up to 200k input tokens $1.25
    in, $0.125 cached, $10 out per 1M; above 200k $2.50, $0.25, $15. No per-request fee."""
    from truecost.prices import PriceTier

    assert offer("google/gemini-2.5-pro").tiers() == [PriceTier(-1, 1.25, 0.125, 10.0, 0.0),
                                                      PriceTier(200_000, 2.5, 0.25, 15.0, 0.0)]


def _evening(real_datetime):
    """A ``datetime`` whose ``now(tz)`` is 20:00 UTC today, inside DeepSeek's off-peak window
    (16:30-00:30 UTC); the naive ``now()`` (genai-prices' snapshot expiry) stays the real one."""

    class Evening(real_datetime):
        @classmethod
        def now(cls, tz=None):
            from datetime import UTC, time

            if tz is None:
                return real_datetime.now()
            return real_datetime.combine(real_datetime.now(UTC).date(), time(20), tzinfo=UTC)

    return Evening


def test_deepseek_is_priced_at_its_standard_rate_whatever_the_hour(monkeypatch):
    """genai-prices 0.2.3: deepseek-chat costs $0.27 in, $0.07 cached, $1.10 out per 1M from 00:30
    to 16:30 UTC and half that off-peak. Prices are read at 12:00 UTC (price_time), so a request
    priced in the evening pays the standard rate."""
    import genai_prices.data_snapshot as snapshot
    import genai_prices.types as genai_types
    from genai_prices import Usage, calc_price

    from truecost.prices import PriceTier

    for module in (snapshot, genai_types):
        monkeypatch.setattr(module, "datetime", _evening(module.datetime))
    # the clock bites: genai-prices' own default time is off-peak now
    assert float(calc_price(Usage(input_tokens=1_000_000), "deepseek-chat", provider_id="deepseek").total_price) \
        == pytest.approx(0.135)
    o = offer("deepseek/deepseek-chat")
    assert (o.usd_per_mtok_input, o.usd_per_mtok_cached_input, o.usd_per_mtok_output) == (0.27, 0.07, 1.1)
    assert o.request_usd(1e6, 1e6) == pytest.approx(0.27 + 1.1)
    assert o.tiers() == [PriceTier(-1, 0.27, 0.07, 1.1, 0.0)]


def test_offers_leave_out_deprecated_models_unless_asked():
    from truecost.prices import offers

    key = "avian/Meta-Llama-3.1-8B-Instruct"  # marked deprecated in genai-prices 0.2.3
    assert key not in {o.key for o in offers("avian")}
    assert key in {o.key for o in offers("avian", deprecated=True)}


def test_offers_search_the_display_name_too():
    """'sonnet 4' is in claude-sonnet-4-0's name ("Claude Sonnet 4"), not in its key."""
    from truecost.prices import offers

    assert "anthropic/claude-sonnet-4-0" in {o.key for o in offers("anthropic", "sonnet 4")}
    assert offers(search="xxxx") == []  # models without a display name match nothing extra


def test_a_user_offer_replaces_the_catalogs_whatever_its_case(tmp_path):
    from truecost.prices import offers

    f = _offers_file(tmp_path, '["OpenAI/GPT-4o"]\nusd_per_mtok_input = 1.0\nusd_per_mtok_output = 2.0\n'
                               'source = "my contract"\nas_of = 2026-11-01\n')
    same = [o for o in offers("openai", "gpt-4o", extra=load_offers(f)) if o.key.lower() == "openai/gpt-4o"]
    assert [(o.key, o.usd_per_mtok_input) for o in same] == [("OpenAI/GPT-4o", 1.0)]


def test_a_model_id_with_a_slash_resolves_at_its_inferred_provider():
    """'@cf/aisingapore/...' is a Cloudflare model id: '@cf' is no provider."""
    o = offer("@cf/aisingapore/gemma-sea-lion-v4-27b-it")
    assert (o.provider, o.key) == ("cloudflare", "cloudflare/@cf/aisingapore/gemma-sea-lion-v4-27b-it")


def test_a_user_offer_is_one_tier_and_search_reads_no_name_for_it(tmp_path):
    """A user offer has no tiers: one from the first token (above -1), cached input at the input
    price when none is given. genai-prices has no display name for it, so a search matches its
    key only."""
    from truecost.prices import PriceTier, offers

    f = _offers_file(tmp_path, '["myhost/my-model"]\nusd_per_mtok_input = 0.5\nusd_per_mtok_output = 1.0\n'
                               'source = "s"\nas_of = 2026-11-01\n')
    extra = load_offers(f)
    assert extra["myhost/my-model"].tiers() == [PriceTier(-1, 0.5, 0.5, 1.0, 0.0)]
    assert [o.key for o in offers(search="my-model", extra=extra)] == ["myhost/my-model"]
    assert offers(search="zzz-nowhere", extra=extra) == []
    assert offers(search="xxxx", extra=extra) == []


def test_a_listed_offer_without_token_prices_says_so_not_unknown():
    # genai-prices lists OpenRouter's free DeepSeek tier with no per-token prices: it was once
    # "unknown", with itself as the first suggestion
    with pytest.raises(InputError) as e:
        offer("openrouter/deepseek-chat:free")
    assert not isinstance(e.value, UnknownNameError)
    assert str(e.value) == ("'openrouter/deepseek-chat:free' is in genai-prices 0.2.3 without both an input and "
                            "an output token price (an embedding model, a free tier, or priced another way): not "
                            "an offer truecost can price; give its prices in an offers file (usd_per_mtok_input, "
                            "usd_per_mtok_output)")
    with pytest.raises(UnknownNameError) as e:  # suggestions are names that price
        offer("openrouter/deepseek-chat:fre")
    for name in str(e.value).split("did you mean ")[1].rstrip("?").split(", "):
        assert offer(name).usd_per_mtok_output >= 0
